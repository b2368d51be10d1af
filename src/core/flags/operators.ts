/**
 * How each condition operator reads its values and compares a context's attribute with them, in one place:
 * the rule-text parser, the flag checks and the evaluator all parse numbers, versions and CIDR blocks
 * through these functions, so a value the checks accept is exactly a value the evaluator can use. Pure: no
 * zod, no I/O. A condition compiles once (CompiledCondition) so that matching parses nothing.
 *
 * Matching, beyond flags.schema.ts: an attribute is absent when undefined, null or the empty string; the
 * attributes `email` and `emailDomain` compare without case (equals, in, notIn, startsWith, endsWith), every
 * other one with case; numbers and booleans compare as their text, and only numbers and numeric text are
 * numbers. An IPv4 address is inside IPv4 blocks; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) is inside
 * IPv6 blocks and the IPv4 blocks of the address it maps.
 */
import { BlockList, isIP } from 'node:net'
import semver, { type SemVer } from 'semver'
import type { Condition, ConditionOperator, EvaluationContext } from './flags.schema.js'

/** The operators whose values are numbers. */
export const NUMBER_OPERATORS: ReadonlySet<ConditionOperator> = new Set<ConditionOperator>(['lt', 'lte', 'gt', 'gte'])
/** The operators whose values are semantic versions. */
export const SEMVER_OPERATORS: ReadonlySet<ConditionOperator> = new Set<ConditionOperator>(['semverEq', 'semverLt', 'semverLte', 'semverGt', 'semverGte'])

// Decimal only (no hex, no Infinity, no blanks Number() would read as 0); the digits after the dot follow a
// literal dot, so no two quantifiers compete for the same characters and a failing match stays linear.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const PREFIX = /^\d{1,3}$/

/** A condition value as a number, or undefined unless it is a finite decimal. */
export function parseNumber(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined
  const number = Number(value)
  return Number.isFinite(number) ? number : undefined
}

/** A condition value as a semantic version (a leading "v" allowed), or null. */
export function parseVersion(value: string): SemVer | null {
  return semver.parse(value)
}

export interface CidrBlock {
  readonly network: string
  readonly prefix: number
  readonly family: 'ipv4' | 'ipv6'
}

/** A condition value as a CIDR block; a bare address is the block of that one address. */
export function parseCidr(value: string): CidrBlock | undefined {
  const slash = value.indexOf('/')
  const network = slash === -1 ? value : value.slice(0, slash)
  const version = isIP(network)
  // A zone (fe80::1%eth0) names an interface, not an address range.
  if (version === 0 || network.includes('%')) return undefined
  const bits = version === 4 ? 32 : 128
  const prefixText = slash === -1 ? String(bits) : value.slice(slash + 1)
  if (!PREFIX.test(prefixText)) return undefined
  const prefix = Number(prefixText)
  return prefix <= bits ? { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' } : undefined
}

/** What is wrong with one value of a condition with this operator, in a phrase; undefined when it is fine. */
export function valueProblem(operator: ConditionOperator, value: string): string | undefined {
  if (NUMBER_OPERATORS.has(operator)) return parseNumber(value) === undefined ? `"${clip(value)}" is not a number (like 10 or 2.5)` : undefined
  if (SEMVER_OPERATORS.has(operator))
    return parseVersion(value) === null ? `"${clip(value)}" is not a semantic version (like 1.2.3 or 2.0.0-beta.1)` : undefined
  if (operator === 'inCidr')
    return parseCidr(value) === undefined ? `"${clip(value)}" is not an IP address or CIDR block (like 10.0.0.0/8 or 2001:db8::/32)` : undefined
  return undefined
}

/** A value shortened for a message: input is the caller's, and may be long. */
export function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value
}

/** An attribute's value as the context holds it, when present. */
export type AttributeValue = string | number | boolean | readonly string[]

// How an attribute is read: most by name; the targeting key under either name, the email domain derived.
const PLAIN = 0
const TARGETING_KEY = 1
const EMAIL_DOMAIN = 2
export type Reader = typeof PLAIN | typeof TARGETING_KEY | typeof EMAIL_DOMAIN

