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
 * CSV cells are read through restoreCell, which undoes what export does against formula injection
 * (csv-cell.ts).
 */
import { Readable, pipeline } from 'node:stream'
import { parse } from 'csv-parse'
import type { Knex } from 'knex'
import { z } from 'zod'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission, uncovered } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import { roleNameSchema } from '../roles/roles.schema.js'
import { isSqlite, isUniqueViolation } from '../sql.js'
import { restoreCell } from './csv-cell.js'
import { parseArgon2 } from './passwords.js'
import { USERS_TABLE, type NewUserRow, type UserRow } from './users.repo.js'
import { createUserInputSchema, normaliseEmail, userStatusSchema } from './users.schema.js'
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

/** The columns (CSV) or keys (JSON lines) a row may have. */
export const IMPORT_COLUMNS = ['email', 'name', 'role', 'status', 'password_hash'] as const
/** What `users export` writes besides the importable columns: read and ignored, so an export imports as it is. */
export const IGNORED_COLUMNS = ['id', 'createdAt', 'updatedAt', 'lastLoginAt', 'lockedUntil'] as const

/** argon2 (any variant) in PHC form, or bcrypt $2a$/$2b$/$2y$ with its 53-character salt and hash. */
export function isImportableHash(hash: string): boolean {
  return /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash) || parseArgon2(hash) !== undefined
}

const rowSchema = createUserInputSchema.pick({ email: true, name: true }).extend({
  role: roleNameSchema.optional(),
  status: userStatusSchema.default('active'),
  password_hash: z.string().trim().refine(isImportableHash, 'not an argon2 (PHC) or bcrypt ($2a$/$2b$/$2y$) hash').optional(),
})

/** A record read from the file: its fields, or why it could not be read. */
type RawRecord = { line: number; fields: Record<string, unknown> } | { line: number; error: string; email?: string | undefined }

interface Candidate {
  readonly line: number
  readonly row: NewUserRow
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
      // judged where a row uses it). Worked out once per role.
      const refusals = new Map<string, string | undefined>()
      const refusal = (role: string, permissions: readonly string[]): string | undefined => {
        if (!refusals.has(role)) {
          const beyond = uncovered(ctx.permissions, permissions)
          refusals.set(role, beyond.length === 0 ? undefined : `role ${role} would carry permissions you do not hold: ${beyond.join(', ')}`)
        }
        return refusals.get(role)
      }
      if (options.format === 'jsonl') await refusePlainPasswords(source)

      const skipped: ImportSkip[] = []
      const seen = new Map<string, number>()
      let rows = 0
      let imported = 0
      const skip = (line: number, reason: string, email?: string): void => {
        skipped.push(email === undefined ? { line, reason } : { line, email, reason })
      }

      /** Validates one record; a good one becomes a candidate row. */
      const check = (record: RawRecord, now: number): Candidate | undefined => {
        rows++
        if ('error' in record) return void skip(record.line, record.error, record.email)
        const parsed = rowSchema.safeParse(record.fields)
        const rawEmail = typeof record.fields.email === 'string' ? normaliseEmail(record.fields.email) : undefined
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const field = issue?.path.join('.') ?? ''
          return void skip(record.line, `${field ? `${field}: ` : ''}${issue?.message ?? 'invalid row'}`, rawEmail || undefined)
        }
        const { email, name, status } = parsed.data
        const role = parsed.data.role ?? options.defaultRole
        const permissions = roles.get(role)
        if (!permissions) return void skip(record.line, `role: no role named "${role}"`, email)
        const refused = refusal(role, permissions)
        if (refused !== undefined) return void skip(record.line, `forbidden: ${refused}`, email)
        const first = seen.get(email)
        if (first !== undefined) return void skip(record.line, `duplicate: the same email as line ${first}`, email)
        seen.set(email, record.line)
        return { line: record.line, row: { email, name, role, status, password_hash: parsed.data.password_hash ?? null, created_at: now, updated_at: now } }
      }

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
        for (const c of existing) skip(c.line, 'exists: a user with this email exists already', c.row.email)
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
          const candidate = check(record, now)
          if (candidate) batch.push(candidate)
          if (batch.length >= options.batchSize) await flush()
        }
        await flush()
      }

      const counts = (): Record<string, unknown> => ({ format: options.format, atomic: options.atomic, rows, imported, skipped: skipped.length })
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
      return { rows, imported, skipped, dryRun: options.dryRun, atomic: options.atomic }
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

const invalid = (message: string, details?: Record<string, unknown>): GantryError =>
  new GantryError('IMPORT_INVALID', message, { details, hint: 'Fix the file and run the import again; nothing after this point was read.' })

const plainPasswords = (): GantryError =>
  new GantryError('IMPORT_INVALID', 'The file has a plain-text "password" column: plain-text passwords in a file are refused, and nothing was imported.', {
    hint: 'Import the users without passwords (they set one with `gantry users set-password`), or export argon2/bcrypt hashes as "password_hash".',
  })

/**
 * Checks a header (or a JSON line's keys): no plain password, nothing unknown. An unknown column is named by
 * its position, never its text: the file may not be a user file at all (a `.env` passed by mistake), and its
 * first line must not reach a terminal or a log.
 */
