/**
 * Single sign-on: Gantry as an OpenID Connect relying party of the identity providers an environment's
 * config names (auth.sso.providers), through openid-client — no protocol code of our own.
 *
 * `start` makes the authorization request: code flow with PKCE (S256), a random `state` and `nonce`, the
 * exact redirect URI registered at the provider. What the callback needs (verifier, nonce) waits in
 * gantry_sso_logins under a hash of the state, bound to the browser that started by a hash of a cookie it
 * holds (`binding`), for ten minutes, and is taken once. `complete` checks all of that, then lets
 * openid-client check the rest: the `iss` response parameter (RFC 9207, against mix-up), the code exchange
 * with the verifier, and the ID token — signature from the provider's JWKS (non-repudiation checks on), issuer, audience, expiry (30 s
 * of clock skew), nonce. Any refusal is one SSO_FAILED answer and a `sessions.login-failed` audit entry
 * with its reason.
 *
 * Then the account: an identity (provider, subject) signs in as the user it is linked to. An unknown one
 * is linked to the user with the same email only when the provider asserts `email_verified` and the
 * email's domain is in `allowedDomains`; failing that a user is created only where `autoCreate` is on. A
 * `roleMap` turns the values of `roleClaim` into a role, at creation and at every sign-in. Providers come
 * from the config file alone — whoever can write it holds the database credentials, so the role a mapping
 * hands out is within its author's rights by construction (there is no API that changes a provider). The
 * sign-in itself becomes an ordinary session (sessions.signIn), audited as `sessions.login` with method
 * `sso:<provider>`.
 *
 * A CLI without a browser signs in on another device instead (RFC 8628): `startDevice` asks the provider for
 * a device code (kept here in gantry_sso_devices, under a hash of the handle only the CLI gets), and each
 * `pollDevice` asks the provider at most once, when its interval has passed, until the person approved; the
 * ID token, the account and the session then go as above.
 */
import type { Knex } from 'knex'
import type * as oidc from 'openid-client'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError, isGantryError } from '../errors.js'
import { randomBase62 } from '../random.js'
import { withoutControl } from '../text.js'
import type { SessionTokens } from '../sessions/sessions.schema.js'
import type { SessionsService } from '../sessions/sessions.service.js'
import { hashToken, tokenMatches } from '../sessions/token-hash.js'
import type { UserDirectory } from '../users/users.directory.js'
import { emailSchema } from '../users/users.schema.js'
import type { UsersService } from '../users/users.service.js'
import type { OAuth2Endpoints, SsoProviderConfig } from './sso-config.js'
import {
  deleteDevice,
  deleteExpiredDevices,
  deleteExpiredHandoffs,
  deleteExpiredPending,
  insertDevice,
  insertHandoff,
  insertPending,
  selectDevice,
  takeDevicePoll,
  takeHandoff,
  takePending,
} from './sso-logins.repo.js'
import {
  cliSignInSchema,
  ssoDevicePollInputSchema,
  ssoExchangeInputSchema,
  type CliSignIn,
  type SsoDevicePoll,
  type SsoDeviceStart,
  type SsoExchangeInput,
} from './sso.schema.js'
import { parseInput } from '../pagination.js'
import { isUniqueViolation } from '../sql.js'

/** openid-client, loaded on the first sign-in: no command that builds the services pays for it at start-up. */
const openIdClient = (): Promise<typeof oidc> => import('openid-client')

/**
 * What a sign-in reads of the person: an ID token's claims, or what a plain OAuth 2.0 provider's user API
 * says, mapped to the same names (userInfoClaims).
 */
export interface SignInClaims {
  readonly sub: string
  readonly email?: unknown
  readonly email_verified?: unknown
  readonly name?: unknown
  readonly [claim: string]: unknown
}

/** How long a sign-in may take between the redirect and the callback. */
const PENDING_TTL_MS = 10 * 60_000
/** Abandoned sign-ins deleted per start, at most: each start tidies a little, none pays for a backlog. */
const PRUNE_BATCH = 100
/** The callback path under the server's public URL, when the provider's config names no redirect URI. */
export const SSO_CALLBACK_PATH = (provider: string): string => `/api/v1/auth/sso/${provider}/callback`

