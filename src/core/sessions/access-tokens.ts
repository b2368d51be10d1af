/**
 * Access tokens: short-lived JWTs (RFC 9068 `at+jwt`) signed with one pinned algorithm, exact issuer and
 * audience, a random `jti`, and times from the injected clock. Anything that is not exactly such a token is
 * refused with one TOKEN_INVALID message; the reason stays on `cause`, for logs only.
 */
import { jwtVerify, SignJWT } from 'jose'
import type { Clock } from '../clock.js'
import { GantryError } from '../errors.js'
import { randomId } from '../random.js'
import { accessTokenClaimsSchema, accessTokenInputSchema, type AccessTokenClaims, type AccessTokenInput, type SignedAccessToken } from './sessions.schema.js'

const TYP = 'at+jwt'
const MIN_SECRET_BYTES = 32
const DEFAULT_TTL_SECONDS = 900
const DEFAULT_TOLERANCE_SECONDS = 30
const MAX_TOLERANCE_SECONDS = 60
/** Far above any token Gantry signs: a larger one is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 8192

export interface AccessTokensOptions {
  /** The HS256 secret: at least 32 bytes (a string counts in UTF-8 bytes). */
  readonly secret: string | Uint8Array
  readonly issuer: string
  readonly audience: string
  /** Lifetime of a token (default 900 s). */
  readonly ttlSeconds?: number | undefined
  /** Leeway for clock skew on exp, nbf and iat (default 30 s, at most 60 s). */
  readonly clockToleranceSeconds?: number | undefined
  readonly clock: Clock
}

export interface AccessTokens {
  /** Signs a token for a user or an API key. */
  sign(input: AccessTokenInput): Promise<SignedAccessToken>
  /** The claims of a valid token; TOKEN_INVALID for anything else. */
  verify(token: string): Promise<AccessTokenClaims>
}

/**
 * The key material of one signing scheme. Today a single HS256 secret; EdDSA with `kid` rotation (a later
 * issue) becomes another implementation of this shape: a signing key and its header, and a lookup of the
 * verification key from the token's header.
 */
interface TokenKeys {
  readonly alg: 'HS256'
  readonly signingKey: Uint8Array
  readonly verificationKey: Uint8Array
}

/** Builds the signer and verifier of access tokens; CONFIG_INVALID or AUTH_SECRET_WEAK on bad options. */
export function createAccessTokens(options: AccessTokensOptions): AccessTokens {
  const { issuer, audience, clock } = options
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS
  if (!issuer || !audience) throw new GantryError('CONFIG_INVALID', 'Access tokens need an issuer and an audience.')
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new GantryError('CONFIG_INVALID', 'The access-token lifetime must be a positive number of seconds.')
  if (!Number.isSafeInteger(tolerance) || tolerance < 0 || tolerance > MAX_TOLERANCE_SECONDS) {
    throw new GantryError('CONFIG_INVALID', `The access-token clock tolerance must be 0 to ${MAX_TOLERANCE_SECONDS} seconds.`)
  }
  const keys = hs256Keys(options.secret)

  return {
    async sign(input) {
      const parsed = accessTokenInputSchema.safeParse(input)
      if (!parsed.success) throw new GantryError('INVALID_INPUT', 'An access token needs a subject, a session epoch and a kind.', { cause: parsed.error })
      const { sub, epoch, kind, permissions, scopes } = parsed.data
      const iat = Math.floor(clock.now() / 1000)
      const exp = iat + (parsed.data.ttlSeconds ?? ttlSeconds)
      const jti = randomId()
      const token = await new SignJWT({ epoch, kind, permissions, scopes })
        .setProtectedHeader({ alg: keys.alg, typ: TYP })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setJti(jti)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(keys.signingKey)
      return { token, jti, expiresAt: exp * 1000 }
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalidToken('not a string of a plausible length')
      let payload: unknown
      try {
        const now = clock.now()
        const verified = await jwtVerify(token, keys.verificationKey, {
          algorithms: [keys.alg],
          issuer,
          audience,
          typ: TYP,
          currentDate: new Date(now),
          clockTolerance: tolerance,
          requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        })
        payload = verified.payload
        // jose checks iat against the clock only with maxTokenAge; a token issued in the future is refused here.
        if (typeof verified.payload.iat !== 'number' || verified.payload.iat > now / 1000 + tolerance) throw new Error('iat is in the future')
      } catch (cause) {
        throw invalidToken(cause)
      }
      const claims = accessTokenClaimsSchema.safeParse(payload)
      if (!claims.success) throw invalidToken(claims.error)
      return claims.data
    },
  }
}

function hs256Keys(secret: string | Uint8Array): TokenKeys {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : Uint8Array.from(secret)
  if (key.byteLength < MIN_SECRET_BYTES) throw new GantryError('AUTH_SECRET_WEAK', `The access-token secret must be at least ${MIN_SECRET_BYTES} bytes.`)
  return { alg: 'HS256', signingKey: key, verificationKey: key }
}

// One message for every refusal: a caller learns nothing about which check failed.
function invalidToken(cause: unknown): GantryError {
  return new GantryError('TOKEN_INVALID', 'The access token is invalid or expired.', { cause })
}