/** How the evaluator reads an attribute: the targeting key and the email domain have their own ways. */
export const readerOf = (attribute: string): Reader => (attribute === 'userId' ? TARGETING_KEY : attribute === 'emailDomain' ? EMAIL_DOMAIN : PLAIN)

/** Absent: undefined, null or the empty string. */
export const isAbsent = (value: unknown): value is undefined | null | '' => value === undefined || value === null || value === ''

function domainOf(email: unknown): string | undefined {
  if (typeof email !== 'string') return undefined
  const at = email.lastIndexOf('@')
  return at === -1 ? undefined : email.slice(at + 1).toLowerCase()
}

/** An attribute of the context, undefined when absent: `userId` falls back to `targetingKey`, `emailDomain` to the domain of `email`. */
export function readAttribute(context: EvaluationContext, attribute: string, reader: Reader): AttributeValue | undefined {
  let value: unknown = context[attribute]
  if (isAbsent(value)) {
    if (reader === TARGETING_KEY) value = context.targetingKey
    else if (reader === EMAIL_DOMAIN) value = domainOf(context.email)
  }
  return isAbsent(value) ? undefined : (value as AttributeValue)
}

// What an ordering operator accepts of the order of the attribute against a value (negative: below).
const below = (order: number): boolean => order < 0
const atMost = (order: number): boolean => order <= 0
const above = (order: number): boolean => order > 0
const atLeast = (order: number): boolean => order >= 0
const same = (order: number): boolean => order === 0
const never = (): boolean => false
const ORDERS: Partial<Readonly<Record<ConditionOperator, (order: number) => boolean>>> = {
  lt: below,
  lte: atMost,
  gt: above,
  gte: atLeast,
  semverLt: below,
  semverLte: atMost,
  semverGt: above,
  semverGte: atLeast,
  semverEq: same,
}

const CASE_FREE_ATTRIBUTES: ReadonlySet<string> = new Set(['email', 'emailDomain'])

/** One condition, every value parsed; every field is always set so the evaluator's objects share one shape. */
export class CompiledCondition {
  readonly reader: Reader
  readonly fold: boolean
  readonly valid: boolean
  readonly texts: ReadonlySet<string>
  readonly affixes: readonly string[]
  readonly numbers: readonly number[]
  readonly versions: readonly SemVer[]
  readonly accepts: (order: number) => boolean
  readonly v4: BlockList | undefined
  readonly v6: BlockList | undefined

  constructor(readonly source: Condition) {
    const { attribute, operator, values } = source
    this.reader = readerOf(attribute)
    this.fold = CASE_FREE_ATTRIBUTES.has(attribute)
    const texts = this.fold ? values.map((value) => value.toLowerCase()) : values
    this.texts = new Set(texts)
    this.affixes = texts
    const numbers = NUMBER_OPERATORS.has(operator) ? values.map(parseNumber) : []
    const versions = SEMVER_OPERATORS.has(operator) ? values.map(parseVersion) : []
    this.numbers = numbers.filter((n): n is number => n !== undefined)
    this.versions = versions.filter((v): v is SemVer => v !== null)
    this.accepts = ORDERS[operator] ?? never
    const blocks = operator === 'inCidr' ? values.map(parseCidr) : []
    this.v4 = blockList(blocks, 'ipv4')
    this.v6 = blockList(blocks, 'ipv6')
    this.valid = this.numbers.length === numbers.length && this.versions.length === versions.length && blocks.every((block) => block !== undefined)
  }
}

// One list per family: BlockList also compares IPv4 addresses with IPv6 blocks (as mapped addresses), so
// 1.2.3.4 would be inside ::/0.
function blockList(blocks: readonly (CidrBlock | undefined)[], family: CidrBlock['family']): BlockList | undefined {
  let list: BlockList | undefined
  for (const block of blocks) {
    if (block?.family !== family) continue
    list ??= new BlockList()
    list.addSubnet(block.network, block.prefix, family)
  }
  return list
}