/** Where a finished sign-in's session goes: the console, or a CLI waiting on its loopback (`gantry login --sso`). */
export type SsoReturn = { readonly to: 'console' } | ({ readonly to: 'cli' } & CliSignIn)

/** How a finished sign-in ends: the console's session, or the browser sent on to the CLI with a one-time code. */
export type SsoOutcome = { readonly to: 'console'; readonly tokens: SessionTokens } | { readonly to: 'cli'; readonly redirect: string }

/** How long a CLI has to exchange the code its loopback received. */
const HANDOFF_TTL_MS = 60_000
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** What RFC 8628 §3.5 adds to the interval after each `slow_down`, and the interval where the provider gives none. */
const SLOW_DOWN_S = 5
/**
 * How long a device poll holds the turn while it asks the provider: longer than the token request and the
 * key set fetch it may make, at openid-client's 30 s each, so no other poll asks with the same code meanwhile.
 */
const DEVICE_POLL_LEASE_MS = 65_000
/** What gantry_user_identities.subject holds. */
const MAX_SUBJECT_LENGTH = 255

export interface SsoProviderView {
  readonly id: string
  readonly name: string
}

export interface SsoService {
  /** The providers users may sign in with, for sign-in pages. */
  providers(): SsoProviderView[]
  /** The authorization request: the provider's URL to send the browser to, and the value of the cookie that binds the sign-in to that browser. */
  start(providerId: string, returnTo: SsoReturn): Promise<{ url: string; binding: string }>
  /**
   * The callback: `query` the query string the provider sent the browser back with, `binding` the cookie it holds.
   * A session for the user the identity signs in as (or, for a CLI, a one-time code to take it with), or
   * SSO_FAILED (audited with the reason).
   */
  complete(providerId: string, query: string, binding: string | undefined, ctx: ActorContext): Promise<SsoOutcome>
  /** A CLI takes the session its sign-in handed it: the code its loopback received, and the verifier of its challenge. SSO_FAILED otherwise. */
  exchange(input: SsoExchangeInput, ctx: ActorContext): Promise<SessionTokens>
  /** A device sign-in for a CLI without a browser (RFC 8628): the code the person enters at the provider, and the handle to poll with. SSO_UNAVAILABLE where the provider has none. */
  startDevice(providerId: string): Promise<SsoDeviceStart>
  /**
   * One poll of a device sign-in: asks the provider once if its interval has passed since the last question
   * (or answers pending at once), and answers pending with the seconds to wait, or the session once the person
   * approved (SSO_FAILED when they refused, the code expired or the ID token fails).
   */
  pollDevice(input: { handle: string }, ctx: ActorContext): Promise<SsoDevicePoll>
}

export interface SsoServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly directory: UserDirectory
  readonly users: Pick<UsersService, 'create' | 'update'>
  readonly sessions: Pick<SessionsService, 'signIn'>
  readonly providers: readonly SsoProviderConfig[]
  /** server.publicUrl: the base of a provider's default redirect URI. */
  readonly publicUrl?: string | undefined
}

