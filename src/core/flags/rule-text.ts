/**
 * The one-line condition language of a rule (`role in [admin, operator] and plan = pro and segment beta`):
 * clauses joined by "and", each `ATTRIBUTE OPERATOR VALUE` or `segment NAME`. A value is a run of non-space
 * characters, or double-quoted (with \" and \\) to hold spaces, commas, brackets or the word "and"; a list is
 * `[a, b]`. The text is the caller's, so the scanner reads it once, left to right, with no regular
 * expression built from it.
 */
import { GantryError, inputProblem } from '../errors.js'
import { attributeSchema, segmentNameSchema, type Condition, type ConditionOperator } from './flags.schema.js'
import { BACKSLASH, isListStop, isSpace, LISTS_ONLY, OPERATOR_TEXT, QUOTE } from './condition-text.js'
import { clip, valueProblem } from './operators.js'

export interface ParsedWhen {
  readonly conditions: Condition[]
  readonly segments: string[]
}

const SYMBOLS: Readonly<Record<string, ConditionOperator>> = { '=': 'equals', '==': 'equals', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }
const SEMVER_SYMBOLS: Readonly<Record<string, ConditionOperator>> = {
  '=': 'semverEq',
  '==': 'semverEq',
  '<': 'semverLt',
  '<=': 'semverLte',
  '>': 'semverGt',
  '>=': 'semverGte',
}
const WORDS: Readonly<Record<string, ConditionOperator>> = { startswith: 'startsWith', endswith: 'endsWith' }

const EXAMPLE = 'role in [admin, operator] and plan = pro'

const isSymbol = (code: number): boolean => code === 60 /* < */ || code === 61 /* = */ || code === 62 /* > */ || code === 33 /* ! */
const isLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
const isAttributeStop = (code: number): boolean => isSpace(code) || isSymbol(code)
const notSpace = (code: number): boolean => !isSpace(code)

/** A cursor over the text; every method moves forward only, so parsing is linear in the text's length. */
class Scanner {
  at = 0
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.at >= this.text.length
  }

  peek(): number {
    return this.text.charCodeAt(this.at)
  }

  skipSpaces(): void {
    while (!this.done && isSpace(this.peek())) this.at++
  }

  /** The run of characters from here while `keep` holds. */
  run(keep: (code: number) => boolean): string {
    const start = this.at
    while (!this.done && keep(this.peek())) this.at++
    return this.text.slice(start, this.at)
  }

  /** The word after any spaces from here, without moving. */
  lookAhead(): string {
    const at = this.at
    this.skipSpaces()
    const word = this.run(notSpace)
    this.at = at
    return word
  }

  fail(reason: string, problem: string): never {
    const where = this.text.trim() === '' ? '' : this.done ? ' at the end' : ` at character ${this.at + 1}`
    throw new GantryError('INVALID_INPUT', `${problem}${where}; write conditions like: ${EXAMPLE}`, {
      details: inputProblem(['when'], reason, { at: this.at }),
    })
  }
}

function quoted(scanner: Scanner): string {
  const start = scanner.at
  scanner.at++
  let value = ''
  while (!scanner.done) {
    const code = scanner.peek()
    scanner.at++
    if (code === QUOTE) return value
    if (code === BACKSLASH && !scanner.done) {
      value += scanner.text[scanner.at]
      scanner.at++
    } else value += String.fromCharCode(code)
  }
  scanner.at = start
  return scanner.fail('when-unclosed-quote', 'A quoted value has no closing double quote')
}

function value(scanner: Scanner, keep: (code: number) => boolean): string {
  if (scanner.peek() === QUOTE) return quoted(scanner)
  const text = scanner.run(keep)
  return text === '' ? scanner.fail('when-missing-value', 'A value is missing') : text
}

function list(scanner: Scanner): string[] {
  const open = scanner.at
  scanner.at++
  const values: string[] = []
  for (;;) {
    scanner.skipSpaces()
    if (scanner.done) break
    if (values.length === 0 && scanner.peek() === 93) scanner.fail('when-empty-list', 'A list holds at least one value')
    values.push(value(scanner, (code) => !isListStop(code)))
    scanner.skipSpaces()
    if (scanner.done) break
    const next = scanner.peek()
    scanner.at++
    if (next === 93) return values
    if (next !== 44) {
      scanner.at--
      scanner.fail('when-list-separator', `Expected "," or "]" in a list, found "${scanner.text[scanner.at]}"`)
    }
  }
  scanner.at = open
  return scanner.fail('when-unclosed-list', 'A list opened with "[" has no closing "]"')
}

