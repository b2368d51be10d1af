/**
 * OAuth clients: machine clients of the client-credentials grant (RFC 6749 §4.4). A client is an owned
 * credential like an API key (credentials/owned-credentials.ts): created for an owner with scopes within
 * the owner's and the creator's permissions, its secret (`gcs_<env>_<client id>_<secret><check>`) shown once
 * and stored hashed, rotated with a grace period, revoked. It trades its id and secret for a short-lived
 * access token (RFC 9068: `typ` at+jwt, `client_id`, `scope`) instead of presenting the secret on every call.
 *
 * A token names the client, not what it may do: each request resolves the client's standing now (revoked,
 * expired, owner disabled, owner's role) through a cache of at most one second, so rights taken away reach
 * every token within that second. A token revocation (RFC 7009) raises the client's token epoch, which
 * ends every token the client holds (the RFC allows ending the other tokens of the same grant).
 */
import type { AuditService } from '../audit/audit.service.js'
import type { AuditRecord } from '../audit/audit.schema.js'
import type { ActorContext } from '../context.js'
import { credentialFormat } from '../apikeys/apikey-format.js'
import { intersect, ownedCredentials, type OwnedCredentialsDeps } from '../credentials/owned-credentials.js'
import { parseDuration } from '../duration.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { hasPermission, permissionSchema, requirePermission } from '../roles/permissions.js'
import type { AccessTokens } from '../sessions/access-tokens.js'
import type { AccessTokenClaims } from '../sessions/sessions.schema.js'
import { createTtlCache } from '../sessions/ttl-cache.js'
import { oauthClientsTable, raiseTokenEpoch, type OAuthClientRow } from './oauth-clients.repo.js'
import {
  clientIdSchema,
  createOAuthClientInputSchema,
  oauthClientListInputSchema,
  rotateOAuthClientInputSchema,
  type ClientCredentials,
  type CreateOAuthClientInput,
  type OAuthClient,
  type OAuthClientListInput,
  type OAuthClientPage,
  type OAuthClientWithSecret,
  type RotateOAuthClientInput,
  type TokenResponse,
} from './oauth-clients.schema.js'

/** How long a client's standing is trusted without reading it again: the second within which taken rights reach every token. */
const STANDING_TTL_MS = 1000
/** The most scopes a token request may name, and the longest scope parameter read. */
const MAX_REQUESTED_SCOPES = 100
const MAX_SCOPE_LENGTH = 8192

/** Client secrets: `gcs_…`; every malformed one is the one invalid-client answer. */
const clientSecretFormat = credentialFormat('gcs', () => invalidClient('malformed secret'))

/**
 * Called once the client's secret matched, before anything is done for it: the door's per-client rate limit,
 * which counts only the client's own requests (anyone can send a client's public id, so counting before the
 * secret would let anyone spend its budget).
 */
export type Admit = (clientId: string) => Promise<void>

/** A caller behind a client's access token, as authenticate() makes it an actor. */
export interface ClientAccess {
  readonly clientId: string
  /** The client's owner: the user it acts for. */
  readonly ownerId: number
  /** The token's scopes, within the client's and the owner's permissions now. */
  readonly permissions: string[]
}

export interface OAuthClientsService {
  /** Needs oauth:write, permissions covering the owner's (default: the caller) and every scope; the secret is in the answer only. */
  create(ctx: ActorContext, input: CreateOAuthClientInput): Promise<OAuthClientWithSecret>
  /** Needs oauth:read; never a secret. */
  list(ctx: ActorContext, input?: OAuthClientListInput): Promise<OAuthClientPage>
  /** Needs oauth:read. */
  get(ctx: ActorContext, clientId: string): Promise<OAuthClient>
  /** Needs oauth:write and permissions covering the owner's: no new token from the next request on, its tokens end within a second. */
  revoke(ctx: ActorContext, clientId: string): Promise<OAuthClient>
  /** Needs oauth:write, permissions covering the owner's and the client's scopes; the previous secret works for the grace period, and with none (0s) the client's tokens end too. */
  rotate(ctx: ActorContext, clientId: string, input?: RotateOAuthClientInput): Promise<OAuthClientWithSecret>
  /**
   * The client-credentials grant: an access token for a client whose secret matches, with the scopes asked
   * (space-separated, each within what the client may do now) or all of them. OAUTH_CLIENT_INVALID for any
   * credential problem (audited with its reason), OAUTH_SCOPE_INVALID for a scope beyond the client's.
   */
  issueToken(credentials: ClientCredentials, scope: string | undefined, ctx: ActorContext, admit?: Admit): Promise<TokenResponse>
  /**
   * Token revocation (RFC 7009) by the client that holds the token: ends every token of that client. A token
   * that is not a valid client token needs nothing done; one of another client is OAUTH_CLIENT_UNAUTHORIZED.
   */
  revokeToken(credentials: ClientCredentials, token: string, ctx: ActorContext, admit?: Admit): Promise<void>
  /** What the caller behind a verified client token may do now; TOKEN_INVALID once the client or its token ended. */
  access(claims: AccessTokenClaims): Promise<ClientAccess>
  /** What client `clientId` may do now, no permission check: its effective scopes, or none once it ended. */
  scopesNow(clientId: string): Promise<string[]>
}