/** Builds the SSO service; a provider's metadata is discovered on its first use, and again after a failure. */
export function createSsoService(deps: SsoServiceDeps): SsoService {
  const { knex, clock, audit, directory } = deps
  const byId = new Map(deps.providers.map((p) => [p.id, p]))
  const configurations = new Map<string, Promise<oidc.Configuration>>()

  const provider = (id: string): SsoProviderConfig => {
    const found = byId.get(id)
    if (!found) throw new GantryError('SSO_PROVIDER_UNKNOWN', `No identity provider ${JSON.stringify(id.slice(0, 40))} in auth.sso.providers.`)
    return found
  }
  const redirectUri = (p: SsoProviderConfig): string => {
    if (p.redirectUri) return p.redirectUri
    if (!deps.publicUrl)
      throw new GantryError('CONFIG_INVALID', `Identity provider ${p.id} needs a redirect URI: set server.publicUrl, or the provider's redirectUri.`)
    return new URL(SSO_CALLBACK_PATH(p.id), deps.publicUrl).href
  }
  const configuration = (p: SsoProviderConfig): Promise<oidc.Configuration> => {
    let found = configurations.get(p.id)
    if (!found) {
      found = discover(p)
      configurations.set(p.id, found)
      found.catch(() => configurations.delete(p.id))
    }
    return found
  }
  /** The actor of what a sign-in does to accounts: the provider's config, whose author holds everything (see above). */
  const providerActor = (p: SsoProviderConfig, ctx: ActorContext): ActorContext => ({ actor: `system:sso:${p.id}`, permissions: ['*'], ip: ctx.ip })
  const refuse = async (p: SsoProviderConfig, ctx: ActorContext, reason: string, userId?: number): Promise<never> => {
    await audit.append(knex, ctx, {
      action: 'sessions.login-failed',
      targetType: 'user',
      targetId: userId === undefined ? '' : String(userId),
      after: { method: `sso:${p.id}`, reason },
    })
    throw new GantryError('SSO_FAILED', 'The sign-in with the identity provider was refused.', { cause: new Error(`SSO refused: ${reason}`) })
  }

  /** The user this sign-in is for: linked, linked now by a verified email, or created; or the reason it is none. */
  const accountOf = async (p: SsoProviderConfig, claims: SignInClaims, ctx: ActorContext): Promise<{ userId: number; identityId?: number } | string> => {
    const linked = await directory.byIdentity(knex, p.id, claims.sub)
    if (linked) return { userId: linked.userId, identityId: linked.identityId }
    const email = typeof claims.email === 'string' ? emailSchema.safeParse(claims.email) : undefined
    if (!email?.success) return 'no email'
    // Only an address the provider vouches for may reach an account: anyone can type any address into a profile.
    if (claims.email_verified !== true) return 'email not verified'
    const domain = email.data.slice(email.data.lastIndexOf('@') + 1)
    if (!p.allowedDomains.includes(domain)) return 'domain not allowed'
    const existing = await directory.byEmail(knex, email.data)
    if (existing && existing.status !== 'active') return 'disabled'
    // An address that changed hands at the provider: the user's own account there has another subject.
    if (existing && (await directory.hasIdentityAt(knex, existing.id, p.id))) {
      // Or linked a moment ago by a sign-in of this same identity racing this one (after the read above).
      const linkedNow = await directory.byIdentity(knex, p.id, claims.sub)
      return linkedNow ? { userId: linkedNow.userId, identityId: linkedNow.identityId } : 'user linked to another account at this provider'
    }
    let userId = existing?.id
    if (userId === undefined) {
      if (!p.autoCreate) return 'no such user'
      const role = mappedRole(p, claims) ?? p.defaultRole
      // The provider's display name may hold a tab or a bidi isolate, which a user's name may not.
      const name = typeof claims.name === 'string' ? withoutControl(claims.name).trim().slice(0, 200) : ''
      // A random password nobody is shown: the account signs in through its provider until an admin sets one.
      userId = (await deps.users.create(providerActor(p, ctx), { email: email.data, name, role, generatePassword: true })).user.id
    }
    await knex.transaction(async (trx) => {
      await directory.linkIdentity(trx, { userId: userId as number, provider: p.id, subject: claims.sub, email: email.data, at: clock.now() })
      // The provider and subject only: the provider's email could differ from the user's, and erasure would not find it again.
      await audit.append(trx, providerActor(p, ctx), {
        action: 'users.link',
        targetType: 'user',
        targetId: String(userId),
        after: { provider: p.id, subject: claims.sub },
      })
    })
    return { userId }
  }

  /**
   * accountOf, for first sign-ins of one identity at once (two tabs, a double click): they race to create the
   * user and then to link it; a loser reads again and finds what the winner wrote. Twice at most: once
   * behind the creation, once behind the link.
   */
  const settledAccountOf = async (p: SsoProviderConfig, claims: SignInClaims, ctx: ActorContext): Promise<{ userId: number; identityId?: number } | string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await accountOf(p, claims, ctx)
      } catch (err) {
        const lostRace = isUniqueViolation(err) || (isGantryError(err) && err.code === 'USER_EXISTS')
        if (!lostRace || attempt === 3) throw err
      }
    }
  }

  /**
   * With a roleClaim the provider decides the role at every sign-in: what the claim maps to, else defaultRole
   * (taken out of the group that maps to admin is taken out of admin). A demotion that would leave no active
   * admin is skipped.
   */
  const syncRole = async (p: SsoProviderConfig, userId: number, claims: SignInClaims, ctx: ActorContext): Promise<void> => {
    if (!p.roleClaim) return
    const row = await directory.byId(knex, userId)
    const role = mappedRole(p, claims) ?? p.defaultRole
    if (!row || !role || row.role === role) return
    try {
      await deps.users.update(providerActor(p, ctx), row.email, { role })
    } catch (err) {
      if (!isGantryError(err) || err.code !== 'LAST_ADMIN') throw err
    }
  }
  /** The user a checked ID token signs in as: linked (or created) and given the role the provider says; or refused. */
  const admit = async (p: SsoProviderConfig, claims: SignInClaims, ctx: ActorContext): Promise<number> => {
    // Subjects are at most 255 characters in OpenID Connect; a plain OAuth 2.0 provider's account id is not bounded.
    if (claims.sub.length > MAX_SUBJECT_LENGTH) return refuse(p, ctx, `subject longer than ${MAX_SUBJECT_LENGTH} characters`)
    const account = await settledAccountOf(p, claims, ctx)
    if (typeof account === 'string') return refuse(p, ctx, account)
    await syncRole(p, account.userId, claims, ctx)
    if (account.identityId !== undefined) await directory.identitySignedIn(knex, account.identityId, vouchedEmail(claims), clock.now())
    return account.userId
  }
  /** The session of a finished sign-in (`way`: a device sign-in is audited as such); a user disabled meanwhile is refused. */
  const signIn = async (p: SsoProviderConfig, userId: number, ctx: ActorContext, way?: 'device'): Promise<SessionTokens> => {
    try {
      return await deps.sessions.signIn(userId, way ? `sso:${p.id}:${way}` : `sso:${p.id}`, ctx)
    } catch (err) {
      if (isGantryError(err) && err.code === 'ACCOUNT_DISABLED') return refuse(p, ctx, 'disabled', userId)
      throw err
    }
  }

  return {
    providers: () => deps.providers.map((p) => ({ id: p.id, name: p.name ?? p.id })),

    async start(providerId, returnTo) {
      const p = provider(providerId)
      const cli = returnTo.to === 'cli' ? parseInput(cliSignInSchema, { cli: returnTo.cli, state: returnTo.state, challenge: returnTo.challenge }) : null
      const config = await configuration(p)
      const now = clock.now()
      await deleteExpiredPending(knex, now, PRUNE_BATCH)
      await deleteExpiredHandoffs(knex, now, PRUNE_BATCH)
      const client = await openIdClient()
      const state = client.randomState()
      const nonce = client.randomNonce()
      const codeVerifier = client.randomPKCECodeVerifier()
      const binding = randomBase62(32)
      await insertPending(knex, {
        stateHash: hashToken(state),
        bindingHash: hashToken(binding),
        provider: p.id,
        nonce,
        codeVerifier,
        returnTo: returnTo.to,
        cli: cli && { redirect: cli.cli, state: cli.state, challenge: cli.challenge },
        expiresAt: now + PENDING_TTL_MS,
      })
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri(p),
        scope: p.scopes.join(' '),
        state,
        // Plain OAuth 2.0 has no ID token to carry it back.
        ...(p.oauth2 ? {} : { nonce }),
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      })
      return { url: url.href, binding }
    },

    async complete(providerId, query, binding, ctx) {
      const p = provider(providerId)
      const state = new URLSearchParams(query).get('state')
      if (!state) return refuse(p, ctx, 'no state')
      const pending = await takePending(knex, hashToken(state))
      if (!pending || pending.provider !== p.id) return refuse(p, ctx, 'unknown or used state')
      if (clock.now() >= pending.expiresAt) return refuse(p, ctx, 'sign-in expired')
      if (binding === undefined || !tokenMatches(binding, pending.bindingHash)) return refuse(p, ctx, 'started in another browser')
      const config = await configuration(p)
      // The query as the provider sent it, on the registered redirect URI: its origin and path are what the token request names.
      const current = new URL(redirectUri(p))
      current.search = query
      let claims: SignInClaims | undefined
      try {
        const client = await openIdClient()
        const checks = { pkceCodeVerifier: pending.codeVerifier, expectedState: state }
        if (p.oauth2) {
          const tokens = await client.authorizationCodeGrant(config, current, checks)
          claims = await userInfoClaims(client, config, p.oauth2, tokens.access_token)
        } else {
          const tokens = await client.authorizationCodeGrant(config, current, { ...checks, expectedNonce: pending.nonce, idTokenExpected: true })
          claims = tokens.claims()
        }
      } catch (err) {
        return refuse(p, ctx, protocolReason(err))
      }
      if (!claims) return refuse(p, ctx, 'no ID token')
      const userId = await admit(p, claims, ctx)
      if (pending.cli) {
        // The session waits for the CLI that started: only it holds the verifier of this challenge.
        const code = randomBase62(32)
        await insertHandoff(knex, hashToken(code), {
          userId,
          provider: p.id,
          challenge: pending.cli.challenge,
          expiresAt: clock.now() + HANDOFF_TTL_MS,
        })
        const redirect = new URL(pending.cli.redirect)
        redirect.search = new URLSearchParams({ code, state: pending.cli.state }).toString()
        return { to: 'cli', redirect: redirect.href }
      }
      return { to: 'console', tokens: await signIn(p, userId, ctx) }
    },

    async exchange(input, ctx) {
      const { code, verifier } = parseInput(ssoExchangeInputSchema, input)
      const handoff = await takeHandoff(knex, hashToken(code))
      const p = handoff && byId.get(handoff.provider)
      if (!handoff || !p) throw exchangeRefused('unknown or used code')
      if (clock.now() >= handoff.expiresAt) return refuse(p, ctx, 'cli code expired', handoff.userId)
      if ((await (await openIdClient()).calculatePKCECodeChallenge(verifier)) !== handoff.challenge)
        return refuse(p, ctx, 'cli verifier does not match', handoff.userId)
      return signIn(p, handoff.userId, ctx)
    },

    async startDevice(providerId) {
      const p = provider(providerId)
      // The reason lets each door word the way out (the CLI: its browser sign-in).
      const details = { provider: p.id, reason: 'device-flow-unavailable' }
      if (!p.deviceFlow)
        throw new GantryError('SSO_UNAVAILABLE', `Identity provider ${p.id} is not configured for sign-in on another device (deviceFlow).`, { details })
      const config = await configuration(p)
      if (!config.serverMetadata().device_authorization_endpoint)
        throw new GantryError('SSO_UNAVAILABLE', `Identity provider ${p.id} offers no device sign-in (RFC 8628).`, { details })
      const client = await openIdClient()
      let answer: oidc.DeviceAuthorizationResponse
      try {
        answer = await client.initiateDeviceAuthorization(config, { scope: p.scopes.join(' ') })
      } catch (err) {
        // Most often the client is not allowed the device grant at the provider.
        throw new GantryError('SSO_UNAVAILABLE', `Identity provider ${p.id} refused a device sign-in: ${protocolReason(err).replace(/\.$/, '')}.`, {
          details,
          cause: err,
        })
      }
      const now = clock.now()
      await deleteExpiredDevices(knex, now, PRUNE_BATCH)
      const handle = randomBase62(32)
      const interval = Math.max(1, Math.ceil(answer.interval ?? SLOW_DOWN_S))
      await insertDevice(knex, hashToken(handle), {
        provider: p.id,
        deviceCode: answer.device_code,
        interval,
        nextPollAt: now + interval * 1000,
        expiresAt: now + answer.expires_in * 1000,
      })
      return {
        handle,
        userCode: answer.user_code,
        verificationUri: answer.verification_uri,
        verificationUriComplete: answer.verification_uri_complete ?? null,
        expiresIn: answer.expires_in,
        interval,
      }
    },

    async pollDevice(input, ctx) {
      const handleHash = hashToken(parseInput(ssoDevicePollInputSchema, input).handle)
      const device = await selectDevice(knex, handleHash)
      const p = device && byId.get(device.provider)
      if (!device || !p) throw exchangeRefused('unknown or ended device sign-in')
      const now = clock.now()
      if (now >= device.expiresAt) {
        await deleteDevice(knex, handleHash)
        return refuse(p, ctx, 'device code expired')
      }
      const config = await configuration(p)
      const client = await openIdClient()
      // One poll at a time asks the provider, at most once per interval, whatever the client does: a poll
      // before the turn, or while another asks, answers pending with the seconds to wait (an interval at most).
      const wait = { status: 'pending' as const, interval: Math.min(device.interval, Math.max(1, Math.ceil((device.nextPollAt - now) / 1000))) }
      if (now < device.nextPollAt) return wait
      const lease = now + Math.max(device.interval * 1000, DEVICE_POLL_LEASE_MS)
      if (!(await takeDevicePoll(knex, handleHash, device.nextPollAt, { at: lease, interval: device.interval }))) return wait
      // The next turn, an interval after the provider's answer.
      const release = (interval: number) => takeDevicePoll(knex, handleHash, lease, { at: clock.now() + interval * 1000, interval })
      let claims: SignInClaims | undefined
      try {
        // One request, which Gantry's pacing never cuts short: its answer may be the approval, and a device code
        // is good for one token response. (openid-client gives up after 30 s: the provider is then out of reach.)
        claims = (await client.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: device.deviceCode })).claims()
      } catch (err) {
        const error = (err as { error?: unknown }).error
        if (error === 'authorization_pending' || error === 'slow_down') {
          const interval = device.interval + (error === 'slow_down' ? SLOW_DOWN_S : 0)
          await release(interval)
          return { status: 'pending', interval }
        }
        // The provider out of reach or failing for now: the sign-in stays, the CLI asks again.
        if (transient(err)) {
          await release(device.interval)
          throw new GantryError('SSO_UNAVAILABLE', `Identity provider ${p.id} did not answer the poll.`, { cause: err })
        }
        // Refused for good: the sign-in ends (unless another poll took it over, its lease run out).
        await deleteDevice(knex, handleHash, lease)
        return refuse(p, ctx, protocolReason(err))
      }
      // One session per handle, whatever the provider does with a code polled twice at once (a CLI that retried).
      if (!(await deleteDevice(knex, handleHash))) throw exchangeRefused('device sign-in ended by another poll')
      if (!claims) return refuse(p, ctx, 'no ID token')
      return { status: 'signed-in', tokens: await signIn(p, await admit(p, claims, ctx), ctx, 'device') }
    },
  }
}

