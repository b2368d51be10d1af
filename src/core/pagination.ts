/**
 * Cursor pagination shared by every list (keyset on an integer id, never OFFSET, so a page costs the same at
 * any depth), and the one place where input that fails its zod schema becomes INVALID_INPUT.
 */
import { z } from 'zod'
import { GantryError } from './errors.js'
import { REFUSAL_PARAM, type RuleRefusal } from './input-rules.js'

/** The largest page a list returns. */
export const MAX_LIMIT = 500
/** The page size when none is asked for. */
export const DEFAULT_LIMIT = 50

/** `limit` and `cursor` as every list input takes them. */
export const pageInputSchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  cursor: z.string().min(1).optional(),
})

/** A page of results: `nextCursor` is null on the last page. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() })
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

/** An opaque cursor for "after this id". */
export function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify({ id }), 'utf8').toString('base64url')
}

/** The id a cursor points after; a cursor that was not made by encodeCursor is INVALID_INPUT. */
export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown }
    if (typeof parsed.id === 'number' && Number.isSafeInteger(parsed.id) && parsed.id >= 0) return parsed.id
  } catch {
    // falls through to the error below
  }
  throw new GantryError('INVALID_INPUT', 'The cursor is not one this list returned.', {
    hint: 'Pass the nextCursor of the previous page, or no cursor for the first page.',
  })
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says that another page exists. */
export function toPage<R extends { id: number }, T>(rows: readonly R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  const last = kept[kept.length - 1]
  return { data: kept.map(map), nextCursor: more && last ? encodeCursor(last.id) : null }
}

/**
 * Parses input with its schema; a failure is INVALID_INPUT naming the first offending field — or, when that
 * is a rule across fields (input-rules.ts), the error the rule declares, with its details.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
  const refusal = issue?.code === 'custom' ? (issue.params?.[REFUSAL_PARAM] as RuleRefusal | undefined) : undefined
  throw new GantryError(refusal?.code ?? 'INVALID_INPUT', `${where}${issue?.message ?? 'invalid input'}.`.replace(/\.\.$/, '.'), {
    details: { ...refusal?.details, issues },
  })
}