export interface OAuthClientsServiceDeps extends OwnedCredentialsDeps {
  readonly audit: AuditService
  /** The environment's access-token signer (the sessions service's): client tokens are signed and verified like every other. */
  readonly accessTokens: () => AccessTokens
}

/** Builds the OAuth clients service. */
export function createOAuthClientsService(deps: OAuthClientsServiceDeps): OAuthClientsService {
  const { knex, clock, audit } = deps
  const clients = ownedCredentials<OAuthClientRow>(
    {
      noun: 'OAuth client',
      permissions: { read: 'oauth:read', write: 'oauth:write' },
      targetType: 'oauth-client',
      actions: { create: 'oauth.clients.create', revoke: 'oauth.clients.revoke', rotate: 'oauth.clients.rotate' },
      errors: { notFound: 'OAUTH_CLIENT_NOT_FOUND', revoked: 'OAUTH_CLIENT_REVOKED' },
      table: oauthClientsTable,
      format: clientSecretFormat,
      parseId: (text) => parseInput(clientIdSchema, text),
    },
    deps,
  )
  const withSecret = ({ view, secret }: { view: OAuthClient; secret: string }): OAuthClientWithSecret => ({ client: view, clientSecret: secret })
  /** What a client may do now, or why not; read at most once a second per client. */
  const standings = createTtlCache<string, { ownerId: number; scopes: string[]; tokenEpoch: number } | string>({
    clock,
    ttlMs: STANDING_TTL_MS,
    read: async (clientId) => {
      const row = await oauthClientsTable.find(knex, clientId)
      if (!row) return 'gone'
      const standing = await clients.standing(row, clock.now())
      return typeof standing === 'string' ? standing : { ownerId: standing.owner.id, scopes: standing.scopes, tokenEpoch: row.tokenEpoch }
    },
  })
  /** A refusal at the token or revocation endpoint, audited with its reason; the typed id is kept only when such a client exists. */
  const refuse = async (ctx: ActorContext, reason: string, row?: OAuthClientRow): Promise<never> => {
    const record: AuditRecord = { action: 'oauth.token-refused', targetType: 'oauth-client', targetId: row?.publicId ?? '', after: { reason } }
    await audit.append(knex, ctx, record)
    throw invalidClient(reason)
  }
  /** The client whose id and secret these are. */
  const authenticateClient = async (credentials: ClientCredentials, ctx: ActorContext): Promise<OAuthClientRow> => {
    const id = clientIdSchema.safeParse(credentials.clientId)
    let presented: ReturnType<typeof clientSecretFormat.parse>
    try {
      presented = clientSecretFormat.parse(credentials.clientSecret)
    } catch {
      return refuse(ctx, 'malformed secret', id.success ? await oauthClientsTable.find(knex, id.data) : undefined)
    }
    if (!id.success || presented.keyId !== id.data) return refuse(ctx, 'secret of another client')
    const row = await clients.match(presented.keyId, presented.secret, clock.now())
    if (row) return row
    return refuse(ctx, 'unknown client or wrong secret', await oauthClientsTable.find(knex, presented.keyId))
  }

  return {
    async create(ctx, input) {
      requirePermission(ctx, 'oauth:write')
      return withSecret(await clients.create(ctx, parseInput(createOAuthClientInputSchema, input)))
    },

    list(ctx, input = {}) {
      requirePermission(ctx, 'oauth:read')
      return clients.list(ctx, parseInput(oauthClientListInputSchema, input))
    },

    get: (ctx, clientId) => clients.get(ctx, clientId),

    async revoke(ctx, clientId) {
      const revoked = await clients.revoke(ctx, clientId)
      standings.forget(revoked.id)
      return revoked
    },

    async rotate(ctx, clientId, input = {}) {
      requirePermission(ctx, 'oauth:write')
      const graceMs = parseDuration(parseInput(rotateOAuthClientInputSchema, input).grace)
      // No grace is the answer to a leaked secret: the tokens it may have bought end too, in the rotation's transaction (within a second everywhere).
      const rotated = await clients.rotate(ctx, clientId, graceMs, graceMs === 0 ? (trx, row) => raiseTokenEpoch(trx, row.id) : undefined)
      standings.forget(rotated.view.id)
      return withSecret(rotated)
    },

    async issueToken(credentials, scope, ctx, admit) {
      const signer = deps.accessTokens() // a missing secret is a configuration error, found before any credential work
      const row = await authenticateClient(credentials, ctx)
      await admit?.(row.publicId)
      const now = clock.now()
      // The row just read says whether the client itself still stands; its owner's standing and rights come
      // through the cache every token check uses (at most a second old), not two more queries per token.
      if (row.revokedAt !== null) return refuse(ctx, 'revoked', row)
      if (row.expiresAt !== null && now >= row.expiresAt) return refuse(ctx, 'expired', row)
      const standing = await standings.get(row.publicId)
      if (typeof standing === 'string') return refuse(ctx, standing, row)
      const granted = scope === undefined ? standing.scopes : requestedScopes(scope, standing.scopes)
      // The owner holds none of the client's scopes any more: a token that allows nothing is refused (RFC 6749 §3.3).
      if (granted.length === 0) throw new GantryError('OAUTH_SCOPE_INVALID', "The client's owner no longer holds any of its scopes.")
      const signed = await signer.sign({
        sub: row.publicId,
        epoch: row.tokenEpoch,
        kind: 'client',
        client_id: row.publicId,
        scope: granted.join(' '),
      })
      await clients.touch(row, now)
      return {
        access_token: signed.token,
        token_type: 'Bearer',
        expires_in: Math.max(0, Math.floor((signed.expiresAt - now) / 1000)),
        scope: granted.join(' '),
      }
    },

    async revokeToken(credentials, token, ctx, admit) {
      const row = await authenticateClient(credentials, ctx)
      await admit?.(row.publicId)
      let claims: AccessTokenClaims
      try {
        claims = await deps.accessTokens().verify(token)
      } catch {
        return // RFC 7009 §2.2: an invalid or expired token needs nothing done, and the answer is the same
      }
      if (claims.kind !== 'client') return
      if (claims.client_id !== row.publicId)
        throw new GantryError('OAUTH_CLIENT_UNAUTHORIZED', 'This token was issued to another client: only its own client may revoke it.')
      await knex.transaction(async (trx) => {
        const current = await oauthClientsTable.find(trx, row.publicId, true)
        if (!current || current.tokenEpoch !== claims.epoch) return // revoked already
        await raiseTokenEpoch(trx, current.id)
        await audit.append(trx, ctx, {
          action: 'oauth.tokens.revoke',
          targetType: 'oauth-client',
          targetId: current.publicId,
          after: { tokenEpoch: current.tokenEpoch + 1 },
        })
      })
      standings.forget(row.publicId)
    },

    async access(claims) {
      const clientId = claims.client_id
      if (claims.kind !== 'client' || clientId === undefined || claims.sub !== clientId) throw tokenRefused('not a client token')
      let standing = await standings.get(clientId)
      // A token newer than what this instance cached (signed after a revocation elsewhere): read the client again.
      if (typeof standing !== 'string' && claims.epoch > standing.tokenEpoch) {
        standings.forget(clientId)
        standing = await standings.get(clientId)
      }
      if (typeof standing === 'string') throw tokenRefused(`client ${standing}`)
      if (standing.tokenEpoch !== claims.epoch) throw tokenRefused('token revoked')
      return { clientId, ownerId: standing.ownerId, permissions: intersect(splitScope(claims.scope ?? ''), standing.scopes) }
    },

    async scopesNow(clientId) {
      const standing = await standings.get(clientId)
      return typeof standing === 'string' ? [] : standing.scopes
    },
  }
}

