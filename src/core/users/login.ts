/**
 * The login check. Every refusal — unknown email, wrong password, disabled or locked account, no password —
 * is the one INVALID_CREDENTIALS answer, given no sooner than the login floor (login-floor.ts) after the
 * attempt began. Failures are counted per account and lock only that account, for a while.
 *
 * Each refusal is an audit entry (`sessions.login-failed`) with its reason and the client's address, which
 * the answer never tells: the account's id when there is one, none for an unknown email (the text typed is
 * not kept: people type passwords there). An unknown email writes its entry too, so a refusal costs the same
 * whether the account exists. A success is audited by the session it opens (sessions.service.ts).
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { AuditRecord } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { createGate } from '../gate.js'
import { fixedLoginFloor, measuredLoginFloor, realTimer, type LoginTimer } from './login-floor.js'
import type { PasswordHasher } from './passwords.js'
import { emailSchema, type User } from './users.schema.js'
import { incrementFailedLogins, lockIfReached, selectHashFamilies, selectUserByEmail, updateUser, type UserRow } from './users.repo.js'

export interface LockoutPolicy {
  /** Failed logins in a row that lock the account (default 5). */
  readonly maxFailures: number
  /** How long the lock lasts, in minutes (default 15). */
  readonly lockMinutes: number
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, lockMinutes: 15 }

/** Why a login was refused, as the audit log records it. */
export type LoginRefusal =
  'unknown-account' | 'no-password' | 'locked' | 'wrong-password' | 'disabled' | 'gone' | 'password-login-off' | 'not-break-glass' | 'not-admin'

/** The audit record of a refused login: `method` names the way in (`password`; an identity provider's id later). */
export function loginRefused(reason: LoginRefusal, userId: number | undefined): AuditRecord {
  return { action: 'sessions.login-failed', targetType: 'user', targetId: userId === undefined ? '' : String(userId), after: { method: 'password', reason } }
}

/** Password hashes in flight at once: argon2 runs on libuv's 4 threads, more only queue. */
const CONCURRENT_HASHES = 4
/** Logins allowed to wait for a hashing slot; beyond this a login is refused at once (RATE_LIMITED, 429). */
const QUEUED_HASHES = 64

/** How refusals are timed. */
export interface LoginTiming {
  /** A refused login answers no sooner than this many ms after it began; undefined: measured from the hashes in the database. */
  readonly floorMs?: number | undefined
  /** Default: the process's monotonic clock and setTimeout. */
  readonly timer?: LoginTimer | undefined
}

/** Builds verifyCredentials(email, password, ctx). */
export function createCredentialsVerifier(deps: {
  knex: Knex
  clock: Clock
  audit: AuditService
  hasher: PasswordHasher
  lockout: LockoutPolicy
  toUser: (row: UserRow) => User
  timing?: LoginTiming | undefined
}): (email: string, password: string, ctx: ActorContext) => Promise<User> {
  const { knex, clock, audit, hasher, lockout, toUser } = deps
  // Only the hashing holds a slot: a refusal waiting out the floor must not keep others from being checked.
  const hashing = createGate(CONCURRENT_HASHES, QUEUED_HASHES)
  const timer = deps.timing?.timer ?? realTimer
  const floorMs = deps.timing?.floorMs
  const floor = floorMs === undefined ? measuredLoginFloor({ families: () => selectHashFamilies(knex), hasher, timer }) : fixedLoginFloor(floorMs)
  /** Refuses after the floor; `audited`, when given, is the refusal's audit entry, written first (an entry written already passes none). */
  const refuse = async (started: number, audited?: { ctx: ActorContext; record: AuditRecord }): Promise<never> => {
    if (audited) await audit.append(knex, audited.ctx, audited.record)
    const until = started + (await floor.ms())
    // Again after waking: a timer may fire up to a millisecond early (libuv counts from the loop's cached time).
    for (let wait = until - timer.now(); wait > 0; wait = until - timer.now()) await timer.sleep(wait)
    throw new GantryError('INVALID_CREDENTIALS', 'Wrong email or password.')
  }

  return async (email, password, ctx) => {
    const started = timer.now()
    const parsed = emailSchema.safeParse(email)
    const row = parsed.success ? await selectUserByEmail(knex, parsed.data) : undefined
    const now = clock.now()
    // A locked account refuses even the right password, as a wrong one is refused: the lockout tells nobody
    // that the account exists or that a guess was right. Nor is the password checked: no hashing for guesses.
    if (!row) return refuse(started, { ctx, record: loginRefused('unknown-account', undefined) })
    if (row.password_hash === null) return refuse(started, { ctx, record: loginRefused('no-password', row.id) })
    if (row.locked_until !== null && Number(row.locked_until) > now) return refuse(started, { ctx, record: loginRefused('locked', row.id) })
    const verifying = timer.now()
    const hash = row.password_hash
    const result = await hashing.run(() => hasher.verify(hash, password))
    floor.observe(row.password_hash, timer.now() - verifying)
    if (!result.ok) {
      await knex.transaction(async (trx) => {
        await audit.append(trx, ctx, loginRefused('wrong-password', row.id))
        const failures = await incrementFailedLogins(trx, row.id)
        if (failures < lockout.maxFailures) return
        const until = now + lockout.lockMinutes * 60_000
        if (await lockIfReached(trx, row.id, lockout.maxFailures, until)) {
          const after = { ...toUser(row), lockedUntil: new Date(until).toISOString() }
          await audit.append(trx, ctx, { action: 'users.locked', targetType: 'user', targetId: String(row.id), before: toUser(row), after })
        }
      })
      return refuse(started)
    }
    if (row.status !== 'active') return refuse(started, { ctx, record: loginRefused('disabled', row.id) })
    const rehash = result.needsRehash ? { password_hash: await hashing.run(() => hasher.hash(password)) } : {}
    await updateUser(knex, row.id, { failed_logins: 0, locked_until: null, last_login_at: now, ...rehash })
    return toUser({ ...row, failed_logins: 0, locked_until: null, last_login_at: now })
  }
}
