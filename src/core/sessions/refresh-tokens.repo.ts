/**
 * The knex queries of refresh tokens. Times are epoch-ms BIGINT columns, which PostgreSQL returns as
 * strings: every row is mapped through Number() here, so the service sees numbers on every dialect.
 */
import type { Knex } from 'knex'

const TABLE = 'gantry_refresh_tokens'

/** One stored refresh token (never the token itself: only its hash is stored). */
export interface RefreshTokenRow {
  readonly id: number
  readonly userId: number
  readonly familyId: string
  readonly parentId: number | null
  readonly sessionEpoch: number
  readonly rotatedAt: number | null
  readonly revokedAt: number | null
  readonly expiresAt: number
  readonly familyExpiresAt: number
  readonly createdAt: number
}

/** What a new token row needs. */
export interface NewRefreshToken {
  readonly userId: number
  readonly familyId: string
  readonly tokenHash: string
  readonly parentId: number | null
  readonly sessionEpoch: number
  readonly expiresAt: number
  readonly familyExpiresAt: number
  readonly createdAt: number
}

/** The state of a user that decides whether their sessions may continue. */
export interface UserSessionState {
  readonly status: string
  readonly sessionEpoch: number
}

type Raw = Record<string, unknown>

const nullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

function toRow(raw: Raw): RefreshTokenRow {
  return {
    id: Number(raw.id),
    userId: Number(raw.user_id),
    familyId: String(raw.family_id),
    parentId: nullableNumber(raw.parent_id),
    sessionEpoch: Number(raw.session_epoch),
    rotatedAt: nullableNumber(raw.rotated_at),
    revokedAt: nullableNumber(raw.revoked_at),
    expiresAt: Number(raw.expires_at),
    familyExpiresAt: Number(raw.family_expires_at),
    createdAt: Number(raw.created_at),
  }
}

/** The token with this hash. */
export async function findByHash(k: Knex, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  const raw = (await k(TABLE).where({ token_hash: tokenHash }).first()) as Raw | undefined
  return raw && toRow(raw)
}

/** The token that replaced `parent` (same family; the family index serves the lookup). */
export async function findSuccessor(k: Knex, parent: RefreshTokenRow): Promise<RefreshTokenRow | undefined> {
  const raw = (await k(TABLE).where({ family_id: parent.familyId, parent_id: parent.id }).first()) as Raw | undefined
  return raw && toRow(raw)
}

/** Inserts a token. */
export async function insertToken(k: Knex, token: NewRefreshToken): Promise<void> {
  await k(TABLE).insert({
    user_id: token.userId,
    family_id: token.familyId,
    token_hash: token.tokenHash,
    parent_id: token.parentId,
    session_epoch: token.sessionEpoch,
    expires_at: token.expiresAt,
    family_expires_at: token.familyExpiresAt,
    created_at: token.createdAt,
  })
}

/**
 * The compare-and-set of a rotation: marks the token rotated only if it is still neither rotated nor revoked.
 * The UPDATE locks the row and re-checks its condition against the latest committed version (READ COMMITTED
 * on PostgreSQL, a locking read under REPEATABLE READ on InnoDB), so of concurrent callers exactly one wins.
 */
export async function markRotated(k: Knex, id: number, now: number): Promise<boolean> {
  const affected = await k(TABLE).where({ id }).whereNull('rotated_at').whereNull('revoked_at').update({ rotated_at: now })
  return affected === 1
}

/** Revokes every token of a family not yet revoked; returns how many. Run it inside a transaction. */
export async function revokeFamily(k: Knex, familyId: string, now: number): Promise<number> {
  return revokeLocked(k, now, (q) => q.where({ family_id: familyId }))
}

/** Revokes the live head (neither rotated, revoked nor expired) of each of a user's families; returns how many. Run it inside a transaction. */
export async function revokeLiveForUser(k: Knex, userId: number, now: number): Promise<number> {
  return revokeLocked(k, now, (q) => q.where({ user_id: userId }).whereNull('rotated_at').where('expires_at', '>', now))
}

