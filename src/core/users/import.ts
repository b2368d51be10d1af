/**
 * `users import`: CSV or JSON lines, streamed (a batch of rows in memory at a time, plus the set of emails
 * seen so far to find duplicates within the file). Each row is validated with the users' schemas; bad rows
 * are reported with their line number and reason while the good ones go in, in multi-row INSERTs of
 * `batchSize` rows. `atomic`: one transaction, nothing written when any row is bad. `dryRun`: validate
 * everything (also against the emails already in the database), write nothing.
 *
 * Passwords: a row carries none (the user gets one through set-password) or a hash from another system —
 * argon2 in PHC form or bcrypt $2a$/$2b$/$2y$ — stored as it is; login.ts verifies it at the first login and
 * re-hashes it to argon2id. A plain-text `password` column or key anywhere in the file refuses the whole
 * import before anything is written.
 *
 * A row's role obeys invariant 1 (DESIGN.md): an actor assigns only a role whose permissions its own cover.
 * A row with a role beyond them is a bad row like any other (reported, not written; --atomic writes
 * nothing); a --default-role beyond them refuses the whole import, as an unknown one does.
 *
 * Audit: each created user is recorded as `users create` records it (`users.create`, the user's public
 * view), in the transaction that writes it, so an assigned role is never missing from the log; plus one
 * `users.import` row with the counts per import that wrote something.
 *
 * This module is the import's contract and its writing; reading the file is import-file.ts, checking its
 * rows import-rows.ts.
 */
import type { Knex } from 'knex'
import { z } from 'zod'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import { roleNameSchema } from '../roles/roles.schema.js'
import { isSqlite, isUniqueViolation } from '../sql.js'
import { readRecords, refusePlainPasswords } from './import-file.js'
import { createRowChecker, type Candidate } from './import-rows.js'
import { USERS_TABLE, type UserRow } from './users.repo.js'
import { toUser } from './users.service.js'

export const userFileFormatSchema = z.enum(['csv', 'jsonl'])
export type UserFileFormat = z.infer<typeof userFileFormatSchema>

export const importUsersInputSchema = z.object({
  format: userFileFormatSchema,
  dryRun: z.boolean().default(false),
  atomic: z.boolean().default(false),
  /** The role of a row that names none. */
  defaultRole: roleNameSchema.default('viewer'),
  batchSize: z.number().int().min(1).max(5000).default(1000),
  /** A row whose email exists already is passed over and counted, not skipped as bad: how a stopped import resumes. */
  skipExisting: z.boolean().default(false),
})
export type ImportUsersInput = z.input<typeof importUsersInputSchema>

export const importSkipSchema = z.object({
  line: z.number().int().describe('line of the file (the CSV header is line 1)'),
  email: z.string().optional(),
  reason: z.string(),
})
export type ImportSkip = z.infer<typeof importSkipSchema>

export const importResultSchema = z.object({
  rows: z.number().int().describe('data rows read'),
  imported: z.number().int().describe('users written (on a dry run: that would be written)'),
  skipped: z.array(importSkipSchema).describe('every bad row, in line order'),
  existing: z.number().int().describe('rows passed over under skipExisting: their email existed already'),
  dryRun: z.boolean(),
  atomic: z.boolean(),
})
export type ImportResult = z.infer<typeof importResultSchema>

/** Opens the file's bytes; called once, or twice for JSON lines (a first pass looks for `password` keys). */
export type ImportSource = () => AsyncIterable<string | Uint8Array>

export interface ImportProgress {
  readonly rows: number
  readonly imported: number
  readonly skipped: number
}

