/**
 * Token signing keys: the key set access tokens use under the environment's pinned algorithm, and, under
 * EdDSA, the Ed25519 keys behind it — listed, rotated and published as a JWKS so other services verify
 * tokens without a secret. A rotation makes a new current key and retires the old one, which keeps
 * verifying (and stays in the JWKS) until every token it can have signed has expired, then drops out.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError } from '../errors.js'
import { requirePermission } from '../roles/permissions.js'
import { isUniqueViolation } from '../sql.js'
import { MAX_TOLERANCE_SECONDS } from './access-tokens.js'
import { createKeyRing, KEY_RELOAD_INTERVAL_MS, parseJwk, type KeyRing } from './signing-key-ring.js'
import { newSigningKey, sealingKey, SIGNING_KEY_ALG } from './signing-key-material.js'
import { insertKey, retireKeysBefore, selectMaxGeneration, type NewSigningKeyRow, type SigningKeyRow } from './signing-keys.repo.js'
import type { Jwks, RotatedSigningKey, SigningKey, SigningKeyList } from './signing-keys.schema.js'
import { DEFAULT_MAX_TOKEN_TTL, type AuthSettings } from './sessions.schema.js'
import { eddsaKeys, hs256Keys, type TokenKeys } from './token-keys.js'

/** Who may list signing keys (every built-in role, through `*:read`) and rotate them (admin only, through `*`). */
export const SIGNING_KEYS_READ = 'keys:read'
export const SIGNING_KEYS_WRITE = 'keys:write'
const ROTATE_ATTEMPTS = 5

export interface SigningKeysService {
  /** The keys access tokens are signed and verified with; AUTH_SECRET_MISSING / AUTH_SECRET_WEAK without a usable secret. */
  tokenKeys(): TokenKeys
  /** Needs keys:read: the current key, then the previous ones that still verify, newest first. EdDSA only. */
  list(ctx: ActorContext): Promise<SigningKeyList>
  /** Needs keys:write: a new current key; the old one retires. Audited with kids only. EdDSA only. */
  rotate(ctx: ActorContext): Promise<RotatedSigningKey>
  /** The public keys that verify (current and previous), for `/.well-known/jwks.json`; undefined under HS256. */
  jwks(): Promise<Jwks | undefined>
}

export interface SigningKeysServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly auth?: AuthSettings | undefined
  readonly environmentName: string
}

