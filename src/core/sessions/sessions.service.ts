/**
 * Sessions: login (an access token and a refresh token), refresh, logout; access tokens minted for scripts;
 * the end of every session of a user; and the check of an access token on each request.
 *
 * A token names who it speaks for, not what they may do: the check resolves the user's permissions from
 * their role as it is now, so a demotion, a grant or revoke, or a role's deletion reaches every token. It
 * reads the user's status, session epoch, role and recently ended session families, cached per user for at
 * most 1 s, and the roles' permissions, cached for at most 1 s: no request reads the database otherwise.
 * A token verified lately skips only its own checks (signature, issuer, lifetime …: verified-tokens.ts);
 * the state above is checked on every request all the same.
 * Disabling a user, a new password, revoking their sessions or a logout stops their access tokens within
 * that second (refresh tokens at once). Each such change is also announced (`onAccessChanged`: Redis
 * pub/sub between instances), and an instance told of it drops its cached state at once (`forget`).
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { AuditRecord } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requireCoversTarget, requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import type { DirectoryUser, UserDirectory } from '../users/users.directory.js'
import { loginRefused } from '../users/login.js'
import { emailSchema } from '../users/users.schema.js'
import type { UsersService } from '../users/users.service.js'
import { whoami, type Whoami } from './whoami.js'
import { createAccessTokens, MAX_TOLERANCE_SECONDS, type AccessTokens } from './access-tokens.js'
import { readUserAccessState, revokeLiveForUser, type UserAccessState } from './refresh-tokens.repo.js'
import { createRefreshTokens, type RefreshTokens } from './refresh-tokens.service.js'
import type { SigningKeysService } from './signing-keys.service.js'
import {
  DEFAULT_MAX_TOKEN_TTL,
  issueTokenInputSchema,
  type AccessChange,
  type AccessTokenClaims,
  type AuthSettings,
  type IssuedToken,
  type IssueTokenInput,
  type RevokedSessions,
  type SessionTokens,
  type SignedAccessToken,
} from './sessions.schema.js'
import { createTtlCache } from './ttl-cache.js'

/** How long a user's access state and the roles' permissions are trusted without reading them again. */
const ACCESS_CACHE_MS = 1000

export interface SessionsService {
  /** Checks the credentials (lockout and all), then starts a session. */
  login(email: string, password: string, ctx: ActorContext): Promise<SessionTokens>
  /**
   * Starts a session for a user another way in vouched for (`method`: `sso:<provider>` once an identity
   * provider signed them in); refused unless the user is active. No door but that one calls it.
   */
  signIn(userId: number, method: string, ctx: ActorContext): Promise<SessionTokens>
  /**
   * The break-glass sign-in (auth.breakGlass): the one admin's password, through the CLI on the database only
   * (a `local:` actor), even where password sign-in is off; audited as `sessions.break-glass` beside the login.
   */
  breakGlass(email: string, password: string, ctx: ActorContext): Promise<SessionTokens>
  /** Rotates a refresh token and signs an access token with the user's current epoch. */
  refresh(refreshToken: string): Promise<SessionTokens>
  /** Ends the session of a refresh token, its access tokens too (within 1 s everywhere); 0 for a token that is unknown. */
  logout(refreshToken: string): Promise<{ revoked: number }>
  /** Needs sessions:write and permissions covering the user's: an access token for a script, audited (never the token). */
  issueScriptToken(ctx: ActorContext, email: string, input?: IssueTokenInput): Promise<IssuedToken>
  /** Needs sessions:write and permissions covering the user's: refresh tokens end at once, access tokens within 1 s. */
  revokeUserSessions(ctx: ActorContext, email: string): Promise<RevokedSessions>
  /**
   * The claims of a valid access token whose user is active, still on the token's session epoch and whose
   * session was not ended; `permissions` are the user's role's now, not as signed.
   */
  verifyAccess(token: string): Promise<AccessTokenClaims>
  /** The second half of verifyAccess, for claims verified already: the user's standing now, and their permissions. */
  userAccess(claims: AccessTokenClaims): Promise<AccessTokenClaims>
  /** The environment's access-token signer and verifier (OAuth client tokens are signed by it too); AUTH_SECRET_MISSING without a secret. */
  accessTokens(): AccessTokens
  /** After a committed change of who may do what: this process forgets what it outdates, and every other instance is told. */
  accessChanged(change: AccessChange): Promise<void>
  /** Drops this process's cached state that a change announced by another instance outdates. */
  forget(change: AccessChange): void
  /** Who an authenticated caller is: the user, the key if one was used, and what they may do. */
  whoami(ctx: ActorContext): Promise<Whoami>
}

