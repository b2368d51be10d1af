/** Dialect differences the repos meet, in one place. (Row locks need none: knex omits FOR UPDATE on SQLite.) */
import type { Knex } from 'knex'

/**
 * Whether a knex talks to SQLite. knex's dialect name, not the client's: the SQLite client is a class
 * (src/db/sqlite-client.ts), not the name 'better-sqlite3', and either driver behind it is SQLite.
 */
export function isSqlite(k: Knex): boolean {
  return (k.client as { dialect?: string }).dialect === 'sqlite3'
}

/** Whether a knex talks to PostgreSQL. */
export function isPostgres(k: Knex): boolean {
  return (k.client as { dialect?: string }).dialect === 'postgresql'
}

/** Whether a driver error is a unique-constraint violation (SQLite, MySQL/MariaDB, PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null
  if (!e || typeof e !== 'object') return false
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'ER_DUP_ENTRY' || e.errno === 1062 || e.code === '23505'
  )
}

/**
 * The table a driver error says does not exist (SQLite `no such table`, MySQL/MariaDB ER_NO_SUCH_TABLE 1146,
 * PostgreSQL 42P01), without its schema; '' when the message names none; undefined for any other error.
 */
export function missingTable(err: unknown): string | undefined {
  const e = err as { code?: unknown; errno?: unknown; message?: unknown } | null
  if (!e || typeof e !== 'object') return undefined
  const message = typeof e.message === 'string' ? e.message : ''
  const named = (pattern: RegExp): string => pattern.exec(message)?.[1]?.split('.').pop() ?? ''
  if (e.code === 'ER_NO_SUCH_TABLE' || e.errno === 1146) return named(/Table '([^']+)' doesn't exist/)
  if (e.code === '42P01') return named(/relation "([^"]+)" does not exist/)
  if (e.code === 'SQLITE_ERROR' && message.includes('no such table')) return named(/no such table: (\S+)/)
  return undefined
}

/** Whether a driver error says a table does not exist: a database whose Gantry migrations have not run yet. */
export function isMissingTable(err: unknown): boolean {
  return missingTable(err) !== undefined
}

/** The id of a row just inserted with `.insert(row, ['id'])`, whatever the driver returned. */
export function insertedId(result: unknown[]): number {
  const first = result[0] as { id?: unknown } | number | string | undefined
  return Number(typeof first === 'object' && first !== null ? first.id : first)
}
