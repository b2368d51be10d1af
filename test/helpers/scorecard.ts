/**
 * The reliability scorecard (test/reliability): each scenario measures one figure, records it here and
 * then asserts its target, so a missed target is both in the table and a failed test. Under
 * `npm run test:reliability` (GANTRY_RELIABILITY=full) the scenarios run at the full scale and the
 * records are appended, one JSON line each, to GANTRY_SCORECARD, from which bench/reliability-table.mjs
 * writes bench/results/reliability.json and the table of docs/reliability.md. Under `npm test` the same
 * scenarios run at a reduced scale and record nothing unless GANTRY_SCORECARD is set.
 */
import { appendFileSync } from 'node:fs'

/** True under `npm run test:reliability`: the full rounds, not the reduced form `npm test` runs. */
export const FULL_SCALE = process.env.GANTRY_RELIABILITY === 'full'

/** `full` under `npm run test:reliability`, `reduced` under `npm test`. */
export function atScale<T>(full: T, reduced: T): T {
  return FULL_SCALE ? full : reduced
}

/** What a row of the docs/reliability.md table says the figure shows. */
export type Area = 'load held' | 'faults survived' | 'bad inputs tried' | 'nothing lost'

export type Comparison = '=' | '<=' | '<' | '>='

export interface Measurement {
  /** Stable, kebab-case: one row of the table per id. */
  readonly id: string
  readonly area: Area
  /** What was measured, as a reader of docs/reliability.md needs it: "requests admitted over the GCRA bound". */
  readonly what: string
  /** How much was tried: "4 instances on one private Redis, 2,000 requests at 10× the rule's rate". */
  readonly tried: string
  readonly value: number
  /** "requests", "ms", "hits" … */
  readonly unit: string
  readonly target: { readonly comparison: Comparison; readonly value: number }
  /** Why the target is missed and what would reach it, when it is (listed under the docs/reliability.md table). */
  readonly whenMissed?: string
  /** Further figures kept in reliability.json (not in the table). */
  readonly detail?: Readonly<Record<string, unknown>>
}

/** Whether `value` meets `target`. */
export function meets(value: number, target: Measurement['target']): boolean {
  switch (target.comparison) {
    case '=':
      return value === target.value
    case '<=':
      return value <= target.value
    case '<':
      return value < target.value
    case '>=':
      return value >= target.value
  }
}

/** Records one figure (a JSON line in GANTRY_SCORECARD when set) and returns whether it met its target. */
export function record(measurement: Measurement): boolean {
  const met = meets(measurement.value, measurement.target)
  const file = process.env.GANTRY_SCORECARD
  if (file) appendFileSync(file, `${JSON.stringify({ ...measurement, met, full: FULL_SCALE, at: new Date().toISOString() })}\n`)
  return met
}
