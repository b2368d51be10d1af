/**
 * The login check. An unknown email, a wrong password and a disabled account give the same answer after
 * the same work (a verify against a dummy hash when there is no user); failures are counted per account and
 * lock only that account, for a while.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import type { PasswordHasher } from './passwords.js'
import { emailSchema, type User } from './users.schema.js'
import { incrementFailedLogins, lockIfReached, selectUserByEmail, updateUser, type UserRow } from './users.repo.js'

export interface LockoutPolicy {
  /** Failed logins in a row that lock the account (default 5). */
  readonly maxFailures: number
  /** How long the lock lasts, in minutes (default 15). */
  readonly lockMinutes: number
}

/**
 * Verified when there is no user (or no password), so that costs what a real check costs: an argon2id hash
 * with the OWASP parameters, of a password nobody is told.
 */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$Bi5MC4wysOBiBcTNC8Sl5Q$Lu9b+MWsQIkfc2zaBoddBRUsIvpvl4NerYZsYZEgVng'

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, lockMinutes: 15 }

/** Builds verifyCredentials(email, password, ctx). */
export function createCredentialsVerifier(deps: {
  knex: Knex
  clock: Clock
  audit: AuditService
  hasher: PasswordHasher
  lockout: LockoutPolicy
  toUser: (row: UserRow) => User
}): (email: string, password: string, ctx: ActorContext) => Promise<User> {
  const { knex, clock, audit, hasher, lockout, toUser } = deps
  const invalid = (): GantryError => new GantryError('INVALID_CREDENTIALS', 'Wrong email or password.')

  return async (email, password, ctx) => {
    const parsed = emailSchema.safeParse(email)
    const row = parsed.success ? await selectUserByEmail(knex, parsed.data) : undefined
    const now = clock.now()
    if (row && row.locked_until !== null && Number(row.locked_until) > now) {
      throw new GantryError('ACCOUNT_LOCKED', 'Too many failed logins: the account is locked for a while.', {
        details: { lockedUntil: new Date(Number(row.locked_until)).toISOString() },
      })
    }
    const result = await hasher.verify(row?.password_hash ?? DUMMY_HASH, password)
    if (!row || row.password_hash === null) throw invalid()
    if (!result.ok) {
      await knex.transaction(async (trx) => {
        const failures = await incrementFailedLogins(trx, row.id)
        if (failures < lockout.maxFailures) return
        const until = now + lockout.lockMinutes * 60_000
        if (await lockIfReached(trx, row.id, lockout.maxFailures, until)) {
          const after = { ...toUser(row), lockedUntil: new Date(until).toISOString() }
          await audit.append(trx, ctx, { action: 'users.locked', targetType: 'user', targetId: String(row.id), before: toUser(row), after })
        }
      })
      throw invalid()
    }
    if (row.status !== 'active') throw invalid()
    const rehash = result.needsRehash ? { password_hash: await hasher.hash(password) } : {}
    await updateUser(knex, row.id, { failed_logins: 0, locked_until: null, last_login_at: now, ...rehash })
    return toUser({ ...row, failed_logins: 0, locked_until: null, last_login_at: now })
  }
}
