/** What the flags commands read from their own flags: `name=value` pairs, typed by the flag's type. */
import { GantryError } from '../core/errors.js'
import type { FlagType, JsonValue, Variant } from '../core/flags/flags.schema.js'
import { parseWhen, type ParsedWhen } from '../core/flags/rule-text.js'

/** Splits `name=value` at the first `=`; INVALID_INPUT naming the flag otherwise. */
function pair(text: string, flag: string, example: string): [string, string] {
  const at = text.indexOf('=')
  if (at <= 0) throw new GantryError('INVALID_INPUT', `--${flag} takes name=value, e.g. --${flag} ${example}; got "${text.slice(0, 64)}".`)
  return [text.slice(0, at).trim(), text.slice(at + 1)]
}

/** A variant's value as written after `=`: text for a string flag, a number, true/false, or JSON. */
function variantValue(type: FlagType, text: string, name: string): JsonValue {
  const bad = (what: string) => new GantryError('INVALID_INPUT', `Variant ${name} of a ${type} flag needs ${what}; got "${text.slice(0, 64)}".`)
  if (type === 'string') return text
  if (type === 'number') {
    const n = Number(text)
    if (text.trim() === '' || !Number.isFinite(n)) throw bad('a number')
    return n
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw bad('true or false')
    return text === 'true'
  }
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    throw bad('a JSON value')
  }
}

/** `--variant name=value` list as variants of a flag of `type`. */
export function parseVariants(type: FlagType, texts: readonly string[]): Variant[] {
  return texts.map((text) => {
    const [name, value] = pair(text, 'variant', type === 'string' ? 'blue=#0000ff' : type === 'number' ? 'fast=10' : 'theme=\'{"dark":true}\'')
    return { name, value: variantValue(type, value, name) }
  })
}

/** `--attr name=value` list as evaluation-context attributes (text; number and version rules read it as such). */
export function parseAttributes(texts: readonly string[]): Record<string, string> {
  return Object.fromEntries(texts.map((text) => pair(text, 'attr', 'plan=pro')))
}

/** `--split a=20,b=80` as shares in percent. */
export function parseSplit(texts: readonly string[]): Array<{ variant: string; percent: number }> {
  return texts.map((text) => {
    const [variant, share] = pair(text, 'split', 'blue=20')
    const percent = Number(share.replace(/%$/, ''))
    if (share.trim() === '' || !Number.isFinite(percent))
      throw new GantryError('INVALID_INPUT', `--split ${variant} needs a percentage, e.g. ${variant}=20; got "${share.slice(0, 32)}".`)
    return { variant, percent }
  })
}

/** `--when` read with the rule language (rule-text.ts); its error names the flag it came from. */
export function parseWhenFlag(text: string): ParsedWhen {
  try {
    return parseWhen(text)
  } catch (err) {
    if (err instanceof GantryError) throw new GantryError(err.code, `--when: ${err.message}`, { details: err.details })
    throw err
  }
}
