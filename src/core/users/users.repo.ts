import type { Knex } from 'knex'
import { insertedId, isPostgres } from '../sql.js'

export const USERS_TABLE = 'gantry_users'

/** A gantry_users row as the drivers return it (BIGINT may come back as a string on PostgreSQL). */
export interface UserRow {
  id: number
  email: string
  name: string
  role: string
  status: 'active' | 'disabled'
  password_hash: string | null
  failed_logins: number
  locked_until: number | string | null
  session_epoch: number
  last_login_at: number | string | null
  created_at: number | string
  updated_at: number | string
}

export type NewUserRow = Omit<UserRow, 'id' | 'failed_logins' | 'locked_until' | 'session_epoch' | 'last_login_at'>

/** One user by normalised email (locked for update when `lock`). */
export async function selectUserByEmail(k: Knex, email: string, lock = false): Promise<UserRow | undefined> {
  const q = k<UserRow>(USERS_TABLE).where({ email }).first()
  return normaliseRow(await (lock ? q.forUpdate() : q))
}

export async function selectUserById(k: Knex, id: number): Promise<UserRow | undefined> {
  return normaliseRow(await k<UserRow>(USERS_TABLE).where({ id }).first())
}

/** Inserts and returns the new id. */
export async function insertUser(k: Knex, row: NewUserRow): Promise<number> {
  return insertedId(await k(USERS_TABLE).insert(row, ['id']))
}

export async function updateUser(k: Knex, id: number, patch: Partial<UserRow>): Promise<void> {
  await k(USERS_TABLE).where({ id }).update(patch)
}

/** Sets columns and bumps the session epoch, which ends every session of the user. */
export async function updateUserEndingSessions(k: Knex, id: number, patch: Partial<UserRow>): Promise<void> {
  await k(USERS_TABLE)
    .where({ id })
    .update({ ...patch, session_epoch: k.raw('session_epoch + 1') })
}

export async function deleteUser(k: Knex, id: number): Promise<void> {
  await k(USERS_TABLE).where({ id }).delete()
}

export interface UserFilter {
  readonly role?: string | undefined
  readonly status?: string | undefined
  readonly search?: string | undefined
  readonly afterId?: number | undefined
}

/** Up to `limit` users in id order after `afterId`: keyset pagination, a page costs the same at any depth. */
export async function selectUsers(k: Knex, filter: UserFilter, limit: number): Promise<UserRow[]> {
  const q = k<UserRow>(USERS_TABLE).select('*').orderBy('id', 'asc').limit(limit)
  if (filter.afterId !== undefined) q.where('id', '>', filter.afterId)
  return (await matching(q, filter)).map((r) => normaliseRow(r) as UserRow)
}

/**
 * How many users the filter matches, or null when more than `cap` do: the count reads at most cap + 1 rows,
 * so it stays cheap at any size (a full COUNT over 10^6 users took 20-150 ms per page).
 */
export async function countUsers(k: Knex, filter: UserFilter, cap: number): Promise<number | null> {
  const bounded = matching(
    k(USERS_TABLE)
      .select(k.raw('1'))
      .limit(cap + 1),
    filter,
  ).as('matched')
  const [row] = (await k.count({ n: '*' }).from(bounded)) as Array<{ n: number | string }>
  const n = Number(row?.n ?? 0)
  return n > cap ? null : n
}

function matching<Q extends Knex.QueryBuilder>(q: Q, filter: UserFilter): Q {
  if (filter.role !== undefined) q.where('role', filter.role)
  if (filter.status !== undefined) q.where('status', filter.status)
  if (filter.search !== undefined) {
    // Emails are stored lower-cased; names are compared lower-cased on every dialect.
    // `!` escapes LIKE's wildcards: the one escape character every dialect reads the same way.
    const pattern = `%${filter.search.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`
    q.where((w) => w.whereRaw("email like ? escape '!'", [pattern]).orWhereRaw("lower(name) like ? escape '!'", [pattern]))
  }
  return q
}

/** Users per role name. */
export async function countUsersByRole(k: Knex): Promise<Map<string, number>> {
  const rows = (await k(USERS_TABLE).select('role').count({ n: '*' }).groupBy('role')) as Array<{ role: string; n: number | string }>
  return new Map(rows.map((r) => [r.role, Number(r.n)]))
}

/** Ids of the active users holding one of `roles`, locked until commit: the last-admin rule reads this. */
export async function selectActiveHolders(k: Knex, roles: readonly string[]): Promise<number[]> {
  if (roles.length === 0) return []
  const rows = await k(USERS_TABLE).select('id').whereIn('role', roles).where('status', 'active').forUpdate()
  return (rows as Array<{ id: number | string }>).map((r) => Number(r.id))
}

/** Counts one failed login and returns the new count. */
export async function incrementFailedLogins(k: Knex, id: number): Promise<number> {
  await k(USERS_TABLE).where({ id }).increment('failed_logins', 1)
  const row = (await k(USERS_TABLE).select('failed_logins').where({ id }).first()) as { failed_logins: number | string } | undefined
  return Number(row?.failed_logins ?? 0)
}

/** Locks the account when the counter has reached `max`; returns whether this call locked it. */
export async function lockIfReached(k: Knex, id: number, max: number, until: number): Promise<boolean> {
  const changed = await k(USERS_TABLE).where({ id }).andWhere('failed_logins', '>=', max).update({ locked_until: until, failed_logins: 0 })
  return Number(changed) > 0
}

/**
 * The hash families in the table (passwords.ts hashFamily: bcrypt's `$2b$12$`, an argon2 PHC string up to its
 * salt), each once: what the login floor measures. One scan, a few string functions per row; only the distinct families are kept.
 */
export async function selectHashFamilies(k: Knex): Promise<string[]> {
  // The one dialect difference: PostgreSQL has strpos where SQLite and MySQL have instr.
  const pos = isPostgres(k) ? 'strpos' : 'instr'
  const pParam = `${pos}(password_hash, ',p=')`
  const argon2Family = `substr(password_hash, 1, ${pParam} + ${pos}(substr(password_hash, ${pParam}), '$') - 1)`
  const rows = (await k(USERS_TABLE)
    .distinct(k.raw(`CASE WHEN password_hash LIKE '$2%' THEN substr(password_hash, 1, 7) ELSE ${argon2Family} END AS family`))
    .where('password_hash', 'like', '$2%')
    .orWhere('password_hash', 'like', '$argon2%')) as Array<{ family: string }>
  return rows.map((r) => r.family)
}

function normaliseRow(row: UserRow | undefined): UserRow | undefined {
  return row ? { ...row, id: Number(row.id), failed_logins: Number(row.failed_logins), session_epoch: Number(row.session_epoch) } : undefined
}