/** Builds the signing-keys service; nothing is read or derived until first use. */
export function createSigningKeysService(deps: SigningKeysServiceDeps): SigningKeysService {
  const { knex, clock, audit, auth, environmentName } = deps
  const algorithm = auth?.algorithm ?? 'HS256'
  // A retired key may still have signed for up to a reload interval (another instance's cache), and its
  // tokens are accepted up to the clock tolerance past their expiry.
  const retentionMs = longestTokenLifetimeMs(auth) + KEY_RELOAD_INTERVAL_MS + MAX_TOLERANCE_SECONDS * 1000
  let seal: Uint8Array | undefined
  let keys: TokenKeys | undefined

  const secret = (): string => {
    if (auth?.secret) return auth.secret
    const eddsa = algorithm === 'EdDSA'
    throw new GantryError(
      'AUTH_SECRET_MISSING',
      eddsa
        ? `Environment "${environmentName}" has no token secret (auth.secret). EdDSA needs it too: signing keys are stored encrypted under it, so that a database dump alone cannot sign tokens.`
        : `Environment "${environmentName}" has no token secret (auth.secret), so no token can be signed.`,
      { hint: `Set GANTRY_AUTH_SECRET to at least 32 random bytes in .env.${environmentName}, e.g. the output of \`openssl rand -base64 48\`.` },
    )
  }
  const sealKey = (): Uint8Array => (seal ??= sealingKey(secret()))
  const ring: KeyRing = createKeyRing({ knex, clock, audit, retentionMs, seal: sealKey })
  const requireEdDSA = (): void => {
    if (algorithm !== 'EdDSA') {
      throw new GantryError(
        'INVALID_INPUT',
        `Signing keys need auth.algorithm EdDSA; environment "${environmentName}" signs tokens with HS256 and its secret.`,
        {
          hint: `Set "auth": { "algorithm": "EdDSA" } for ${environmentName} in gantry.config.json (tokens signed before the switch stop verifying).`,
        },
      )
    }
  }
  const describe = (row: NewSigningKeyRow): SigningKey => {
    const retiredAt = row.retired_at === null ? null : Number(row.retired_at)
    return {
      kid: row.kid,
      alg: SIGNING_KEY_ALG,
      state: retiredAt === null ? 'current' : 'previous',
      createdAt: new Date(Number(row.created_at)).toISOString(),
      retiredAt: retiredAt === null ? null : new Date(retiredAt).toISOString(),
      verifiesUntil: retiredAt === null ? null : new Date(retiredAt + retentionMs).toISOString(),
    }
  }
  /** The keys that verify now, the current one first, then newest first. */
  const verifying = async (): Promise<SigningKeyRow[]> => (await ring.snapshot()).rows.filter(ring.verifies).sort((a, b) => b.generation - a.generation)

  return {
    tokenKeys() {
      if (algorithm === 'HS256') return (keys ??= hs256Keys(secret()))
      sealKey() // EdDSA still needs the secret: say so before the first token, not at the first database read
      return (keys ??= eddsaKeys(ring))
    },

    async list(ctx) {
      requirePermission(ctx, SIGNING_KEYS_READ)
      requireEdDSA()
      return { data: (await verifying()).map(describe), nextCursor: null }
    },

    async rotate(ctx) {
      requirePermission(ctx, SIGNING_KEYS_WRITE)
      requireEdDSA()
      const sealWith = sealKey()
      for (let attempt = 1; ; attempt++) {
        const key = await newSigningKey(sealWith)
        try {
          const result = await knex.transaction(async (trx) => {
            // A concurrent rotation takes the same generation: the unique index refuses one, which tries again.
            const generation = (await selectMaxGeneration(trx)) + 1
            const now = clock.now()
            const row: NewSigningKeyRow = {
              generation,
              kid: key.kid,
              alg: SIGNING_KEY_ALG,
              public_jwk: JSON.stringify(key.publicJwk),
              private_jwk: key.sealedPrivateJwk,
              created_at: now,
              retired_at: null,
            }
            await insertKey(trx, row)
            const previous = (await retireKeysBefore(trx, generation, now)).at(-1)
            await audit.append(trx, ctx, {
              action: 'keys.rotate',
              targetType: 'signing_key',
              targetId: key.kid,
              before: previous ? { kid: previous.kid } : null,
              after: { kid: key.kid, alg: SIGNING_KEY_ALG },
            })
            return { current: describe(row), previous: previous ? describe(previous) : null }
          })
          ring.invalidate()
          return result
        } catch (err) {
          if (attempt >= ROTATE_ATTEMPTS || !isRetryable(err)) throw err
        }
      }
    },

    async jwks() {
      if (algorithm !== 'EdDSA') return undefined
      return {
        keys: (await verifying()).map((row) => {
          const { x } = parseJwk(row.public_jwk)
          return { kty: 'OKP', crv: 'Ed25519', x: String(x), kid: row.kid, alg: SIGNING_KEY_ALG, use: 'sig' } as const
        }),
      }
    },
  }
}

/** The longest an access token can live (auth.maxTokenTtl): a retired key verifies that long after its last token. */
function longestTokenLifetimeMs(auth: AuthSettings | undefined): number {
  return parseDuration(auth?.maxTokenTtl ?? DEFAULT_MAX_TOKEN_TTL)
}

/** A lost race with another rotation: a unique violation, a deadlock (MySQL 1213, PostgreSQL 40P01), or SQLite busy. */
function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null
  return isUniqueViolation(err) || e?.errno === 1213 || e?.code === '40P01' || (typeof e?.code === 'string' && e.code.startsWith('SQLITE_BUSY'))
}
