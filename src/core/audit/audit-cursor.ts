/**
 * The cursor of `audit export`: where the last page ended in time order (time, then id) and the bounds the
 * first page fixed. Opaque to clients, like every list's cursor (pagination.ts), but it holds a position of
 * two columns and the bounds, so it has its own shape.
 */
import { z } from 'zod'
import { GantryError } from '../errors.js'
import type { AuditPosition } from './audit.repo.js'

export interface ExportCursor {
  readonly after: AuditPosition
  readonly since: number | undefined
  readonly until: number
}

const epoch = z.number().int().safe()
const cursorSchema = z.object({ at: epoch, id: epoch.nonnegative(), since: epoch.optional(), until: epoch })

/** An opaque cursor for the page after `cursor.after`. */
export function encodeExportCursor(cursor: ExportCursor): string {
  const { after, since, until } = cursor
  return Buffer.from(JSON.stringify({ at: after.at, id: after.id, since, until }), 'utf8').toString('base64url')
}

/** The position and bounds a cursor carries; one that encodeExportCursor did not make is INVALID_INPUT. */
export function decodeExportCursor(cursor: string | undefined): ExportCursor | undefined {
  if (cursor === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  const checked = cursorSchema.safeParse(parsed)
  if (!checked.success)
    throw new GantryError('INVALID_INPUT', 'The cursor is not one this export returned.', {
      hint: 'Pass the nextCursor of the previous page, or no cursor for the first page.',
    })
  const { at, id, since, until } = checked.data
  return { after: { at, id }, since, until }
}