/** Whether the context satisfies the condition; never for a condition with a value its operator cannot read. */
export function conditionHolds(condition: CompiledCondition, context: EvaluationContext): boolean {
  if (!condition.valid) return false
  return valueHolds(condition, readAttribute(context, condition.source.attribute, condition.reader))
}

function valueHolds(condition: CompiledCondition, value: AttributeValue | undefined): boolean {
  const negated = condition.source.operator === 'notIn'
  if (value === undefined) return negated
  if (typeof value !== 'object') return negated ? !condition.texts.has(textOf(condition, value)) : scalarHolds(condition, value)
  for (const element of value) {
    if (isAbsent(element)) continue
    if (negated ? condition.texts.has(textOf(condition, element)) : scalarHolds(condition, element)) return !negated
  }
  return negated
}

const textOf = (condition: CompiledCondition, value: string | number | boolean): string =>
  typeof value !== 'string' ? String(value) : condition.fold ? value.toLowerCase() : value

function scalarHolds(condition: CompiledCondition, value: string | number | boolean): boolean {
  switch (condition.source.operator) {
    case 'equals':
    case 'in':
      return condition.texts.has(textOf(condition, value))
    case 'startsWith':
      return affixHolds(condition.affixes, textOf(condition, value), true)
    case 'endsWith':
      return affixHolds(condition.affixes, textOf(condition, value), false)
    case 'inCidr':
      return typeof value === 'string' && addressHolds(condition, value)
    default:
      return NUMBER_OPERATORS.has(condition.source.operator) ? numberHolds(condition, value) : versionHolds(condition, value)
  }
}

function affixHolds(affixes: readonly string[], text: string, start: boolean): boolean {
  for (const affix of affixes) if (start ? text.startsWith(affix) : text.endsWith(affix)) return true
  return false
}

/**
 * A context's text as a number, read as a condition's value is (parseNumber) but without a regular
 * expression, since the app's caller writes it: decimal only, so blanks (which Number() reads as 0), hex,
 * binary, octal and Infinity are not numbers.
 */
function contextNumber(text: string): number {
  if (text === '' || text.trim() !== text) return NaN
  const digit = text[0] === '+' || text[0] === '-' ? 1 : 0
  const radix = text[digit + 1]
  if (text[digit] === '0' && radix !== undefined && 'xXbBoO'.includes(radix)) return NaN
  const number = Number(text)
  return Number.isFinite(number) ? number : NaN
}

function numberHolds(condition: CompiledCondition, value: string | number | boolean): boolean {
  // A boolean is not a number, though Number() would make it one.
  const number = typeof value === 'number' ? value : typeof value === 'string' ? contextNumber(value) : NaN
  if (Number.isNaN(number)) return false
  for (const bound of condition.numbers) if (condition.accepts(number < bound ? -1 : number > bound ? 1 : 0)) return true
  return false
}

// Parsing a version runs a regular expression and builds an object; apps send few distinct versions, so the
// parsed ones are kept (and forgotten all at once when there are too many to be few).
const versions = new Map<string, SemVer | null>()
const VERSIONS_KEPT = 1000

function versionOf(text: string): SemVer | null {
  let version = versions.get(text)
  if (version === undefined) {
    if (versions.size >= VERSIONS_KEPT) versions.clear()
    version = parseVersion(text)
    versions.set(text, version)
  }
  return version
}

function versionHolds(condition: CompiledCondition, value: string | number | boolean): boolean {
  const version = typeof value === 'string' ? versionOf(value) : null
  if (version === null) return false
  for (const bound of condition.versions) if (condition.accepts(version.compare(bound))) return true
  return false
}

function addressHolds(condition: CompiledCondition, address: string): boolean {
  const family = isIP(address)
  if (family === 4) return condition.v4?.check(address, 'ipv4') ?? false
  // BlockList compares an IPv4-mapped address with IPv4 blocks itself.
  return family === 6 && ((condition.v6?.check(address, 'ipv6') ?? false) || (condition.v4?.check(address, 'ipv6') ?? false))
}