/** The scopes a token request names (RFC 6749 §3.3: space-separated), each within what the client may do now. */
function requestedScopes(scope: string, allowed: readonly string[]): string[] {
  const asked = scope.length > MAX_SCOPE_LENGTH ? [] : splitScope(scope)
  if (asked.length === 0 || asked.length > MAX_REQUESTED_SCOPES)
    throw new GantryError('OAUTH_SCOPE_INVALID', `Ask for 1 to ${MAX_REQUESTED_SCOPES} scopes, space-separated, or leave scope out for all of the client's.`)
  for (const s of asked) {
    if (!permissionSchema.safeParse(s).success) throw new GantryError('OAUTH_SCOPE_INVALID', 'A scope is a permission such as orders:read.')
    if (!hasPermission(allowed, s)) throw new GantryError('OAUTH_SCOPE_INVALID', `Scope ${s} is beyond what this client may do now.`)
  }
  return [...new Set(asked)]
}

function splitScope(scope: string): string[] {
  return scope.split(' ').filter((s) => s.length > 0)
}

// One answer for every credential problem (RFC 6749 invalid_client); the reason stays on `cause`, and in the audit log.
function invalidClient(reason: string): GantryError {
  return new GantryError('OAUTH_CLIENT_INVALID', 'The client id or secret is not valid.', { cause: new Error(`OAuth client refused: ${reason}`) })
}

// The message access-tokens.ts gives for every refusal.
function tokenRefused(reason: string): GantryError {
  return new GantryError('TOKEN_INVALID', 'The access token is invalid or expired.', { cause: new Error(`access token refused: ${reason}`) })
}
