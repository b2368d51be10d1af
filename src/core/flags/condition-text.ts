/**
 * How a rule's conditions are written in the one-line condition language (`role in [admin, operator] and
 * plan = pro and segment beta`): the operators' words, the characters that end a bare value, and a rule
 * written back as parseWhen (rule-text.ts) reads it. Free of zod and of Node's modules, so the console
 * bundles the very same text the CLI prints.
 */
import type { Condition, ConditionOperator, Rule } from './flags.schema.js'

/** How each operator is written. */
export const OPERATOR_TEXT: Readonly<Record<ConditionOperator, string>> = {
  equals: '=',
  in: 'in',
  notIn: 'not in',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
  semverEq: 'semver=',
  semverLt: 'semver<',
  semverLte: 'semver<=',
  semverGt: 'semver>',
  semverGte: 'semver>=',
  inCidr: 'in cidr',
}

/** The operators that take a list in brackets even for one value. */
export const LISTS_ONLY: ReadonlySet<ConditionOperator> = new Set<ConditionOperator>(['in', 'notIn'])

export const QUOTE = 34
export const BACKSLASH = 92
export const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13)
/** What ends a bare value inside a list. */
export const isListStop = (code: number): boolean => isSpace(code) || code === 44 /* , */ || code === 93 /* ] */

function needsQuotes(text: string): boolean {
  if (text === '' || text.toLowerCase() === 'and') return true
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (isListStop(code) || code === QUOTE || code === BACKSLASH || code === 91 /* [ */ || code < 32 || code === 127) return true
  }
  return false
}

const formatValue = (text: string): string => (needsQuotes(text) ? `"${text.replace(/[\\"]/g, '\\$&')}"` : text)

/** A condition as parseWhen reads it back. */
export function formatCondition(condition: Condition): string {
  const { attribute, operator: op, values } = condition
  const operand = values.length === 1 && !LISTS_ONLY.has(op) ? formatValue(values[0] as string) : `[${values.map(formatValue).join(', ')}]`
  return `${attribute} ${OPERATOR_TEXT[op]} ${operand}`
}

/** A rule's conditions and segments as one line parseWhen reads back. */
export function formatWhen(conditions: readonly Condition[], segments: readonly string[]): string {
  return [...conditions.map(formatCondition), ...segments.map((name) => `segment ${name}`)].join(' and ')
}

/** Whom a rule serves, for people: its conditions, or `everyone`. */
export const describeWhen = (rule: Pick<Rule, 'conditions' | 'segments'>): string => formatWhen(rule.conditions, rule.segments) || 'everyone'