function operator(scanner: Scanner, attribute: string): ConditionOperator {
  scanner.skipSpaces()
  if (!scanner.done && isSymbol(scanner.peek())) return symbol(scanner, SYMBOLS, attribute)
  const start = scanner.at
  const word = scanner.run(isLetter).toLowerCase()
  if (word === 'semver') return symbol(scanner, SEMVER_SYMBOLS, attribute)
  if (word === 'not') {
    scanner.skipSpaces()
    if (scanner.run(isLetter).toLowerCase() === 'in') return 'notIn'
  }
  if (word === 'in') return isCidrKeyword(scanner.lookAhead().toLowerCase()) ? cidrKeyword(scanner) : 'in'
  const known = WORDS[word]
  if (known && (scanner.done || isSpace(scanner.peek()))) return known
  scanner.at = start
  const found = scanner.lookAhead()
  return scanner.fail(
    'when-unknown-operator',
    found === ''
      ? `An operator is missing after "${clip(attribute)}"`
      : `"${clip(found)}" after "${clip(attribute)}" is not an operator (=, in, not in, startsWith, endsWith, <, <=, >, >=, semver>=, in cidr)`,
  )
}

function symbol(scanner: Scanner, table: Readonly<Record<string, ConditionOperator>>, attribute: string): ConditionOperator {
  scanner.skipSpaces()
  const start = scanner.at
  const text = scanner.run(isSymbol)
  const known = table[text]
  if (known) return known
  scanner.at = start
  return scanner.fail('when-unknown-operator', `"${clip(text || scanner.lookAhead())}" after "${clip(attribute)}" is not an operator (=, <, <=, >, >=)`)
}

const isCidrKeyword = (word: string): boolean => word === 'cidr' || word.startsWith('cidr[')

function cidrKeyword(scanner: Scanner): ConditionOperator {
  scanner.skipSpaces()
  scanner.at += 'cidr'.length
  return 'inCidr'
}

function condition(scanner: Scanner, attribute: string): Condition {
  const parsed = attributeSchema.safeParse(attribute)
  if (!parsed.success)
    scanner.fail('when-bad-attribute', `"${clip(attribute)}" is not an attribute name (letters, digits, "_", "." and "-", starting with a letter or "_")`)
  const op = operator(scanner, attribute)
  scanner.skipSpaces()
  if (scanner.done) scanner.fail('when-missing-value', `A value is missing after "${clip(attribute)} ${OPERATOR_TEXT[op]}"`)
  const start = scanner.at
  const isList = scanner.peek() === 91 /* [ */
  if (!isList && LISTS_ONLY.has(op)) scanner.fail('when-list-expected', `"${OPERATOR_TEXT[op]}" takes a list in brackets, like [a, b]`)
  const values = isList ? list(scanner) : [value(scanner, notSpace)]
  for (const one of values) {
    const problem = valueProblem(op, one)
    if (problem !== undefined) {
      scanner.at = start
      scanner.fail('when-bad-value', `${problem} for "${clip(attribute)} ${OPERATOR_TEXT[op]}"`)
    }
  }
  return { attribute, operator: op, values }
}

/** Whether the scanner stands before the end of the clause (the end of the text, or "and"). */
const atClauseEnd = (scanner: Scanner): boolean => {
  const next = scanner.lookAhead()
  return next === '' || next.toLowerCase() === 'and'
}

function segment(scanner: Scanner): string {
  const name = scanner.run(notSpace)
  const parsed = segmentNameSchema.safeParse(name)
  return parsed.success ? parsed.data : scanner.fail('when-bad-segment', `"${clip(name)}" is not a segment name (letters, digits, ".", "_" and "-")`)
}

function clause(scanner: Scanner, parsed: ParsedWhen): void {
  const attribute = scanner.run((code) => !isAttributeStop(code))
  if (attribute.toLowerCase() === 'segment') {
    const afterWord = scanner.at
    scanner.skipSpaces()
    const nameAt = scanner.at
    scanner.run(notSpace)
    const isReference = nameAt > afterWord && scanner.at > nameAt && atClauseEnd(scanner)
    scanner.at = nameAt
    if (isReference) {
      parsed.segments.push(segment(scanner))
      return
    }
    scanner.at = afterWord
  }
  if (attribute === '') scanner.fail('when-bad-attribute', 'An attribute name is missing')
  parsed.conditions.push(condition(scanner, attribute))
}

/** Reads the condition text of a rule; INVALID_INPUT (field `when`) saying what is wrong and where, otherwise. */
export function parseWhen(text: string): ParsedWhen {
  const scanner = new Scanner(text)
  const parsed: ParsedWhen = { conditions: [], segments: [] }
  scanner.skipSpaces()
  if (scanner.done) scanner.fail('when-empty', 'The condition is empty')
  for (;;) {
    clause(scanner, parsed)
    scanner.skipSpaces()
    if (scanner.done) return parsed
    const word = scanner.run(notSpace)
    if (word.toLowerCase() !== 'and') {
      scanner.at -= word.length
      scanner.fail('when-expected-and', `Expected "and" or the end, found "${clip(word)}"`)
    }
    scanner.skipSpaces()
    if (scanner.done) scanner.fail('when-missing-condition', 'A condition is missing after "and"')
  }
}