export interface UserImportService {
  importUsers(ctx: ActorContext, source: ImportSource, input: ImportUsersInput, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult>
}

class Rollback extends Error {}

export function createUserImportService(deps: {
  knex: Knex
  clock: Clock
  audit: AuditService
  roles: Pick<RolesService, 'permissionsByRole'>
}): UserImportService {
  const { knex, clock, audit } = deps
  return {
    async importUsers(ctx, source, input, onProgress) {
      requirePermission(ctx, 'users:write')
      const options = parseInput(importUsersInputSchema, input)
      const roles = await deps.roles.permissionsByRole(knex)
      if (!roles.has(options.defaultRole))
        throw new GantryError('ROLE_NOT_FOUND', `No role named "${options.defaultRole}" (the default role, for rows without one).`)
      // Invariant 1: a row gets only a role whose permissions the actor's own cover (the default role too,
      // judged where a row uses it).
      const check = createRowChecker({ roles, defaultRole: options.defaultRole, actorPermissions: ctx.permissions })
      if (options.format === 'jsonl') await refusePlainPasswords(source)

      const skipped: ImportSkip[] = []
      let rows = 0
      let imported = 0
      let existingRows = 0

      /** The batch without the emails that exist already (those are reported). */
      const fresh = async (k: Knex, batch: readonly Candidate[]): Promise<{ rows: Candidate[]; existing: Candidate[] }> => {
        const found = new Set(
          (await k(USERS_TABLE)
            .whereIn(
              'email',
              batch.map((c) => c.row.email),
            )
            .pluck('email')) as string[],
        )
        return { rows: batch.filter((c) => !found.has(c.row.email)), existing: batch.filter((c) => found.has(c.row.email)) }
      }
      /** Inserts the rows and audits each user they create, in `k`'s transaction. */
      const create = async (k: Knex, good: readonly Candidate[]): Promise<void> => {
        await insertRows(k, good)
        const created = await k<UserRow>(USERS_TABLE)
          .whereIn(
            'email',
            good.map((c) => c.row.email),
          )
          .orderBy('id')
        await audit.appendAll(
          k,
          ctx,
          created.map(toUser).map((user) => ({ action: 'users.create', targetType: 'user', targetId: String(user.id), after: user })),
        )
      }
      const reportExisting = (existing: readonly Candidate[]): void => {
        if (options.skipExisting) existingRows += existing.length
        else for (const c of existing) skipped.push({ line: c.line, email: c.row.email, reason: 'exists: a user with this email exists already' })
      }
      /** Outside --atomic: one transaction per batch; a concurrent insert of the same email retries it. */
      const writeBatch = async (batch: readonly Candidate[]): Promise<void> => {
        for (let attempt = 1; ; attempt++) {
          const { rows: good, existing } = await fresh(knex, batch)
          try {
            if (good.length > 0 && !options.dryRun) await knex.transaction((trx) => create(trx, good))
          } catch (err) {
            if (isUniqueViolation(err) && attempt < 3) continue
            throw err
          }
          reportExisting(existing)
          imported += good.length
          return
        }
      }

      const run = async (k: Knex | undefined): Promise<void> => {
        let batch: Candidate[] = []
        const flush = async (): Promise<void> => {
          if (batch.length > 0) {
            if (k === undefined) {
              await writeBatch(batch)
            } else {
              // --atomic: inside the one transaction; once a row is bad nothing more is written (it all rolls back).
              const { rows: good, existing } = await fresh(k, batch)
              reportExisting(existing)
              if (skipped.length === 0 && !options.dryRun && good.length > 0) {
                try {
                  await create(k, good)
                } catch (err) {
                  if (!isUniqueViolation(err)) throw err
                  throw new GantryError(
                    'USER_EXISTS',
                    `A user of lines ${good[0]?.line}–${good[good.length - 1]?.line} was created meanwhile by another change; nothing was imported.`,
                    { cause: err, hint: 'Run the import again.' },
                  )
                }
              }
              imported += good.length
            }
            batch = []
          }
          onProgress?.({ rows, imported, skipped: skipped.length })
        }
        const now = clock.now()
        for await (const record of readRecords(source, options.format)) {
          rows++
          const checked = check(record, now)
          if ('row' in checked) batch.push(checked)
          else skipped.push(checked)
          if (batch.length >= options.batchSize) await flush()
        }
        await flush()
      }

      const counts = (): Record<string, unknown> => ({
        format: options.format,
        atomic: options.atomic,
        rows,
        imported,
        skipped: skipped.length,
        existing: existingRows,
      })
      const record = (k: Knex, extra: Record<string, unknown> = {}): Promise<void> =>
        audit.append(k, ctx, { action: 'users.import', targetType: 'user', targetId: '*', after: { ...counts(), ...extra } })

      if (options.dryRun) {
        await run(undefined)
      } else if (options.atomic) {
        try {
          await knex.transaction(async (trx) => {
            await run(trx)
            if (skipped.length > 0) throw new Rollback()
            if (imported > 0) await record(trx)
          })
        } catch (err) {
          if (!(err instanceof Rollback)) throw err
          imported = 0
        }
      } else {
        try {
          await run(undefined)
        } catch (err) {
          // Batches already committed stay: the audit log says how far the import went.
          if (imported > 0) await record(knex, { failed: err instanceof GantryError ? err.code : 'INTERNAL' })
          throw err
        }
        if (imported > 0) await record(knex)
      }
      skipped.sort((a, b) => a.line - b.line)
      return { rows, imported, skipped, existing: existingRows, dryRun: options.dryRun, atomic: options.atomic }
    },
  }
}

/**
 * Multi-row INSERTs of a batch. SQLite: at most 500 rows a statement (knex writes a compound SELECT, which
 * SQLite caps at 500 terms). A driver error is replaced by one that names the lines, not the SQL: the
 * driver's message carries the statement with its values (emails, hashes), which must not reach a terminal
 * or a log. A unique violation stays as it is, for the retry.
 */
async function insertRows(k: Knex, rows: readonly Candidate[]): Promise<void> {
  const size = isSqlite(k) ? 500 : rows.length
  try {
    for (let i = 0; i < rows.length; i += size) await k(USERS_TABLE).insert(rows.slice(i, i + size).map((c) => c.row))
  } catch (err) {
    if (isUniqueViolation(err)) throw err
    const code = (err as { code?: unknown }).code
    throw new GantryError(
      'DB_QUERY_FAILED',
      `Writing the users of lines ${rows[0]?.line}–${rows[rows.length - 1]?.line} failed${typeof code === 'string' ? ` (${code})` : ''}.`,
      { cause: err },
    )
  }
}
