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
  if (filter.actor !== undefined) whereActor(k, q, filter.actor)
  if (filter.action !== undefined) q.where('action', filter.action)
  if (filter.since !== undefined) q.where('at', '>=', filter.since)
  if (filter.until !== undefined) q.where('at', '<', filter.until)
  if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId)
  return q
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
