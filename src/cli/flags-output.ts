/** How the flags commands show flags, rules, changes and explanations at a terminal (--json prints the results as they are). */
import type { FlagChange, FlagDefinition, FlagView, Serve } from '../core/flags/flags.schema.js'
import { ROLLOUT_BUCKETS } from '../core/flags/flags.schema.js'
import { describeWhen, formatWhen } from '../core/flags/condition-text.js'
import type { ExplainResult } from '../core/flags/flags.schema.js'
import type { Ui } from './ui.js'

const percent = (weight: number): string => `${(weight * 100) / ROLLOUT_BUCKETS}%`

/** What a rule serves, in a few words: `on`, or `rollout by userId: on 25%, off 75% (else off)`. */
export function describeServe(serve: Serve): string {
  if ('variant' in serve) return serve.variant
  const { by, variants, fallback } = serve.rollout
  return `rollout by ${by}: ${variants.map((v) => `${v.variant} ${percent(v.weight)}`).join(', ')} (without ${by}: ${fallback})`
}

export function printFlag(ui: Ui, flag: FlagView): void {
  ui.fields({
    key: flag.key,
    type: flag.type,
    state: flag.enabled ? 'on' : 'off',
    description: flag.description,
    variants: flag.variants.map((v) => `${v.name}=${JSON.stringify(v.value)}`).join(', '),
    default: flag.defaultVariant,
    'when off': flag.offVariant,
    lifetime: flag.stale ? `${flag.lifetime} (stale)` : flag.lifetime,
    created: `${flag.createdAt} by ${flag.createdBy}`,
    updated: flag.updatedAt,
  })
  ui.out()
  ui.table(
    flag.rules.map((rule, index) => ({ index, when: describeWhen(rule), serve: describeServe(rule.serve), description: rule.description })),
    [
      ['index', '#'],
      ['when', 'WHEN'],
      ['serve', 'SERVE'],
      ['description', 'DESCRIPTION'],
    ],
    { empty: `No rules: everyone gets ${flag.enabled ? flag.defaultVariant : flag.offVariant}. Add one with \`gantry flags rule add ${flag.key}\`.` },
  )
}

export function printChanges(ui: Ui, changes: readonly FlagChange[]): void {
  ui.table(
    changes.filter((c) => c.change !== 'unchanged'),
    [
      ['change', 'CHANGE'],
      ['kind', 'KIND'],
      ['name', 'NAME'],
    ],
    { empty: 'No change: the environment has these flags and segments already.' },
  )
}

/** The evaluation, then each rule: whether it matched and, when not, the first condition that did not hold. */
export function printExplanation(ui: Ui, { evaluation, explanation }: ExplainResult): void {
  const decidedBy =
    evaluation.ruleIndex === undefined
      ? ''
      : ` (rule ${evaluation.ruleIndex}${evaluation.bucket === undefined ? '' : `, bucket ${evaluation.bucket} of 100,000`})`
  ui.out(`${evaluation.key} = ${JSON.stringify(evaluation.value)}: variant ${evaluation.variant}, ${evaluation.reason}${decidedBy}`)
  if (!explanation.enabled) return ui.out('The flag is off: it serves its off variant to everyone.')
  ui.table(
    explanation.rules.map((rule) => {
      const failed = [...rule.conditions, ...rule.segments.flatMap((s) => (s.held ? [] : s.conditions))].find((c) => !c.held)
      const why = rule.matched
        ? 'matched'
        : !rule.valid
          ? 'invalid rule'
          : failed
            ? `${failed.attribute} is ${failed.actual === null ? 'absent' : JSON.stringify(failed.actual)}`
            : 'a segment did not hold'
      return {
        index: rule.index,
        when:
          formatWhen(
            rule.conditions,
            rule.segments.map((s) => s.name),
          ) || 'everyone',
        result: rule.index === evaluation.ruleIndex ? `${why} ← decides` : why,
      }
    }),
    [
      ['index', '#'],
      ['when', 'WHEN'],
      ['result', 'RESULT'],
    ],
    { empty: 'No rules: the default variant decides.' },
  )
}

/** The fields of a flag as a copy compares them: each rule as one line. */
function comparable(flag: FlagDefinition): Record<string, string> {
  return {
    state: flag.enabled ? 'on' : 'off',
    description: flag.description,
    variants: flag.variants.map((v) => `${v.name}=${JSON.stringify(v.value)}`).join(', '),
    default: flag.defaultVariant,
    'when off': flag.offVariant,
    lifetime: flag.lifetime,
    ...Object.fromEntries(flag.rules.map((rule, i) => [`rule ${i}`, `${describeWhen(rule)} -> ${describeServe(rule.serve)}`])),
  }
}

/** What a copy changes in `environment`: each field of the flag that differs, then the segments it brings. */
export function printFlagDiff(ui: Ui, before: FlagDefinition | undefined, after: FlagDefinition, changes: readonly FlagChange[], environment: string): void {
  if (!before) ui.out(`${environment} has no flag ${after.key}: it is created.`)
  const [old, next] = [before ? comparable(before) : {}, comparable(after)]
  const fields = [...new Set([...Object.keys(old), ...Object.keys(next)])].filter((f) => old[f] !== next[f])
  ui.table(
    fields.map((field) => ({ field, before: old[field] ?? '-', after: next[field] ?? '-' })),
    [
      ['field', 'FIELD'],
      ['before', `IN ${environment.toUpperCase()} NOW`],
      ['after', 'AFTER THE COPY'],
    ],
    { empty: `${environment} has this flag already, as it is.` },
  )
  const segments = changes.filter((c) => c.kind === 'segment' && c.change !== 'unchanged')
  for (const s of segments) ui.out(`Segment ${s.name} is ${s.change === 'create' ? 'created' : 'replaced'} (its rules name it).`)
}
