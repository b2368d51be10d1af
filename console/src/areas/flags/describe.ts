/** How a flag's rules, conditions and rollouts read on the page (the CLI's condition language). */
import type { ConditionOperator, FlagView, Rollout, Rule } from '../../../../src/core/flags/flags.schema.js'
import { OPERATOR_TEXT } from '../../../../src/core/flags/condition-text.js'

/** The operators in the order the rule form offers them. */
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

export function serveText(rule: Rule): string {
  if ('variant' in rule.serve) return rule.serve.variant
  const { rollout } = rule.serve
  return `rollout by ${rollout.by}: ${splitText(rollout)} (without ${rollout.by}: ${rollout.fallback})`
}
