/**
 * The queries of erasure (erasure.ts): the ledger, and the rows of other features' tables where a person's
 * email or name may have been written. Erasure reads and rewrites them here, with queries of its own,
 * rather than through each feature: it is the one use case that must reach every table, and it must keep
 * working on a database restored from a backup, whatever the features' services would refuse.
 */
import type { Knex } from 'knex'

export const ERASURES_TABLE = 'gantry_erasures'
/** The audit log's table, named here: src/core/users may not import another feature's repo (the boundary rules). */
export const AUDIT_TABLE = 'gantry_audit_log'

/** A ledger row: no personal data, only what tells the erased user's row apart and the pseudonym it became. */
export interface ErasureRow {
  readonly user_id: number
  readonly user_created_at: number
  readonly pseudonym: string
  readonly erased_at: number
  readonly erased_by: string
}

/** A gantry_audit_log row as erasure reads and rewrites it. */
export interface AuditCells {
  readonly id: number | string
  readonly actor: string
  readonly target_type: string
  readonly target_id: string
  readonly before: string | null
  readonly after: string | null
}

/**
 * A column's capacity, from its migration: a number is `varchar(n)` (characters, on every dialect; PostgreSQL
 * and MariaDB in strict mode refuse a longer value, SQLite keeps it); `text` is unbounded on SQLite and
 * PostgreSQL and 65,535 bytes on MariaDB; `longtext` is unbounded for any value erasure could write.
 */
export type ColumnMax = number | 'text' | 'longtext'

/** MariaDB's TEXT holds this many bytes (UTF-8); the other dialects' text has no limit. */
export const MARIADB_TEXT_BYTES = 65_535

/**
 * Plain text columns where an email may have been written (an error quoting it, an override's label, a
 * receiver's answer echoing an event, the SQL of an app migration that seeded a user): each with its key
 * and each column's capacity (migrations/, and src/db/migrator/tracking.ts for the run records). The
 * pseudonym may be longer than the email it replaces, so a full column would overflow: the new value is
 * cut to the capacity (after replacing, so no email survives the cut).
 */
export const TEXT_COLUMNS: ReadonlyArray<{ table: string; key: string; columns: Readonly<Record<string, ColumnMax>> }> = [
  { table: 'gantry_rate_limit_overrides', key: 'id', columns: { label: 255, reason: 500 } },
  { table: 'gantry_jobs', key: 'id', columns: { payload: 'text', last_error: 1000 } },
  { table: 'gantry_webhook_endpoints', key: 'id', columns: { description: 500, disabled_reason: 255 } },
  { table: 'gantry_webhook_deliveries', key: 'id', columns: { last_error: 1000 } },
  { table: 'gantry_webhook_attempts', key: 'id', columns: { error: 1000, response_excerpt: 1100 } },
  { table: 'gantry_migration_runs', key: 'id', columns: { statements: 'longtext', error: 'text' } },
  { table: 'gantry_settings', key: 'key', columns: { value: 'text' } },
]

/** Whether `k` talks to MariaDB/MySQL (whose TEXT is bounded). */
export function isMariaDb(k: Knex): boolean {
  return /mysql/i.test(String((k.client as { dialect?: unknown }).dialect ?? ''))
}

/**
 * `value` cut to what a column of capacity `max` holds (`mariaDb`: on MariaDB, whose TEXT is bounded in
 * bytes). A cut never splits a surrogate pair, nor a UTF-8 sequence.
 */
export function fitColumn(value: string, max: ColumnMax, mariaDb: boolean): string {
  if (typeof max === 'number') {
    if (value.length <= max) return value
    // varchar(n) counts characters (code points) on PostgreSQL and MariaDB.
    const points = Array.from(value)
    return points.length <= max ? value : points.slice(0, max).join('')
  }
  if (max === 'longtext' || !mariaDb) return value
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length <= MARIADB_TEXT_BYTES) return value
  let end = MARIADB_TEXT_BYTES
  // Back off continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end -= 1
  return bytes.subarray(0, end).toString('utf8')
}

/** The ledger, oldest first; empty when the table does not exist (a database migrated before it). */
export async function selectErasures(k: Knex): Promise<ErasureRow[]> {
  // Asked first rather than caught: on PostgreSQL a failed statement ends the transaction it ran in.
  if (!(await tableExists(k, ERASURES_TABLE))) return []
  const rows = (await k(ERASURES_TABLE).select('user_id', 'user_created_at', 'pseudonym', 'erased_at', 'erased_by').orderBy('id')) as ErasureRow[]
  return rows.map((r) => ({ ...r, user_id: Number(r.user_id), user_created_at: Number(r.user_created_at), erased_at: Number(r.erased_at) }))
}

export async function insertErasure(k: Knex, row: ErasureRow): Promise<void> {
  await k(ERASURES_TABLE).insert(row)
}

/** `%text%` for LIKE with its wildcards escaped by `!` (the escape every dialect reads the same way). */
export function containing(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`
}

/**
 * Adds `lower(column) LIKE %term%` (term lower-cased, wildcards escaped) for each term, OR'd, to `q`: an email
 * is matched in any case on every dialect (PostgreSQL's LIKE is case-sensitive, SQLite's only for ASCII,
 * MariaDB's by collation). Non-ASCII case is folded by the database's own lower(), which may differ from
 * JavaScript's for a few characters: the rewrite (erasure.ts) compares lower-cased again, in JavaScript.
 */
export function orMentions(q: Knex.QueryBuilder, columns: readonly string[], terms: readonly string[]): void {
  for (const column of columns) for (const term of terms) q.orWhereRaw("lower(??) like ? escape '!'", [column, containing(term.toLowerCase())])
}

/** Audit rows after `afterId` (a page of `limit`, id order) that target the user or mention one of `emails`. */
export async function selectAuditConcerning(
  k: Knex,
  who: { userId: number; keyIds: readonly string[]; clientIds: readonly string[]; emails: readonly string[] },
  afterId: number,
  limit: number,
): Promise<AuditCells[]> {
  return (await k(AUDIT_TABLE)
    .select('id', 'actor', 'target_type', 'target_id', 'before', 'after')
    .where('id', '>', afterId)
    .where((w) => {
      w.where({ target_type: 'user', target_id: String(who.userId) })
      if (who.keyIds.length > 0) w.orWhere((kw) => kw.where('target_type', 'apikey').whereIn('target_id', who.keyIds))
      if (who.clientIds.length > 0) w.orWhere((cw) => cw.where('target_type', 'oauth-client').whereIn('target_id', who.clientIds))
      orMentions(w, ['actor', 'target_id', 'before', 'after'], who.emails)
    })
    .orderBy('id')
    .limit(limit)) as AuditCells[]
}

/** Whether `table` exists: a restored database of an older schema may lack a newer feature's table. */
export async function tableExists(k: Knex, table: string): Promise<boolean> {
  return k.schema.hasTable(table)
}
