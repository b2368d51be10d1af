/** Dialect differences the repos meet, in one place. (Row locks need none: knex omits FOR UPDATE on SQLite.) */

/** Whether a driver error is a unique-constraint violation (SQLite, MySQL/MariaDB, PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null
  if (!e || typeof e !== 'object') return false
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'ER_DUP_ENTRY' || e.errno === 1062 || e.code === '23505'
}

/** The id of a row just inserted with `.insert(row, ['id'])`, whatever the driver returned. */
export function insertedId(result: unknown[]): number {
  const first = result[0] as { id?: unknown } | number | string | undefined
  return Number(typeof first === 'object' && first !== null ? first.id : first)
}
