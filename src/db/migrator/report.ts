/**
 * The report a failed latest or rollback run ends with: what it finished before the failure, what failed
 * and how, what stays committed, where the database stands and what to do next. It travels in the error's
 * details (`report`), so --json carries it, and its next step is the error's hint.
 */
import { GantryError } from '../../core/errors.js'
import type { PlanOutcome } from './run-plan.js'
import type { StepFailure, Step } from './runner.js'
import { bareName } from './source.js'
import type { AppliedRow } from './tracking.js'
import type { RunReport, TransactionMode } from './types.js'

/** What a report is made of: the run's outcome (with its failure), its mode, and where the failing set stands now. */
export interface ReportInput {
  readonly mode: TransactionMode
  readonly runs: PlanOutcome['runs']
  readonly failure: { readonly step: Step } & StepFailure
  /** The last row of the failing set's tracking table after the run. */
  readonly last: AppliedRow | undefined
  /** The command that goes on from here, e.g. `gantry migrate rollback --all`. */
  readonly rerun: string
}

const migrations = (n: number): string => `${n} migration${n === 1 ? '' : 's'}`

/** The report of a failed run. */
export function runReport(input: ReportInput): RunReport {
  const { mode, runs, failure, last } = input
  const { step } = failure
  const direction = step.direction
  const failed = `${step.file.set}/${step.file.name}`
  const at = last ? { set: step.file.set, name: bareName(last.name) } : null
  const kept = mode === 'each' ? runs.map((r) => ({ set: r.set, name: r.name })) : []
  const where = at ? `the database is at ${at.set}/${at.name}` : `no ${step.file.set} migration is applied`
  const undone = direction === 'up' ? 'applied' : 'rolled back'
  let state: string
  if (mode === 'batch') {
    const before = runs.length ? `: the ${migrations(runs.length)} that ran before ${failed} were undone with it` : ''
    state = `The run was one transaction and was rolled back whole${before}; ${where}, as before the run.`
  } else {
    const stays = runs.length ? `${migrations(runs.length)} of this run stay ${undone}` : `No migration of this run stays ${undone}`
    const half = failure.partial ? `; ${failed} is partial: the ${failure.ran.length} statement(s) under ran stay committed` : ''
    state = `${stays}${half}; ${where}.`
  }
  const file = direction === 'up' ? step.file.fileName : `the down of ${step.file.fileName}`
  const next = failure.partial
    ? `${failed} may be half-applied: compare the statements that ran with the schema and finish or undo them by hand, then run \`gantry migrate resolve ${step.file.name} --applied\` (or --rolled-back).`
    : `Fix ${file} and run \`${input.rerun}\` again: ${mode === 'batch' ? 'the whole run starts over' : `it goes on from ${failed}`}.`
  return {
    direction,
    transaction: mode,
    done: runs,
    failed: { set: step.file.set, name: step.file.name, statement: failure.statement, ran: [...failure.ran], partial: failure.partial },
    kept,
    at,
    state,
    next,
  }
}

/** The failure's error with the report in its details and the report's next step as its hint. */
export function withReport(error: GantryError, report: RunReport): GantryError {
  return new GantryError(error.code, error.message, { cause: error.cause, hint: report.next, details: { ...error.details, report } })
}
