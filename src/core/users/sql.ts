/**
 * Dialect differences the identity repos meet. (Belongs in a shared src/core module once one exists for it;
 * kept here because users and roles are its only callers.)
 */
import type { Knex } from 'knex'

/** Whether a driver error is a unique-constraint violation (SQLite, MySQL/MariaDB, PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null
  if (!e || typeof e !== 'object') return false
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'ER_DUP_ENTRY' || e.errno === 1062 || e.code === '23505'
}

/**
 * Adds FOR UPDATE on MySQL/MariaDB and PostgreSQL, so checks such as "the last admin" hold until commit.
 * SQLite has no row locks and needs none: a write transaction holds the whole database.
 */
export function forUpdate<Q extends Knex.QueryBuilder>(k: Knex, q: Q): Q {
  const client = String((k.client as { config?: { client?: unknown } }).config?.client ?? '')
  return (client.includes('sqlite') ? q : q.forUpdate()) as Q
}

/** The id of a row just inserted with `.insert(row, ['id'])`, whatever the driver returned. */
export function insertedId(result: unknown[]): number {
  const first = result[0] as { id?: unknown } | number | string | undefined
  return Number(typeof first === 'object' && first !== null ? first.id : first)
}
