/**
 * Refresh tokens: opaque, random, stored as their sha256, rotated on every use with a single compare-and-set.
 * Presenting a rotated token revokes its whole family (a stolen token was used), except the immediate
 * predecessor of the live token within `reuseGraceMs` of its rotation, which is refused without revoking
 * anything: a lost response or two racing clients must never log a user out. A family also has an absolute
 * lifetime, and a token only rotates while its user is active and still on the session epoch it was issued
 * for, so disabling a user or changing their password stops refresh at once.
 */
import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import { GantryError } from '../errors.js'
import { randomBase62, randomId } from '../random.js'
import * as repo from './refresh-tokens.repo.js'
import type { IssuedRefreshToken, RotatedRefreshToken } from './sessions.schema.js'
import { hashToken } from './token-hash.js'

const DAY_MS = 24 * 60 * 60 * 1000
/** 32 base62 characters: 190 random bits. */
const TOKEN_RANDOM_LENGTH = 32
const TOKEN = /^grt_[0-9A-Za-z]{32}$/

export interface RefreshTokensOptions {
  readonly knex: Knex
  readonly clock: Clock
  /** Lifetime of one token (default 30 days). */
  readonly ttlMs?: number | undefined
  /** Lifetime of a family from its first token, whatever the rotations (default 90 days). */
  readonly absoluteMs?: number | undefined
  /** How long the immediate predecessor is refused without revoking the family (default 10 s). */
  readonly reuseGraceMs?: number | undefined
  /** Called after a reuse revoked a family (committed): its access tokens must end too. */
  readonly familyRevoked?: ((userId: number) => Promise<void>) | undefined
}

export interface RefreshTokens {
  /** Starts a new family (a login) for a user at their current session epoch; in `k` when given (a caller's transaction). */
  issue(userId: number, sessionEpoch: number, k?: Knex): Promise<IssuedRefreshToken>
  /** Exchanges a live token for its successor; TOKEN_INVALID otherwise (see the module comment). */
  rotate(token: string): Promise<RotatedRefreshToken>
  /** Logout: revokes the family of a token; how many tokens were revoked (0 for an unknown token) and whose. */
  revokeFamily(token: string): Promise<{ revoked: number; userId?: number }>
  /** Ends every session of a user; returns how many live sessions were ended. */
  revokeAllForUser(userId: number): Promise<number>
}

/** Why a rotation was refused inside its transaction; the refusal is thrown after the transaction ends. */
type Refusal = 'unknown' | 'revoked' | 'expired' | 'user' | 'reused-in-grace' | 'reused-family-revoked' | 'lost-race'

/** Builds the refresh-token service over a database. */
export function createRefreshTokens(options: RefreshTokensOptions): RefreshTokens {
  const { knex, clock } = options
  const ttlMs = positive('ttlMs', options.ttlMs ?? 30 * DAY_MS)
  const absoluteMs = positive('absoluteMs', options.absoluteMs ?? 90 * DAY_MS)
  const reuseGraceMs = positive('reuseGraceMs', options.reuseGraceMs ?? 10_000)

  const newToken = () => {
    const token = `grt_${randomBase62(TOKEN_RANDOM_LENGTH)}`
    return { token, tokenHash: hashToken(token) }
  }

  /** Decides a presented rotated token: within grace and the immediate predecessor, or a reuse. */
  const reuse = async (trx: Knex.Transaction, row: repo.RefreshTokenRow, now: number): Promise<Refusal> => {
    const successor = await repo.findSuccessor(trx, row)
    const successorLive = successor !== undefined && successor.rotatedAt === null && successor.revokedAt === null
    if (successorLive && row.rotatedAt !== null && now - row.rotatedAt <= reuseGraceMs) return 'reused-in-grace'
    await repo.revokeFamily(trx, row.familyId, now)
    return 'reused-family-revoked'
  }

  return {
    async issue(userId, sessionEpoch, k = knex) {
      const now = clock.now()
      const { token, tokenHash } = newToken()
      const familyId = randomId()
      const familyExpiresAt = now + absoluteMs
      const expiresAt = Math.min(now + ttlMs, familyExpiresAt)
      await repo.insertToken(k, { userId, familyId, tokenHash, parentId: null, sessionEpoch, expiresAt, familyExpiresAt, createdAt: now })
      return { token, familyId, expiresAt }
    },

    async rotate(token) {
      if (typeof token !== 'string' || !TOKEN.test(token)) throw invalidToken('malformed')
      const tokenHash = hashToken(token)
      const now = clock.now()
      const next = newToken()
      let owner: number | undefined
      // A refusal is returned, not thrown, so that a family revocation commits before the caller is refused.
      const outcome = await knex.transaction(async (trx): Promise<RotatedRefreshToken | Refusal> => {
        const row = await repo.findByHash(trx, tokenHash)
        if (!row) return 'unknown'
        owner = row.userId
        if (row.revokedAt !== null) return 'revoked'
        if (row.rotatedAt !== null) return reuse(trx, row, now)
        if (now >= row.expiresAt || now >= row.familyExpiresAt) return 'expired'
        const user = await repo.readUserSessionState(trx, row.userId)
        if (!user || user.status !== 'active' || user.sessionEpoch !== row.sessionEpoch) return 'user'
        // Another request rotated it since our read: like the predecessor within grace, refused, nothing revoked.
        if (!(await repo.markRotated(trx, row.id, now))) return 'lost-race'
        const expiresAt = Math.min(now + ttlMs, row.familyExpiresAt)
        await repo.insertToken(trx, {
          userId: row.userId,
          familyId: row.familyId,
          tokenHash: next.tokenHash,
          parentId: row.id,
          sessionEpoch: row.sessionEpoch,
          expiresAt,
          familyExpiresAt: row.familyExpiresAt,
          createdAt: now,
        })
        return { token: next.token, familyId: row.familyId, expiresAt, userId: row.userId, sessionEpoch: row.sessionEpoch }
      })
      if (outcome === 'reused-family-revoked' && owner !== undefined) await options.familyRevoked?.(owner)
      if (typeof outcome === 'string') throw invalidToken(outcome)
      return outcome
    },

    async revokeFamily(token) {
      if (typeof token !== 'string' || !TOKEN.test(token)) return { revoked: 0 }
      const row = await repo.findByHash(knex, hashToken(token))
      if (!row) return { revoked: 0 }
      return { revoked: await knex.transaction((trx) => repo.revokeFamily(trx, row.familyId, clock.now())), userId: row.userId }
    },

    async revokeAllForUser(userId) {
      return knex.transaction((trx) => repo.revokeLiveForUser(trx, userId, clock.now()))
    },
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new GantryError('CONFIG_INVALID', `The refresh-token ${name} must be a positive number of milliseconds.`)
  return value
}

// One message for every refusal; the reason (reuse, race, expiry …) stays on `cause`, for logs only.
function invalidToken(reason: Refusal | 'malformed'): GantryError {
  return new GantryError('TOKEN_INVALID', 'The refresh token is invalid or expired.', { cause: new Error(`refresh token refused: ${reason}`) })
}