/** The address the provider vouches for (checked, in its one spelling), or null: what an identity shows as the provider's. */
function vouchedEmail(claims: SignInClaims): string | null {
  if (claims.email_verified !== true || typeof claims.email !== 'string') return null
  const email = emailSchema.safeParse(claims.email)
  return email.success ? email.data : null
}

/** Whether `url` is https, or plain http to this machine (a provider on loopback, in development and tests). */
function secureEnough(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
}

/**
 * The provider's metadata, over https (plain http only to this machine): discovered from an OpenID Connect
 * issuer, or as the config writes a plain OAuth 2.0 provider's endpoints.
 */
async function discover(p: SsoProviderConfig): Promise<oidc.Configuration> {
  const issuer = new URL(p.issuer)
  const urls = [issuer, ...Object.values(p.oauth2 ?? {}).flatMap((v) => (typeof v === 'string' ? [new URL(v)] : []))]
  if (!urls.every(secureEnough)) throw new GantryError('CONFIG_INVALID', `Identity provider ${p.id}: its URLs must be https (plain http only on this machine).`)
  const client = await openIdClient()
  const auth = p.clientSecret ? client.ClientSecretPost(p.clientSecret) : client.None()
  if (p.oauth2) {
    const config = new client.Configuration(
      { issuer: p.issuer, authorization_endpoint: p.oauth2.authorizationEndpoint, token_endpoint: p.oauth2.tokenEndpoint },
      p.clientId,
      undefined,
      auth,
    )
    // Limited to loopback URLs, checked above (typed @deprecated to stand out).
    if (urls.some((u) => u.protocol === 'http:')) client.allowInsecureRequests(config)
    return config
  }
  // openid-client takes an ID token from the token endpoint on the strength of TLS alone (OIDC Core 3.1.3.7
  // allows it); the signature is checked against the provider's JWKS as well, so a token the provider did not
  // sign (a compromised route, a proxy in the middle, plain http on loopback) never signs anyone in.
  // allowInsecureRequests is typed @deprecated to stand out: here it is limited to loopback issuers, checked above.
  const execute = [client.enableNonRepudiationChecks, ...(issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [])]
  try {
    return await client.discovery(issuer, p.clientId, undefined, auth, { execute })
  } catch (err) {
    throw new GantryError('SSO_UNAVAILABLE', `Identity provider ${p.id} did not answer its discovery (${p.issuer}).`, { cause: err })
  }
}