/**
 * Revokes the unrevoked rows a scope selects, safely against concurrent rotations and revocations:
 * - rows are locked in id order first (SELECT … ORDER BY id FOR UPDATE), so two revocations of one family
 *   never lock its rows in different orders and deadlock (seen on PostgreSQL with a plain UPDATE);
 * - it repeats until nothing is left: on PostgreSQL (READ COMMITTED) a statement that waited for a
 *   concurrent rotation's row lock cannot see the successor that rotation inserted, the next statement
 *   does. Each extra round needs a rotation that was already under way, so the loop ends; on MariaDB
 *   (locking reads see the latest rows) and SQLite (one writer) the second round finds nothing.
 */
async function revokeLocked(k: Knex, now: number, scope: (q: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<number> {
  let total = 0
  for (;;) {
    const rows = (await scope(k(TABLE).select('id')).whereNull('revoked_at').orderBy('id').forUpdate()) as Array<{ id: unknown }>
    if (rows.length === 0) return total
    total += await k(TABLE)
      .whereIn(
        'id',
        rows.map((r) => Number(r.id)),
      )
      .whereNull('revoked_at')
      .update({ revoked_at: now })
  }
}

/** What an access token's check needs of its user: status, epoch, role, and the session families ended lately. */
export interface UserAccessState extends UserSessionState {
  readonly role: string
  /** Families revoked at or after the time asked for (a logout, a reuse): their access tokens are refused. */
  readonly endedFamilies: ReadonlySet<string>
}

/** A user's access state; `endedSince` bounds the families read to those whose access tokens may still live. */
export async function readUserAccessState(k: Knex, userId: number, endedSince: number): Promise<UserAccessState | undefined> {
  const [raw, ended] = await Promise.all([
    k('gantry_users').where({ id: userId }).first('status', 'session_epoch', 'role') as Promise<Raw | undefined>,
    k(TABLE).distinct('family_id').where({ user_id: userId }).where('revoked_at', '>=', endedSince) as Promise<Raw[]>,
  ])
  if (!raw) return undefined
  return {
    status: String(raw.status),
    sessionEpoch: Number(raw.session_epoch),
    role: String(raw.role),
    endedFamilies: new Set(ended.map((r) => String(r.family_id))),
  }
}

/** The status and session epoch of a user, read inside the rotation's transaction. */
export async function readUserSessionState(k: Knex, userId: number): Promise<UserSessionState | undefined> {
  const raw = (await k('gantry_users').where({ id: userId }).first('status', 'session_epoch')) as Raw | undefined
  return raw && { status: String(raw.status), sessionEpoch: Number(raw.session_epoch) }
}

/**
 * Deletes up to `limit` tokens of sessions long over, and says how many: rows of a family whose every token
 * expired before `before` and that none revoked since then. A family with a live token keeps all its rows,
 * rotated ones included, so presenting any of them still revokes the family (reuse detection), and a
 * family revoked lately keeps them while its access tokens may live (readUserAccessState reads them).
 * What goes could only ever be refused again (as unknown instead of as expired).
 */
export async function pruneExpiredTokens(k: Knex, before: number, limit: number): Promise<number> {
  const live = k(`${TABLE} as live`)
    .select(k.raw('1'))
    .whereRaw('?? = ??', ['live.family_id', 'old.family_id'])
    .where((q) => void q.where('live.expires_at', '>=', before).orWhere('live.revoked_at', '>=', before))
  // In expiry order: the index on expires_at (migration 20261208000000) finds the expired rows without a scan.
  const rows = (await k(`${TABLE} as old`)
    .select('old.id')
    .where('old.expires_at', '<', before)
    .whereNotExists(live)
    .orderBy('old.expires_at')
    .limit(limit)) as Array<{
    id: unknown
  }>
  if (rows.length === 0) return 0
  return k(TABLE)
    .whereIn(
      'id',
      rows.map((r) => Number(r.id)),
    )
    .delete()
}
