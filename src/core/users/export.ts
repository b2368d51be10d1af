/**
 * `users export`: every user (optionally of one role or status) as CSV or JSON lines, streamed in keyset
 * pages of `pageSize`, so memory stays flat at any table size. Only the public fields: never a password
 * hash, counter or session epoch. The columns import back as they are (`users import` ignores id and the
 * timestamps), so export → import into another database gives the same users.
 *
 * CSV: RFC 4180 (CRLF line ends; a field with a comma, quote, CR or LF, or with leading or trailing spaces,
 * is quoted, quotes doubled). No CSV writer is installed (csv-parse only parses), so csvField does it. A
 * value a spreadsheet would run as a formula gets a `'` in front first (csv-cell.ts; import takes it off).
 */
import type { Knex } from 'knex'
import { z } from 'zod'
import type { ActorContext } from '../context.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { roleNameSchema } from '../roles/roles.schema.js'
import { csvField } from './csv-cell.js'
import { userFileFormatSchema } from './import.js'
import { selectUsers } from './users.repo.js'
import { userStatusSchema, type User } from './users.schema.js'
import { toUser } from './users.service.js'

export const exportUsersInputSchema = z.object({
  format: userFileFormatSchema,
  role: roleNameSchema.optional(),
  status: userStatusSchema.optional(),
  pageSize: z.number().int().min(1).max(10_000).default(1000),
})
export type ExportUsersInput = z.input<typeof exportUsersInputSchema>

export const exportResultSchema = z.object({
  exported: z.number().int(),
  file: z.string().describe('the file written (absolute path)'),
})
export type ExportResult = z.infer<typeof exportResultSchema>

/** The fields exported, in column order. */
export const EXPORT_COLUMNS = ['id', 'email', 'name', 'role', 'status', 'createdAt', 'lastLoginAt'] as const satisfies ReadonlyArray<keyof User>

export interface UserExportService {
  /**
   * The export as text chunks (the header, then one chunk per page). Permission and input are checked
   * before this returns, so a refused export never creates an empty file. `onPage` gets the running count.
   */
  exportUsers(ctx: ActorContext, input: ExportUsersInput, onPage?: (exported: number) => void): AsyncIterable<string>
}

export function createUserExportService(deps: { knex: Knex }): UserExportService {
  const { knex } = deps
  return {
    exportUsers(ctx, input, onPage) {
      requirePermission(ctx, 'users:read')
      const options = parseInput(exportUsersInputSchema, input)
      const line = options.format === 'csv' ? csvLine : jsonLine
      return (async function* pages() {
        if (options.format === 'csv') yield `${EXPORT_COLUMNS.join(',')}\r\n`
        let afterId: number | undefined
        let exported = 0
        for (;;) {
          const rows = await selectUsers(knex, { role: options.role, status: options.status, afterId }, options.pageSize)
          if (rows.length === 0) break
          yield rows.map((row) => line(toUser(row))).join('')
          exported += rows.length
          onPage?.(exported)
          if (rows.length < options.pageSize) break
          afterId = (rows[rows.length - 1] as { id: number }).id
        }
      })()
    },
  }
}

function csvLine(user: User): string {
  return `${EXPORT_COLUMNS.map((c) => csvField(user[c])).join(',')}\r\n`
}

function jsonLine(user: User): string {
  const picked: Record<string, unknown> = {}
  for (const c of EXPORT_COLUMNS) picked[c] = user[c]
  return `${JSON.stringify(picked)}\n`
}