/**
 * A plain OAuth 2.0 provider's account, as the claims a sign-in reads: its user API's answer with `sub`,
 * `email`, `name` taken from the fields the config names. An address counts as verified only where the
 * provider vouches for it — the field `claims.emailVerified` is true, or the emails endpoint lists it
 * verified (the user info's address if listed, else the primary verified one): a profile's email is
 * whatever its owner typed.
 */
async function userInfoClaims(client: typeof oidc, config: oidc.Configuration, o: OAuth2Endpoints, accessToken: string): Promise<SignInClaims> {
  const get = async (url: string): Promise<unknown> => {
    const res = await client.fetchProtectedResource(config, accessToken, new URL(url), 'GET')
    if (!res.ok) throw new Error(`the user API answered ${res.status} at ${url}`)
    return res.json()
  }
  const info = await get(o.userInfoEndpoint)
  if (!isRecord(info)) throw new Error('the user API answered no JSON object')
  const sub = info[o.claims?.sub ?? 'id']
  if ((typeof sub !== 'string' && typeof sub !== 'number') || String(sub) === '') throw new Error('no account id in the user info')
  let email = info[o.claims?.email ?? 'email']
  let verified = o.claims?.emailVerified !== undefined && info[o.claims.emailVerified] === true
  if (o.emailsEndpoint) {
    const listed = await get(o.emailsEndpoint)
    const addresses = (Array.isArray(listed) ? listed : []).filter(isRecord).filter((e) => e.verified === true && typeof e.email === 'string')
    const same = (e: Record<string, unknown>) => typeof email === 'string' && String(e.email).toLowerCase() === email.toLowerCase()
    const vouched = addresses.find(same) ?? addresses.find((e) => e.primary === true)
    if (vouched) {
      email = vouched.email
      verified = true
    }
  }
  return { ...info, sub: String(sub), email, email_verified: verified, name: info[o.claims?.name ?? 'name'] }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The first of the claim's values that roleMap knows, mapped; undefined when none is. */
function mappedRole(p: SsoProviderConfig, claims: SignInClaims): string | undefined {
  if (!p.roleClaim) return undefined
  const value = claims[p.roleClaim]
  const values = Array.isArray(value) ? value : [value]
  for (const v of values) if (typeof v === 'string' && Object.hasOwn(p.roleMap, v)) return p.roleMap[v]
  return undefined
}

// A code that names no sign-in has no provider to audit under: the same answer, unaudited (it carries nothing to record).
function exchangeRefused(reason: string): GantryError {
  return new GantryError('SSO_FAILED', 'The sign-in with the identity provider was refused.', { cause: new Error(`SSO refused: ${reason}`) })
}

/** Whether openid-client failed to reach the provider (a timeout, a refused connection), rather than being answered. */
function unreachable(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: unknown }
  return e.code === 'OAUTH_TIMEOUT' || err instanceof TypeError || e.cause instanceof TypeError
}

/**
 * Whether a token request failed for now rather than being refused: the provider out of reach, or answering
 * `server_error`, `temporarily_unavailable` or a 5xx (a proxy's error page included).
 */
function transient(err: unknown): boolean {
  const e = err as { error?: unknown; status?: unknown; cause?: unknown }
  const status = typeof e.status === 'number' ? e.status : e.cause instanceof Response ? e.cause.status : 0
  return unreachable(err) || e.error === 'server_error' || e.error === 'temporarily_unavailable' || status >= 500
}

/** Why openid-client refused, for the audit log: its error's cause says which check failed. */
function protocolReason(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown }; error?: unknown; error_description?: unknown }
  const detail = typeof e.error === 'string' ? `${e.error}${typeof e.error_description === 'string' ? `: ${e.error_description}` : ''}` : undefined
  const text = detail ?? (typeof e.cause?.message === 'string' ? e.cause.message : typeof e.message === 'string' ? e.message : 'refused')
  return text.slice(0, 200)
}