function checkColumns(columns: readonly string[], where: string): void {
  if (columns.some((c) => c.toLowerCase() === 'password')) throw plainPasswords()
  const known = new Set<string>([...IMPORT_COLUMNS, ...IGNORED_COLUMNS])
  const unknown = columns.flatMap((c, i) => (known.has(c) ? [] : [i + 1]))
  if (unknown.length > 0) {
    throw new GantryError(
      'IMPORT_INVALID',
      `${where}: ${unknown.length > 1 ? `columns ${unknown.join(', ')} are not known columns` : `column ${unknown[0]} is not a known column`}.`,
      {
        hint: `The columns are ${IMPORT_COLUMNS.join(', ')} (and ${IGNORED_COLUMNS.join(', ')}, which are ignored).`,
      },
    )
  }
}

/** JSON lines are checked for a `password` key in a first pass, so the refusal comes before any write. */
async function refusePlainPasswords(source: ImportSource): Promise<void> {
  for await (const [, text] of splitLines(source())) {
    if (!text.includes('password')) continue
    try {
      const value = JSON.parse(text) as unknown
      if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => k.toLowerCase() === 'password')) throw plainPasswords()
    } catch (err) {
      if (err instanceof GantryError) throw err
      // a line that is not JSON is reported as a bad row by the second pass
    }
  }
}

/** The file's records, in order, with the line each starts on. */
function readRecords(source: ImportSource, format: UserFileFormat): AsyncIterable<RawRecord> {
  return format === 'csv' ? readCsv(source) : readJsonLines(source)
}

async function* readCsv(source: ImportSource): AsyncGenerator<RawRecord> {
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true })
  const records = pipeline(Readable.from(source()), parser, () => undefined) as AsyncIterable<{ record: string[]; info: { lines: number } }>
  let header: string[] | undefined
  try {
    for await (const { record, info } of records) {
      // info.lines is the line the record ends on; a quoted field may span lines.
      const line = info.lines - record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0)
      if (header === undefined) {
        header = record.map((c) => c.trim())
        const normalised = header.map((c) => c.toLowerCase())
        if (normalised.includes('password')) throw plainPasswords()
        header = header.map((c, i) => ((IMPORT_COLUMNS as readonly string[]).includes(normalised[i] as string) ? (normalised[i] as string) : c))
        checkColumns(header, 'The header (line 1)')
        if (!header.includes('email')) throw invalid('The header (line 1) has no "email" column.')
        if (new Set(header).size !== header.length) throw invalid('The header (line 1) names a column twice.')
        continue
      }
      const cells = record.map(restoreCell)
      const rawEmail = cells[header.indexOf('email')]
      const email = rawEmail === undefined ? undefined : normaliseEmail(rawEmail) || undefined
      if (cells.length !== header.length) {
        yield { line, error: `expected ${header.length} fields, found ${cells.length}`, email }
        continue
      }
      const fields: Record<string, unknown> = {}
      header.forEach((column, i) => {
        const value = cells[i]
        if (value !== undefined && value !== '' && (IMPORT_COLUMNS as readonly string[]).includes(column)) fields[column] = value
      })
      yield { line, fields }
    }
  } catch (err) {
    if (err instanceof GantryError) throw err
    // csv-parse's message quotes the text it stopped at: only its code (INVALID_OPENING_QUOTE …) is shown.
    const { lines: line, code } = err as { lines?: number; code?: unknown }
    const reason = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''
    throw invalid(`The file is not valid CSV${line === undefined ? '' : ` at line ${line}`}${reason}.`, { line })
  }
  if (header === undefined) throw invalid('The file is empty: a CSV import starts with a header line (email,name,role,password_hash).')
}

async function* readJsonLines(source: ImportSource): AsyncGenerator<RawRecord> {
  for await (const [line, text] of splitLines(source())) {
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      yield { line, error: 'not valid JSON' }
      continue
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, error: 'not a JSON object' }
      continue
    }
    const object = value as Record<string, unknown>
    checkColumns(Object.keys(object), `Line ${line}`)
    const fields: Record<string, unknown> = {}
    for (const key of IMPORT_COLUMNS) if (object[key] !== undefined && object[key] !== null && object[key] !== '') fields[key] = object[key]
    yield { line, fields }
  }
}

/** Lines of a byte stream (UTF-8, a leading BOM dropped, \n or \r\n), numbered from 1. */
async function* splitLines(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<[number, string]> {
  const decoder = new TextDecoder('utf-8')
  let buffer = ''
  let n = 0
  const clean = (text: string): string => {
    const t = text.endsWith('\r') ? text.slice(0, -1) : text
    return n === 1 && t.charCodeAt(0) === 0xfeff ? t.slice(1) : t
  }
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    let start = 0
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n', start)) {
      n++
      yield [n, clean(buffer.slice(start, end))]
      start = end + 1
    }
    buffer = buffer.slice(start)
  }
  buffer += decoder.decode()
  if (buffer.length > 0) {
    n++
    yield [n, clean(buffer)]
  }
}
