import type { Knex } from 'knex'
import { isSqlite } from '../sql.js'

export const AUDIT_TABLE = 'gantry_audit_log'

/** A gantry_audit_log row as the drivers return it (BIGINT may come back as a string). */
export interface AuditRow {
  id: number | string
  at: number | string
  actor: string
  action: string
  target_type: string
  target_id: string
  before: string | null
  after: string | null
  ip: string | null
}

/**
 * Appends rows (inside the caller's transaction), at most 500 a statement: knex writes a multi-row INSERT on
 * SQLite as a compound SELECT, which SQLite caps at 500 terms.
 */
export async function insertAudit(k: Knex, rows: ReadonlyArray<Omit<AuditRow, 'id'>>): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await k(AUDIT_TABLE).insert(rows.slice(i, i + 500))
}

export interface AuditFilter {
  /** Exact, or with `*` standing for any run of characters (auditListInputSchema caps how many). */
  readonly actor?: string | undefined
  readonly action?: string | undefined
  readonly since?: number | undefined
  readonly until?: number | undefined
  /** Rows older than this id (the cursor): newest first. */
  readonly beforeId?: number | undefined
}

/** Up to `limit` rows matching the filter, newest (highest id) first. */
export async function selectAudit(k: Knex, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  const q = k<AuditRow>(AUDIT_TABLE).select('*').orderBy('id', 'desc').limit(limit)
  whereFilter(k, q, filter)
  if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId)
  return q
}

/** A place in time order: the row at `at` with `id`. */
export interface AuditPosition {
  readonly at: number
  readonly id: number
}

/**
 * Up to `limit` rows matching the filter, oldest first (time, then id: the gantry_audit_at index), after
 * `after`: a keyset page, as cheap at the end of a long log as at its start.
 */
export async function selectAuditInTimeOrder(k: Knex, filter: AuditFilter, after: AuditPosition | undefined, limit: number): Promise<AuditRow[]> {
  const q = k<AuditRow>(AUDIT_TABLE)
    .select('*')
    .orderBy([{ column: 'at' }, { column: 'id' }])
    .limit(limit)
  whereFilter(k, q, filter)
  if (after !== undefined) q.where((w) => void w.where('at', '>', after.at).orWhere((same) => void same.where('at', after.at).where('id', '>', after.id)))
  return q
}

function whereFilter(k: Knex, q: Knex.QueryBuilder, filter: AuditFilter): void {
  if (filter.actor !== undefined) whereActor(k, q, filter.actor)
  if (filter.action !== undefined) q.where('action', filter.action)
  if (filter.since !== undefined) q.where('at', '>=', filter.since)
  if (filter.until !== undefined) q.where('at', '<', filter.until)
}

/** How many rows are older than `before` (epoch ms), and the times of the oldest and newest of them. */
export async function countAuditBefore(k: Knex, before: number): Promise<{ count: number; oldest: number | null; newest: number | null }> {
  const row = (await k(AUDIT_TABLE).where('at', '<', before).count({ count: '*' }).min({ oldest: 'at' }).max({ newest: 'at' }).first()) as
    { count: number | string; oldest: number | string | null; newest: number | string | null } | undefined
  const time = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v))
  return { count: Number(row?.count ?? 0), oldest: time(row?.oldest), newest: time(row?.newest) }
}

/**
 * Deletes at most `limit` of the oldest rows older than `before` (epoch ms) and returns how many it deleted:
 * one bounded batch, so a long overdue prune never holds one giant DELETE's locks on a live log. The ids are
 * read first because MySQL takes no LIMIT in an IN subquery. A caller repeats while a batch came back full
 * (`audit prune`; the worker's housekeeping, with CLEAN_UP_BATCH).
 */
export async function pruneAuditBatch(k: Knex, before: number, limit: number): Promise<number> {
  const ids = (
    await k(AUDIT_TABLE)
      .select('id')
      .where('at', '<', before)
      .orderBy([{ column: 'at' }, { column: 'id' }])
      .limit(limit)
  ).map((r: { id: number | string }) => r.id)
  if (ids.length === 0) return 0
  return k(AUDIT_TABLE).whereIn('id', ids).delete()
}

/**
 * `actor` matches `pattern`, each `*` standing for any run of characters and every other character for
 * itself, compared as `=` compares on the dialect. The pattern goes in as a bound value with the database's
 * own wildcards escaped: LIKE's `%`, `_` and the escape character `!` (a backslash would need doubling in
 * MySQL's string syntax); on SQLite GLOB's `?` and `[`, because SQLite's LIKE ignores ASCII case where its
 * `=` does not. No regular expression is built from it.
 */
function whereActor(k: Knex, q: Knex.QueryBuilder, pattern: string): void {
  if (!pattern.includes('*')) {
    q.where('actor', pattern)
  } else if (isSqlite(k)) {
    q.whereRaw('?? GLOB ?', ['actor', pattern.replace(/[?[]/g, '[$&]')])
  } else {
    q.whereRaw("?? LIKE ? ESCAPE '!'", ['actor', pattern.replace(/[!%_]/g, '!$&').replaceAll('*', '%')])
  }
}
