/** How a flag's rules, conditions and rollouts read on the page (the CLI's condition language). */
import type { Condition, ConditionOperator, FlagView, Rollout, Rule } from '../../../../src/core/flags/flags.schema.js'

/** How each operator reads in a rule. */
export const OPERATOR_TEXT: Record<ConditionOperator, string> = {
  equals: '=',
  in: 'in',
  notIn: 'not in',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
  semverEq: 'semver =',
  semverLt: 'semver <',
  semverLte: 'semver <=',
  semverGt: 'semver >',
  semverGte: 'semver >=',
  inCidr: 'in cidr',
}
export const OPERATORS = Object.keys(OPERATOR_TEXT) as ConditionOperator[]
/** How many buckets a rollout hashes users into. */
export const ROLLOUT_BUCKETS = 100_000

/** A share of the 100,000 buckets in percent, at most three decimals. */
export const percentOf = (weight: number): number => Math.round(weight) / 1000
export const percentText = (weight: number): string => `${percentOf(weight)}%`

/** The rule `flags.rollout` changes when it names none: the last one with no condition that serves a rollout. */
export function rolloutRuleOf(flag: FlagView): { index: number; rollout: Rollout } | undefined {
  for (let index = flag.rules.length - 1; index >= 0; index--) {
    const rule = flag.rules[index]
    if (rule && rule.conditions.length === 0 && rule.segments.length === 0 && 'rollout' in rule.serve) return { index, rollout: rule.serve.rollout }
  }
  return undefined
}

export function splitText(rollout: Rollout): string {
  return rollout.variants.map((v) => `${v.variant} ${percentText(v.weight)}`).join(' · ')
}

export function conditionText(condition: Condition): string {
  const values =
    condition.values.length === 1 && condition.operator !== 'in' && condition.operator !== 'notIn' ? condition.values[0] : `[${condition.values.join(', ')}]`
  return `${condition.attribute} ${OPERATOR_TEXT[condition.operator]} ${values}`
}

export function whenText(rule: Rule): string {
  const clauses = [...rule.conditions.map(conditionText), ...rule.segments.map((s) => `segment ${s}`)]
  return clauses.length > 0 ? clauses.join(' and ') : 'everyone'
}

export function serveText(rule: Rule): string {
  if ('variant' in rule.serve) return rule.serve.variant
  const { rollout } = rule.serve
  return `rollout by ${rollout.by}: ${splitText(rollout)} (without ${rollout.by}: ${rollout.fallback})`
}
