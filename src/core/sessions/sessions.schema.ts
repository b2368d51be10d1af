/** The payloads of sessions: what an access token carries, and what signing one takes. */
import { z } from 'zod'
import { durationSchema } from '../duration.js'
import type { SsoProviderConfig } from '../sso/sso-config.js'
import type { TokenAlgorithm } from './token-keys.js'

/** The longest life of any access token when `auth.maxTokenTtl` is not set: a script's token is still a bearer credential. */
export const DEFAULT_MAX_TOKEN_TTL = '24h'

/** Who an access token speaks for: a user who logged in, an API key exchanged for a token, or an OAuth client (client-credentials grant). */
export const tokenKindSchema = z.enum(['user', 'apikey', 'client'])

const claimList = z.array(z.string().min(1).max(200)).max(500)

/** What `sign` takes. `ttlSeconds` overrides the configured lifetime (a script token's own). */
export const accessTokenInputSchema = z.object({
  sub: z.string().min(1).max(255),
  epoch: z.number().int().min(0),
  kind: tokenKindSchema,
  permissions: claimList.optional(),
  scopes: claimList.optional(),
  /** The session family (refresh-token family) a login's tokens belong to: logout ends them all. None for script tokens. */
  sid: z.string().min(1).max(64).optional(),
  /** RFC 9068 for a client's token: its client_id, and the scopes granted, space-separated. */
  client_id: z.string().min(1).max(64).optional(),
  scope: z.string().max(20_000).optional(),
  ttlSeconds: z.number().int().positive().optional(),
})
export type AccessTokenInput = z.input<typeof accessTokenInputSchema>

/**
 * The claims of a verified access token. The signature, algorithm, typ, iss, aud and times are checked
 * before this schema runs; it guards the shape of what the rest of the code reads.
 */
export const accessTokenClaimsSchema = z.object({
  sub: z.string().min(1).max(255),
  jti: z.string().min(1).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
  epoch: z.number().int().min(0),
  kind: tokenKindSchema,
  /** The environment that signed it; absent only in tokens signed before environments were named (accepted until they expire). */
  env: z.string().min(1).max(64).optional(),
  sid: z.string().min(1).max(64).optional(),
  permissions: claimList.optional(),
  scopes: claimList.optional(),
  client_id: z.string().min(1).max(64).optional(),
  scope: z.string().max(20_000).optional(),
})
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>

/** A signed access token; `expiresAt` in epoch milliseconds. */
export interface SignedAccessToken {
  readonly token: string
  readonly jti: string
  readonly expiresAt: number
}

/** A refresh token as handed to the client once; `expiresAt` in epoch milliseconds. */
export interface IssuedRefreshToken {
  readonly token: string
  readonly familyId: string
  readonly expiresAt: number
}

/** The result of a successful rotation: the successor token and whose session it continues. */
export interface RotatedRefreshToken extends IssuedRefreshToken {
  readonly userId: number
  readonly sessionEpoch: number
}

/** The token settings of an environment (gantry.config.json `auth`); durations as strings ('15m', '30d'). */
export interface AuthSettings {
  /** The HS256 secret, under EdDSA the key that seals private keys; undefined when the environment has none (only token use needs it). */
  readonly secret?: string | undefined
  /** The pinned signing algorithm (default HS256). */
  readonly algorithm?: TokenAlgorithm | undefined
  readonly issuer: string
  readonly audience: string
  readonly accessTokenTtl: string
  readonly refreshTokenTtl: string
  /** The longest life of any access token (default 24h): longer ones are neither signed nor accepted. */
  readonly maxTokenTtl?: string | undefined
  /** How long refresh tokens stay after their session ended, then the worker deletes them (default 7d). */
  readonly expiredTokenRetention?: string | undefined
  /** The identity providers users may sign in with (single sign-on). */
  readonly sso?: { readonly providers: readonly SsoProviderConfig[] } | undefined
  /** false: no password sign-in through any door but the break-glass admin's through the CLI on the database (default true). */
  readonly passwordLogin?: boolean | undefined
  /** The one admin who may still sign in with a password where passwordLogin is off, through the CLI on the database only. */
  readonly breakGlass?: string | undefined
}

/**
 * A change that outdates what instances hold in memory about who may do what: a user's status, epoch,
 * role or ended sessions (`userId`), or the permissions of roles (`roles`). Announced to every instance
 * after it commits; each drops what it cached, and the cache's second is the bound when a message is lost.
 */
export type AccessChange = { readonly userId: number } | { readonly roles: true }

/** What a login or a refresh hands the client, once. */
export const sessionTokensSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresAt: z.string().describe('ISO 8601: when the access token expires'),
})
export type SessionTokens = z.infer<typeof sessionTokensSchema>

/** `tokens issue`: the lifetime of a script's token (default: the environment's access-token lifetime). */
export const issueTokenInputSchema = z.object({
  ttl: durationSchema.optional(),
})
export type IssueTokenInput = z.input<typeof issueTokenInputSchema>

/** An access token minted for a script, shown once. */
export const issuedTokenSchema = z.object({
  token: z.string().describe('the access token, shown this once'),
  user: z.string().describe("the user's email"),
  jti: z.string(),
  expiresAt: z.string().describe('ISO 8601'),
})
export type IssuedToken = z.infer<typeof issuedTokenSchema>

/** `tokens revoke`: every session of a user ended. */
export const revokedSessionsSchema = z.object({
  user: z.string().describe("the user's email"),
  refreshTokensRevoked: z.number().int().describe('live refresh tokens revoked; access tokens stop within 1 s'),
})
export type RevokedSessions = z.infer<typeof revokedSessionsSchema>
