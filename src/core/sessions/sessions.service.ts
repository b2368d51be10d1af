/**
 * Sessions: login (an access token and a refresh token), refresh, logout; access tokens minted for scripts;
 * the end of every session of a user; and the check of an access token on each request. That check reads
 * the user's status and session epoch, cached per user for at most 1 s, so disabling a user, changing
 * their password or revoking their sessions stops their access tokens within 1 s (refresh tokens at once).
 * The end is also announced (`onSessionsEnded`: Redis pub/sub between instances), and an instance told of
 * it drops its cached state at once (`forgetUser`): the second is the bound when an announcement is lost.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { hasPermission, requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import { selectUserByEmail, selectUserById, updateUserEndingSessions, type UserRow } from '../users/users.repo.js'
import { emailSchema } from '../users/users.schema.js'
import type { UsersService } from '../users/users.service.js'
import { createAccessTokens, type AccessTokens } from './access-tokens.js'
import { readUserSessionState, revokeLiveForUser, type UserSessionState } from './refresh-tokens.repo.js'
import { createRefreshTokens, type RefreshTokens } from './refresh-tokens.service.js'
import type { SigningKeysService } from './signing-keys.service.js'
import {
  issueTokenInputSchema,
  MAX_SCRIPT_TTL_MS,
  type AccessTokenClaims,
  type AuthSettings,
  type IssuedToken,
  type IssueTokenInput,
  type RevokedSessions,
  type SessionTokens,
  type SignedAccessToken,
} from './sessions.schema.js'

/** How long a user's status and session epoch are trusted without reading them again. */
const EPOCH_CACHE_MS = 1000
/** Past this many cached users the cache starts over (it only ever saves reads). */
const EPOCH_CACHE_MAX = 10_000

export interface SessionsService {
  /** Checks the credentials (lockout and all), then starts a session. */
  login(email: string, password: string, ctx: ActorContext): Promise<SessionTokens>
  /** Rotates a refresh token and signs an access token with the user's current epoch and permissions. */
  refresh(refreshToken: string): Promise<SessionTokens>
  /** Ends the session of a refresh token; 0 for a token that is unknown. */
  logout(refreshToken: string): Promise<{ revoked: number }>
  /** Needs sessions:write: an access token for a script, audited (never the token). */
  issueScriptToken(ctx: ActorContext, email: string, input?: IssueTokenInput): Promise<IssuedToken>
  /** Needs sessions:write: refresh tokens end at once, access tokens within 1 s. */
  revokeUserSessions(ctx: ActorContext, email: string): Promise<RevokedSessions>
  /** The claims of a valid access token whose user is active and still on the token's session epoch. */
  verifyAccess(token: string): Promise<AccessTokenClaims>
  /** After a user's sessions ended (revoked, disabled, new password): this process forgets their state, and every other instance is told. */
  sessionsEnded(userId: number): Promise<void>
  /** Drops this process's cached state of a user, whose sessions another instance announced ended. */
  forgetUser(userId: number): void
}

export interface SessionsServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly roles: RolesService
  readonly users: Pick<UsersService, 'verifyCredentials'>
  /** The environment's token settings; without them (or without a secret) no token can be signed. */
  readonly auth?: AuthSettings | undefined
  /** The keys of the pinned algorithm (HS256 secret or EdDSA key ring). */
  readonly signingKeys: Pick<SigningKeysService, 'tokenKeys'>
  /** Tells the other instances that a user's sessions ended (after the change committed); none: they learn within the cache's second. */
  readonly onSessionsEnded?: ((userId: number) => Promise<void>) | undefined
}