export interface SessionsServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly roles: RolesService
  readonly users: Pick<UsersService, 'verifyCredentials'>
  /** The users whose sessions these are: looked up, and their sessions ended, through the users feature. */
  readonly directory: UserDirectory
  /** The environment's token settings; without them (or without a secret) no token can be signed. */
  readonly auth?: AuthSettings | undefined
  /** The keys of the pinned algorithm (HS256 secret or EdDSA key ring). */
  readonly signingKeys: Pick<SigningKeysService, 'tokenKeys'>
  /** The environment's name: tokens carry it, and a token of another environment is refused. */
  readonly environmentName: string
  /** Tells the other instances of a committed change (AccessChange); none: they learn within the cache's second. */
  readonly onAccessChanged?: ((change: AccessChange) => Promise<void>) | undefined
}

/** Builds the sessions service. Token signers are built on first use, so a missing secret only fails token use. */
export function createSessionsService(deps: SessionsServiceDeps): SessionsService {
  const { knex, clock, audit, roles, users, auth, signingKeys, environmentName } = deps
  let accessTokens: AccessTokens | undefined
  let refreshTokens: RefreshTokens | undefined
  const maxTtl = parseDuration(auth?.maxTokenTtl ?? DEFAULT_MAX_TOKEN_TTL)
  // A family ended this long ago can have no access token left that names it.
  const sessionTokenLifeMs = (auth ? parseDuration(auth.accessTokenTtl) : maxTtl) + MAX_TOLERANCE_SECONDS * 1000
  const userStates = createTtlCache<number, UserAccessState | undefined>({
    clock,
    ttlMs: ACCESS_CACHE_MS,
    read: (userId) => readUserAccessState(knex, userId, clock.now() - sessionTokenLifeMs),
  })
  const rolePermissions = createTtlCache<'roles', ReadonlyMap<string, readonly string[]>>({
    clock,
    ttlMs: ACCESS_CACHE_MS,
    read: () => roles.permissionsByRole(knex),
  })

  // AUTH_SECRET_MISSING without a secret (EdDSA needs one too: it seals the private keys).
  const signer = (): AccessTokens => {
    const keys = signingKeys.tokenKeys()
    if (!auth) throw new GantryError('CONFIG_INVALID', 'The sessions service has no token settings (auth).') // tokenKeys() has refused this already
    return (accessTokens ??= createAccessTokens({
      keys,
      issuer: auth.issuer,
      audience: auth.audience,
      environment: environmentName,
      ttlSeconds: seconds(auth.accessTokenTtl),
      maxTtlSeconds: Math.floor(maxTtl / 1000),
      clock,
    }))
  }
  const forget = (change: AccessChange): void => {
    if ('userId' in change) userStates.forget(change.userId)
    else rolePermissions.forget('roles')
  }
  const accessChanged = async (change: AccessChange): Promise<void> => {
    // This process at once; the others as soon as they hear it, and within the cache's second if they never do.
    forget(change)
    await deps.onAccessChanged?.(change)
  }
  const refresher = (): RefreshTokens =>
    (refreshTokens ??= createRefreshTokens({
      knex,
      clock,
      ttlMs: auth ? parseDuration(auth.refreshTokenTtl) : undefined,
      familyRevoked: (userId) => accessChanged({ userId }),
    }))
  /** A user's access token; never inside a transaction (see access-tokens.ts). `sid` names a login's session family. */
  const sign = (row: DirectoryUser, permissions: string[], options: { ttlSeconds?: number; sid?: string } = {}): Promise<SignedAccessToken> =>
    signer().sign({ sub: String(row.id), epoch: row.session_epoch, kind: 'user', permissions, ...options })
  const permissionsOf = async (row: DirectoryUser): Promise<string[]> => (await roles.permissionsOf(knex, row.role)) ?? []
  const session = (access: SignedAccessToken, refreshToken: string): SessionTokens => ({
    accessToken: access.token,
    refreshToken,
    expiresAt: new Date(access.expiresAt).toISOString(),
  })
  const findUser = async (k: Knex, email: string, lock = false): Promise<DirectoryUser> => {
    const normalised = parseInput(emailSchema, email)
    const row = await deps.directory.byEmail(k, normalised, { lock })
    if (!row) throw new GantryError('USER_NOT_FOUND', `No user with email ${normalised}.`)
    return row
  }
  const scriptTtlSeconds = (ttl: string): number => {
    const ms = parseDuration(ttl)
    if (ms < 1000 || ms > maxTtl) {
      throw new GantryError(
        'INVALID_INPUT',
        `A token's lifetime (ttl) must be between 1s and ${auth?.maxTokenTtl ?? DEFAULT_MAX_TOKEN_TTL} (auth.maxTokenTtl); got ${ttl}.`,
        {
          hint: 'Ask for a shorter lifetime, or raise auth.maxTokenTtl in gantry.config.json.',
          details: inputProblem(['ttl'], 'ttl-too-long'),
        },
      )
    }
    return Math.floor(ms / 1000)
  }

  /**
   * A new session for `row`: its refresh-token family and the `sessions.login` entry naming it (and `also`,
   * an entry more of this login) commit together; the token is signed after (see `sign`).
   */
  const open = async (row: DirectoryUser, method: string, ctx: ActorContext, also?: AuditRecord): Promise<SessionTokens> => {
    const refresh = await knex.transaction(async (trx) => {
      const issued = await refresher().issue(row.id, row.session_epoch, trx)
      // The user is the actor of their own login.
      const actor = { ...ctx, actor: `user:${row.id}`, userId: row.id }
      await audit.append(trx, actor, { action: 'sessions.login', targetType: 'user', targetId: String(row.id), after: { method, session: issued.familyId } })
      if (also) await audit.append(trx, actor, also)
      return issued
    })
    return session(await sign(row, await permissionsOf(row), { sid: refresh.familyId }), refresh.token)
  }

  const service: SessionsService = {
    async login(email, password, ctx) {
      signer() // a missing secret is a configuration error, found before any password work
      if (auth?.passwordLogin === false) {
        // Before the hash: nothing about the account is learnt or spent (no lockout count either).
        await audit.append(knex, ctx, loginRefused('password-login-off', undefined))
        throw new GantryError('PASSWORD_LOGIN_DISABLED', 'Password sign-in is off in this environment (auth.passwordLogin).')
      }
      const user = await users.verifyCredentials(email, password, ctx)
      const row = await deps.directory.byId(knex, user.id)
      // Disabled or deleted since the password was checked. No floor to wait out: the hash just ran, and took as long.
      if (!row || row.status !== 'active') {
        await audit.append(knex, ctx, loginRefused(row ? 'disabled' : 'gone', user.id))
        throw new GantryError('INVALID_CREDENTIALS', 'Wrong email or password.')
      }
      return open(row, 'password', ctx)
    },

    async breakGlass(email, password, ctx) {
      signer()
      // The door is the point: whoever runs the CLI on the database holds its credentials already.
      if (!ctx.actor.startsWith('local:'))
        throw new GantryError('FORBIDDEN', 'The break-glass sign-in is for the CLI on the database only (local mode), never over HTTP.')
      if (!auth?.breakGlass) throw new GantryError('CONFIG_INVALID', 'No break-glass admin is configured (auth.breakGlass).')
      if (parseInput(emailSchema, email) !== parseInput(emailSchema, auth.breakGlass)) {
        await audit.append(knex, ctx, loginRefused('not-break-glass', undefined))
        throw new GantryError('INVALID_CREDENTIALS', 'Wrong email or password.')
      }
      // The password, its lockout and its audit of failures as at any login.
      const user = await users.verifyCredentials(email, password, ctx)
      const row = await deps.directory.byId(knex, user.id)
      if (!row || row.status !== 'active' || row.role !== 'admin') {
        await audit.append(knex, ctx, loginRefused(!row ? 'gone' : row.status !== 'active' ? 'disabled' : 'not-admin', user.id))
        throw new GantryError('INVALID_CREDENTIALS', 'The break-glass account is not an active admin.')
      }
      return open(row, 'break-glass', ctx, {
        action: 'sessions.break-glass',
        targetType: 'user',
        targetId: String(row.id),
        // Who ran it: the OS user and host of the CLI on the database (the login's actor is the admin).
        after: { email: row.email, operator: ctx.actor, passwordLogin: auth.passwordLogin !== false },
      })
    },

    async signIn(userId, method, ctx) {
      signer()
      const row = await deps.directory.byId(knex, userId)
      if (!row || row.status !== 'active') throw new GantryError('ACCOUNT_DISABLED', 'This account is disabled.')
      return open(row, method, ctx)
    },

    async refresh(refreshToken) {
      signer()
      const rotated = await refresher().rotate(refreshToken)
      const row = await deps.directory.byId(knex, rotated.userId)
      // The rotation checked status and epoch in its transaction; a change since then still refuses.
      if (!row || row.status !== 'active' || row.session_epoch !== rotated.sessionEpoch) {
        throw new GantryError('TOKEN_INVALID', 'The refresh token is invalid or expired.', {
          cause: new Error('refresh token refused: user changed during rotation'),
        })
      }
      return session(await sign(row, await permissionsOf(row), { sid: rotated.familyId }), rotated.token)
    },

    async logout(refreshToken) {
      const { revoked, userId } = await refresher().revokeFamily(refreshToken)
      if (userId !== undefined) await accessChanged({ userId })
      return { revoked }
    },

    async issueScriptToken(ctx, email, input = {}) {
      requirePermission(ctx, 'sessions:write')
      const parsed = parseInput(issueTokenInputSchema, input)
      const ttlSeconds = parsed.ttl === undefined ? undefined : scriptTtlSeconds(parsed.ttl)
      signer()
      // No transaction around the signing: under EdDSA it may read the key table, and SQLite has one connection.
      const row = await findUser(knex, email)
      const permissions = await permissionsOf(row)
      // Acting on a principal, and handing out what it holds: both need the actor to cover the user.
      requireCoversTarget(ctx, permissions, row.email)
      if (row.status !== 'active')
        throw new GantryError('INVALID_INPUT', `${row.email} is disabled: a token for them would not work.`, {
          hint: `Run \`gantry users enable ${row.email}\` first.`,
        })
      const signed = await sign(row, permissions, ttlSeconds === undefined ? {} : { ttlSeconds })
      const issued = { user: row.email, jti: signed.jti, expiresAt: new Date(signed.expiresAt).toISOString() }
      await audit.append(knex, ctx, { action: 'tokens.issue', targetType: 'user', targetId: String(row.id), after: issued })
      return { token: signed.token, ...issued }
    },

    async revokeUserSessions(ctx, email) {
      requirePermission(ctx, 'sessions:write')
      const { userId, result } = await knex.transaction(async (trx) => {
        const row = await findUser(trx, email, true)
        requireCoversTarget(ctx, (await roles.permissionsOf(trx, row.role)) ?? [], row.email)
        const now = clock.now()
        await deps.directory.endSessions(trx, row.id, now)
        const result = { user: row.email, refreshTokensRevoked: await revokeLiveForUser(trx, row.id, now) }
        await audit.append(trx, ctx, { action: 'tokens.revoke', targetType: 'user', targetId: String(row.id), after: result })
        return { userId: row.id, result }
      })
      await accessChanged({ userId })
      return result
    },

    async verifyAccess(token) {
      return service.userAccess(await signer().verify(token))
    },

    async userAccess(claims) {
      const userId = Number(claims.sub)
      if (claims.kind !== 'user' || !Number.isSafeInteger(userId)) throw refused('not a user token')
      const [state, cached] = await Promise.all([userStates.get(userId), rolePermissions.get('roles')])
      if (!state || state.status !== 'active') throw refused('user disabled or gone')
      if (state.sessionEpoch !== claims.epoch) throw refused('session ended')
      if (claims.sid !== undefined && state.endedFamilies.has(claims.sid)) throw refused('logged out')
      let byRole = cached
      if (!byRole.has(state.role)) {
        // A role newer than the cached list (a user holds no role that does not exist): read the list again.
        rolePermissions.forget('roles')
        byRole = await rolePermissions.get('roles')
      }
      return { ...claims, permissions: [...(byRole.get(state.role) ?? [])] }
    },

    accessTokens: signer,
    accessChanged,
    forget,
    whoami: (ctx) => whoami(knex, deps.directory, ctx),
  }
  return service
}

/** Whole seconds of a configured lifetime ('15m' -> 900). */
function seconds(duration: string): number {
  return Math.floor(parseDuration(duration) / 1000)
}

// The message access-tokens.ts gives for every refusal; the reason stays on `cause`, for logs only.
function refused(reason: string): GantryError {
  return new GantryError('TOKEN_INVALID', 'The access token is invalid or expired.', { cause: new Error(`access token refused: ${reason}`) })
}
