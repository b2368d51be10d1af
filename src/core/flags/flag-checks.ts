/**
 * What a flag or segment must satisfy beyond its zod schema: names that point at something that exists,
 * rollouts that divide every bucket, variant values of the flag's type and condition values its operator
 * can read. Each problem names its place (`rules[2].serve.rollout.variants[1].variant`), so every door can
 * point at it.
 */
import { ROLLOUT_BUCKETS, type Condition, type FlagDefinition, type FlagType, type JsonValue, type Rollout, type SegmentDefinition } from './flags.schema.js'
import { valueProblem } from './operators.js'

export interface FlagProblem {
  readonly path: string
  readonly message: string
}

const VALUE_TYPES: Readonly<Record<FlagType, (value: JsonValue) => boolean>> = {
  boolean: (value) => typeof value === 'boolean',
  string: (value) => typeof value === 'string',
  number: (value) => typeof value === 'number' && Number.isFinite(value),
  json: () => true,
}

function conditionProblems(conditions: readonly Condition[], path: string): FlagProblem[] {
  return conditions.flatMap((condition, at) =>
    condition.values.flatMap((value, index) => {
      const message = valueProblem(condition.operator, value)
      return message === undefined ? [] : [{ path: `${path}[${at}].values[${index}]`, message }]
    }),
  )
}

function variantProblems(flag: FlagDefinition): FlagProblem[] {
  const seen = new Map<string, number>()
  return flag.variants.flatMap(({ name, value }, at) => {
    const problems: FlagProblem[] = []
    const first = seen.get(name)
    if (first === undefined) seen.set(name, at)
    else problems.push({ path: `variants[${at}].name`, message: `variant "${name}" is declared twice (also variants[${first}])` })
    if (!VALUE_TYPES[flag.type](value)) problems.push({ path: `variants[${at}].value`, message: `a ${flag.type} flag's variant needs a ${flag.type} value` })
    return problems
  })
}

function rolloutProblems(rollout: Rollout, path: string, known: (name: string, path: string) => FlagProblem[]): FlagProblem[] {
  const named = new Set<string>()
  const problems = rollout.variants.flatMap(({ variant }, at) => {
    const place = `${path}.variants[${at}].variant`
    if (named.has(variant)) return [{ path: place, message: `variant "${variant}" appears twice in the rollout` }]
    named.add(variant)
    return known(variant, place)
  })
  const total = rollout.variants.reduce((sum, { weight }) => sum + weight, 0)
  if (total !== ROLLOUT_BUCKETS)
    problems.push({ path: `${path}.variants`, message: `the weights add up to ${total}; they must add up to ${ROLLOUT_BUCKETS} (100 %)` })
  return [...problems, ...known(rollout.fallback, `${path}.fallback`)]
}

/** Everything wrong with a flag that its schema cannot say; empty when it can be saved. */
export function flagProblems(flag: FlagDefinition, segmentNames: ReadonlySet<string>): FlagProblem[] {
  const variants = new Set(flag.variants.map(({ name }) => name))
  const known = (name: string, path: string): FlagProblem[] => (variants.has(name) ? [] : [{ path, message: `the flag has no variant "${name}"` }])
  const rules = flag.rules.flatMap((rule, at) => [
    ...('variant' in rule.serve
      ? known(rule.serve.variant, `rules[${at}].serve.variant`)
      : rolloutProblems(rule.serve.rollout, `rules[${at}].serve.rollout`, known)),
    ...rule.segments.flatMap((name, index) =>
      segmentNames.has(name) ? [] : [{ path: `rules[${at}].segments[${index}]`, message: `there is no segment "${name}"` }],
    ),
    ...conditionProblems(rule.conditions, `rules[${at}].conditions`),
  ])
  return [...variantProblems(flag), ...known(flag.defaultVariant, 'defaultVariant'), ...known(flag.offVariant, 'offVariant'), ...rules]
}

/** Everything wrong with a segment that its schema cannot say: condition values its operators cannot read. */
export function segmentProblems(segment: SegmentDefinition): FlagProblem[] {
  return conditionProblems(segment.conditions, 'conditions')
}