/** Builds the sessions service. Token signers are built on first use, so a missing secret only fails token use. */
export function createSessionsService(deps: SessionsServiceDeps): SessionsService {
  const { knex, clock, audit, roles, users, auth, signingKeys } = deps
  let accessTokens: AccessTokens | undefined
  let refreshTokens: RefreshTokens | undefined
  const cache = new Map<number, { at: number; state: UserSessionState | undefined }>()
  const reading = new Map<number, Promise<UserSessionState | undefined>>()
  let revocations = 0

  // AUTH_SECRET_MISSING without a secret (EdDSA needs one too: it seals the private keys).
  const signer = (): AccessTokens => {
    const keys = signingKeys.tokenKeys()
    if (!auth) throw new GantryError('CONFIG_INVALID', 'The sessions service has no token settings (auth).') // tokenKeys() has refused this already
    return (accessTokens ??= createAccessTokens({ keys, issuer: auth.issuer, audience: auth.audience, ttlSeconds: seconds(auth.accessTokenTtl), clock }))
  }
  const refresher = (): RefreshTokens => (refreshTokens ??= createRefreshTokens({ knex, clock, ttlMs: auth ? parseDuration(auth.refreshTokenTtl) : undefined }))
  /** A user's access token with these permissions; never inside a transaction (see access-tokens.ts). */
  const sign = (row: UserRow, permissions: string[], ttlSeconds?: number): Promise<SignedAccessToken> =>
    signer().sign({ sub: String(row.id), epoch: row.session_epoch, kind: 'user', permissions, ttlSeconds })
  const permissionsOf = async (row: UserRow): Promise<string[]> => (await roles.permissionsOf(knex, row.role)) ?? []
  const session = (access: SignedAccessToken, refreshToken: string): SessionTokens => ({
    accessToken: access.token,
    refreshToken,
    expiresAt: new Date(access.expiresAt).toISOString(),
  })
  const findUser = async (k: Knex, email: string, lock = false): Promise<UserRow> => {
    const normalised = parseInput(emailSchema, email)
    const row = await selectUserByEmail(k, normalised, lock)
    if (!row) throw new GantryError('USER_NOT_FOUND', `No user with email ${normalised}.`)
    return row
  }
  /** The user's status and epoch, read at most once a second per user (by the injected clock). */
  const sessionState = async (userId: number): Promise<UserSessionState | undefined> => {
    const now = clock.now()
    const hit = cache.get(userId)
    if (hit && now >= hit.at && now - hit.at < EPOCH_CACHE_MS) return hit.state
    // Concurrent requests of one user share a read in flight instead of each reading when the entry expires.
    const seen = revocations
    let read = reading.get(userId)
    if (!read) {
      read = readUserSessionState(knex, userId).finally(() => reading.delete(userId))
      reading.set(userId, read)
    }
    const state = await read
    if (seen !== revocations) return state // a revocation came in meanwhile: do not cache what it may have outdated
    if (cache.size >= EPOCH_CACHE_MAX) cache.clear()
    cache.set(userId, { at: now, state })
    return state
  }
  /** No cached or in-flight state of the user survives: the next check reads the database. */
  const forgetUser = (userId: number): void => {
    revocations += 1
    cache.delete(userId)
    reading.delete(userId)
  }
  const sessionsEnded = async (userId: number): Promise<void> => {
    // This process stops at once; the others as soon as they hear it, and within the cache's second if they never do.
    forgetUser(userId)
    await deps.onSessionsEnded?.(userId)
  }

  return {
    async login(email, password, ctx) {
      signer() // a missing secret is a configuration error, found before any password work
      const user = await users.verifyCredentials(email, password, ctx)
      const row = await selectUserById(knex, user.id)
      if (!row || row.status !== 'active') throw new GantryError('INVALID_CREDENTIALS', 'Wrong email or password.')
      const access = await sign(row, await permissionsOf(row))
      const refresh = await refresher().issue(row.id, row.session_epoch)
      return session(access, refresh.token)
    },

    async refresh(refreshToken) {
      signer()
      const rotated = await refresher().rotate(refreshToken)
      const row = await selectUserById(knex, rotated.userId)
      // The rotation checked status and epoch in its transaction; a change since then still refuses.
      if (!row || row.status !== 'active' || row.session_epoch !== rotated.sessionEpoch) {
        throw new GantryError('TOKEN_INVALID', 'The refresh token is invalid or expired.', { cause: new Error('refresh token refused: user changed during rotation') })
      }
      return session(await sign(row, await permissionsOf(row)), rotated.token)
    },

    async logout(refreshToken) {
      return { revoked: await refresher().revokeFamily(refreshToken) }
    },

    async issueScriptToken(ctx, email, input = {}) {
      requirePermission(ctx, 'sessions:write')
      const parsed = parseInput(issueTokenInputSchema, input)
      const ttlSeconds = parsed.ttl === undefined ? undefined : scriptTtlSeconds(parsed.ttl)
      signer()
      // No transaction around the signing: under EdDSA it may read the key table, and SQLite has one connection.
      const row = await findUser(knex, email)
      if (row.status !== 'active') throw new GantryError('INVALID_INPUT', `${row.email} is disabled: a token for them would not work.`, { hint: `Run \`gantry users enable ${row.email}\` first.` })
      const permissions = await permissionsOf(row)
      // An actor hands out no more than it holds (a remote operator cannot mint an admin's token).
      const beyond = permissions.filter((p) => !hasPermission(ctx.permissions, p))
      if (beyond.length > 0) throw new GantryError('FORBIDDEN', `A token for ${row.email} would carry permissions you do not hold: ${beyond.join(', ')}.`)
      const signed = await sign(row, permissions, ttlSeconds)
      const issued = { user: row.email, jti: signed.jti, expiresAt: new Date(signed.expiresAt).toISOString() }
      await audit.append(knex, ctx, { action: 'tokens.issue', targetType: 'user', targetId: String(row.id), after: issued })
      return { token: signed.token, ...issued }
    },

    async revokeUserSessions(ctx, email) {
      requirePermission(ctx, 'sessions:write')
      const { userId, result } = await knex.transaction(async (trx) => {
        const row = await findUser(trx, email, true)
        const now = clock.now()
        await updateUserEndingSessions(trx, row.id, { updated_at: now })
        const result = { user: row.email, refreshTokensRevoked: await revokeLiveForUser(trx, row.id, now) }
        await audit.append(trx, ctx, { action: 'tokens.revoke', targetType: 'user', targetId: String(row.id), after: result })
        return { userId: row.id, result }
      })
      await sessionsEnded(userId)
      return result
    },

    async verifyAccess(token) {
      const claims = await signer().verify(token)
      const userId = Number(claims.sub)
      if (claims.kind !== 'user' || !Number.isSafeInteger(userId)) throw refused('not a user token')
      const state = await sessionState(userId)
      if (!state || state.status !== 'active') throw refused('user disabled or gone')
      if (state.sessionEpoch !== claims.epoch) throw refused('session ended')
      return claims
    },

    sessionsEnded,
    forgetUser,
  }
}

/** Whole seconds of a configured lifetime ('15m' -> 900). */
function seconds(duration: string): number {
  return Math.floor(parseDuration(duration) / 1000)
}

function scriptTtlSeconds(ttl: string): number {
  const ms = parseDuration(ttl)
  if (ms < 1000 || ms > MAX_SCRIPT_TTL_MS) throw new GantryError('INVALID_INPUT', `--ttl must be between 1s and 30d; got ${ttl}.`)
  return Math.floor(ms / 1000)
}

// The message access-tokens.ts gives for every refusal; the reason stays on `cause`, for logs only.
function refused(reason: string): GantryError {
  return new GantryError('TOKEN_INVALID', 'The access token is invalid or expired.', { cause: new Error(`access token refused: ${reason}`) })
}
