/**
 * Access tokens: short-lived JWTs (RFC 9068 `at+jwt`) signed with one pinned algorithm (HS256, or EdDSA with
 * a `kid` naming the key: token-keys.ts), exact issuer and audience, the environment's name (`env`: two
 * environments sharing a secret still refuse each other's tokens), a random `jti`, times from the injected
 * clock, and a lifetime no longer than the environment's maximum (a longer one is refused even when validly
 * signed: tokens minted before the maximum existed end with it). Anything that is not exactly such a token is refused with one TOKEN_INVALID message; the
 * reason stays on `cause`, for logs only.
 */
import { jwtVerify, SignJWT, type CryptoKey, type JWSHeaderParameters } from 'jose'
import type { Clock } from '../clock.js'
import { GantryError } from '../errors.js'
import { randomId } from '../random.js'
import type { TokenKeys } from './token-keys.js'
import { createVerifiedTokens } from './verified-tokens.js'
import { accessTokenClaimsSchema, accessTokenInputSchema, type AccessTokenClaims, type AccessTokenInput, type SignedAccessToken } from './sessions.schema.js'

const TYP = 'at+jwt'
const DEFAULT_TTL_SECONDS = 900
const DEFAULT_MAX_TTL_SECONDS = 86_400
const DEFAULT_TOLERANCE_SECONDS = 30
/** The most a verifier accepts a token past its expiry (for clock skew). */
export const MAX_TOLERANCE_SECONDS = 60
/** Far above any token Gantry signs: a larger one is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 8192

export interface AccessTokensOptions {
  /** The pinned algorithm and its keys: `hs256Keys(secret)`, or the EdDSA key ring. */
  readonly keys: TokenKeys
  readonly issuer: string
  readonly audience: string
  /** Lifetime of a token (default 900 s). */
  readonly ttlSeconds?: number | undefined
  /** The longest lifetime (exp - iat) signed or accepted (default 24 h). */
  readonly maxTtlSeconds?: number | undefined
  /** The environment's name, carried as `env` and required to match on verification when a token has one. */
  readonly environment: string
  /** Leeway for clock skew on exp, nbf and iat (default 30 s, at most 60 s). */
  readonly clockToleranceSeconds?: number | undefined
  readonly clock: Clock
}

export interface AccessTokens {
  /** Signs a token for a user or an API key. Not inside a transaction: EdDSA keys may be read from the database. */
  sign(input: AccessTokenInput): Promise<SignedAccessToken>
  /** The claims of a valid token; TOKEN_INVALID for anything else. */
  verify(token: string): Promise<AccessTokenClaims>
}

/** Builds the signer and verifier of access tokens; CONFIG_INVALID on bad options. */
export function createAccessTokens(options: AccessTokensOptions): AccessTokens {
  const { issuer, audience, clock, keys } = options
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS
  const maxTtlSeconds = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS
  if (!issuer || !audience) throw new GantryError('CONFIG_INVALID', 'Access tokens need an issuer and an audience.')
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new GantryError('CONFIG_INVALID', 'The access-token lifetime must be a positive number of seconds.')
  if (!Number.isSafeInteger(maxTtlSeconds) || maxTtlSeconds < ttlSeconds)
    throw new GantryError(
      'CONFIG_INVALID',
      'The longest access-token lifetime (auth.maxTokenTtl) must be at least the access-token lifetime (auth.accessTokenTtl).',
    )
  if (!Number.isSafeInteger(tolerance) || tolerance < 0 || tolerance > MAX_TOLERANCE_SECONDS) {
    throw new GantryError('CONFIG_INVALID', `The access-token clock tolerance must be 0 to ${MAX_TOLERANCE_SECONDS} seconds.`)
  }
  const recentlyVerified = createVerifiedTokens({ clock })

  return {
    async sign(input) {
      const parsed = accessTokenInputSchema.safeParse(input)
      if (!parsed.success) throw new GantryError('INVALID_INPUT', 'An access token needs a subject, a session epoch and a kind.', { cause: parsed.error })
      const { sub, epoch, kind, permissions, scopes, sid, client_id, scope } = parsed.data
      const lifetime = parsed.data.ttlSeconds ?? ttlSeconds
      if (lifetime > maxTtlSeconds)
        throw new GantryError('INVALID_INPUT', `An access token may live at most ${maxTtlSeconds} s (auth.maxTokenTtl); asked for ${lifetime} s.`)
      const iat = Math.floor(clock.now() / 1000)
      const exp = iat + lifetime
      const jti = randomId()
      const { key, kid } = await keys.signingKey()
      const token = await new SignJWT({ epoch, kind, env: options.environment, sid, permissions, scopes, client_id, scope })
        .setProtectedHeader(kid === undefined ? { alg: keys.alg, typ: TYP } : { alg: keys.alg, typ: TYP, kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setJti(jti)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key)
      return { token, jti, expiresAt: exp * 1000 }
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalidToken('not a string of a plausible length')
      const known = recentlyVerified.get(token)
      if (known) return known
      let payload: unknown
      let keyFailure: unknown
      const lookup = async (header: JWSHeaderParameters): Promise<CryptoKey | Uint8Array> => {
        const key = await keys.verificationKey(header).catch((err: unknown) => {
          keyFailure = err
          throw err
        })
        if (!key) throw new Error('no key of this environment has this kid (unknown, expired or missing)')
        return key
      }
      try {
        const now = clock.now()
        // jose checks the header's alg against `algorithms` before it asks for a key.
        const verified = await jwtVerify(token, lookup, {
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
        if (typeof verified.payload.exp !== 'number' || verified.payload.exp - verified.payload.iat > maxTtlSeconds)
          throw new Error('lives longer than auth.maxTokenTtl')
        const env = verified.payload.env
        if (env !== undefined && env !== options.environment) throw new Error('signed for another environment')
      } catch (cause) {
        if (keyFailure !== undefined) throw keyFailure // the keys could not be read (a database error): not the token's fault
        throw invalidToken(cause)
      }
      const claims = accessTokenClaimsSchema.safeParse(payload)
      if (!claims.success) throw invalidToken(claims.error)
      recentlyVerified.set(token, claims.data)
      return claims.data
    },
  }
}

// One message for every refusal: a caller learns nothing about which check failed.
function invalidToken(cause: unknown): GantryError {
  return new GantryError('TOKEN_INVALID', 'The access token is invalid or expired.', { cause })
}
