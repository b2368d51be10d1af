/**
 * A flag read as a value of the type the code expects: the one resolution behind the library's
 * `gantry.flags.value(key, default, context)` and the OpenFeature provider, so both answer alike. Its reasons
 * and error codes are OpenFeature's, as plain strings (src/core imports nothing of OpenFeature's). Pure: it
 * reads the reader's snapshot in memory and does no I/O.
 */
import type { FlagReader } from './flag-reader.js'
import type { Evaluation, EvaluationContext, FlagType, JsonValue } from './flags.schema.js'

/** The value types a caller asks for: OpenFeature's four; `object` reads a `json` flag. */
export type ExpectedType = 'boolean' | 'string' | 'number' | 'object'

/** OpenFeature's resolution reasons that Gantry gives. */
export type ResolutionReason = 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'ERROR'

/** OpenFeature's error codes that Gantry gives; with any of them the value is the caller's default. */
export type ResolutionErrorCode = 'PROVIDER_NOT_READY' | 'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'PARSE_ERROR' | 'GENERAL'

/** What a flag resolved to, in the shape of OpenFeature's ResolutionDetails. */
export interface Resolution<T extends JsonValue> {
  readonly value: T
  readonly variant?: string
  readonly reason: ResolutionReason
  readonly errorCode?: ResolutionErrorCode
  readonly errorMessage?: string
  /**
   * `ruleIndex` (the deciding rule, 0-based) and `bucket` (a rollout's, 0–99,999) when the evaluation has
   * them; `gantryReason: 'TARGETING_KEY_MISSING'` when the rule's fallback variant was served.
   */
  readonly flagMetadata?: Readonly<Record<string, string | number | boolean>>
}

/** The flag type each expected type reads. */
const DECLARED: Readonly<Record<ExpectedType, FlagType>> = { boolean: 'boolean', string: 'string', number: 'number', object: 'json' }

const IS_EXPECTED: Readonly<Record<ExpectedType, (value: JsonValue) => boolean>> = {
  boolean: (value) => typeof value === 'boolean',
  string: (value) => typeof value === 'string',
  number: (value) => typeof value === 'number',
  // OpenFeature's object flags carry any JSON structure; a `json` flag may serve null ("nothing configured").
  object: (value) => typeof value === 'object',
}

/**
 * Resolves `key` for `context` as a value of the `expected` type. Fail safe: the caller's default, with
 * reason ERROR and an error code, whenever no flag value can be served — no snapshot yet, no such flag, a
 * value of another type, a broken flag, or an evaluation that threw — so a flag check never breaks the code path it guards.
 */
export function resolveFlag<T extends JsonValue>(
  reader: FlagReader,
  key: string,
  expected: ExpectedType,
  defaultValue: T,
  context: EvaluationContext,
): Resolution<T> {
  const failed = (errorCode: ResolutionErrorCode, errorMessage: string): Resolution<T> => ({ value: defaultValue, reason: 'ERROR', errorCode, errorMessage })
  if (!reader.loaded()) return failed('PROVIDER_NOT_READY', 'no snapshot of the flags has loaded yet (the flag store has not answered since start)')
  let evaluation: Evaluation
  try {
    evaluation = reader.evaluate(key, context)
  } catch (err) {
    return failed('GENERAL', `evaluating flag "${key}" failed: ${err instanceof Error ? err.message : String(err)}`)
  }
  const { value, variant, reason, ruleIndex, bucket } = evaluation
  if (reason === 'FLAG_NOT_FOUND') return failed('FLAG_NOT_FOUND', `no flag "${key}" in this environment`)
  // Only a configuration the checks would have refused names a variant it does not declare.
  if (value === undefined) return failed('PARSE_ERROR', `flag "${key}" serves variant "${variant}", which it does not declare`)
  // The declared type decides: a json flag that happens to serve a string is still not a string flag.
  const declared = reader.type(key)
  if (declared !== undefined && declared !== DECLARED[expected]) return failed('TYPE_MISMATCH', `flag "${key}" is a ${declared} flag, read as ${expected}`)
  if (!IS_EXPECTED[expected](value)) return failed('TYPE_MISMATCH', `flag "${key}" serves ${describe(value)}, read as ${expected}`)
  const flagMetadata: Record<string, string | number | boolean> = {}
  if (ruleIndex !== undefined) flagMetadata.ruleIndex = ruleIndex
  if (bucket !== undefined) flagMetadata.bucket = bucket
  if (reason !== 'TARGETING_KEY_MISSING') return { value: value as T, variant, reason, flagMetadata }
  // OpenFeature knows TARGETING_KEY_MISSING only as an error code, and an error code makes the SDK discard the
  // value for the caller's default (reason ERROR). But this is no error: the rule's owner chose the fallback
  // variant for contexts without the bucketing attribute, and `gantry flags evaluate` serves it. So the
  // fallback is served with DEFAULT, OpenFeature's reason for "fell back to a pre-configured value", and
  // Gantry's own reason is kept in the metadata for whoever needs to tell it apart.
  return { value: value as T, variant, reason: 'DEFAULT', flagMetadata: { ...flagMetadata, gantryReason: 'TARGETING_KEY_MISSING' } }
}

function describe(value: JsonValue): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/**
 * An OpenFeature evaluation context (a `targetingKey` and attributes of any JSON-like value) as Gantry's:
 * strings, finite numbers, booleans and lists of strings are kept, Dates become ISO 8601 text; anything else
 * (nested objects, mixed lists, null) is dropped, since no rule operator compares it. `targetingKey` stays
 * as it is: the evaluator reads it as `userId` when the context has no `userId`, as for the library's callers.
 */
export function contextFromOpenFeature(context: Readonly<Record<string, unknown>>): EvaluationContext {
  const out: Record<string, string | number | boolean | readonly string[]> = {}
  for (const [name, value] of Object.entries(context)) {
    const kept = attributeValue(value)
    if (kept !== undefined) out[name] = kept
  }
  return out
}

function attributeValue(value: unknown): string | number | boolean | readonly string[] | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString()
  if (Array.isArray(value) && value.every((element) => typeof element === 'string')) return [...(value as string[])]
  return undefined
}
