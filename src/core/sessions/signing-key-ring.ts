/**
 * The EdDSA key ring of one process: the keys of gantry_signing_keys that still verify, cached and read
 * again at most once a second (by the injected clock) — when signing, when a token names a kid this
 * process does not know (so a rotation done by another instance is picked up), and for the JWKS. The first
 * key is made on first need; the unique `generation` column decides a race between processes, and the
 * loser reads the winner's key.
 */
import type { Knex } from 'knex'
import type { CryptoKey, JWK } from 'jose'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { isUniqueViolation } from '../sql.js'
import { importPublicKey, newSigningKey, openPrivateKey, SIGNING_KEY_ALG } from './signing-key-material.js'
import { insertKey, selectLiveKeys, type SigningKeyRow } from './signing-keys.repo.js'
import type { EdDSAKeySource } from './token-keys.js'

/** How stale the keys may get for signing and the JWKS, and how often an unknown kid may cause a read. */
export const KEY_RELOAD_INTERVAL_MS = 1000
/** How stale the keys may get when a token names a known kid (a retirement elsewhere is seen this late). */
const KNOWN_KID_MAX_AGE_MS = 60_000
/** Who made the first key, in the audit log: no one asked for it, the first token needed it. */
const FIRST_USE: ActorContext = { actor: 'gantry:first-use', permissions: [] }
const ATTEMPTS = 3

/** The keys as last read: every row that still verified then, oldest first, and the current one. */
export interface KeySnapshot {
  readonly at: number
  readonly rows: readonly SigningKeyRow[]
  readonly current: SigningKeyRow | undefined
}

export interface KeyRing extends EdDSAKeySource {
  /** The keys, read again when the cache is older than a second. */
  snapshot(): Promise<KeySnapshot>
  /** Whether a row still verifies now: current, or retired less than the retention ago. */
  verifies(row: SigningKeyRow): boolean
  /** Forgets the cache (after a rotation by this process). */
  invalidate(): void
}

export interface KeyRingDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  /** How long a retired key keeps verifying: the longest token lifetime and margins. */
  readonly retentionMs: number
  /** The key that seals private keys; throws when the environment has no usable secret. */
  readonly seal: () => Uint8Array
}

/** Builds the ring; nothing is read until the first call. */
export function createKeyRing(deps: KeyRingDeps): KeyRing {
  const { knex, clock, audit, retentionMs, seal } = deps
  let snapshot: KeySnapshot | undefined
  let loading: Promise<KeySnapshot> | undefined
  let creating: Promise<void> | undefined
  let signer: { kid: string; key: Promise<CryptoKey> } | undefined
  const publicKeys = new Map<string, Promise<CryptoKey>>()

  const verifies = (row: SigningKeyRow): boolean => row.retired_at === null || Number(row.retired_at) + retentionMs > clock.now()
  const reload = (): Promise<KeySnapshot> =>
    (loading ??= (async () => {
      try {
        const at = clock.now()
        const rows = await selectLiveKeys(knex, at - retentionMs)
        const current = rows.filter((r) => r.retired_at === null).at(-1)
        for (const kid of publicKeys.keys()) if (!rows.some((r) => r.kid === kid)) publicKeys.delete(kid)
        return (snapshot = { at, rows, current })
      } finally {
        loading = undefined
      }
    })())
  /** The snapshot if it was read less than `maxAgeMs` ago (a clock set back counts as stale). */
  const recent = (maxAgeMs = KEY_RELOAD_INTERVAL_MS): KeySnapshot | undefined => {
    const now = clock.now()
    return snapshot && now >= snapshot.at && now - snapshot.at < maxAgeMs ? snapshot : undefined
  }
  const createFirst = (): Promise<void> =>
    (creating ??= (async () => {
      try {
        const key = await newSigningKey(seal())
        await knex.transaction(async (trx) => {
          // Always generation 1: of several processes making the first key at once, the unique index keeps one.
          await insertKey(trx, {
            generation: 1,
            kid: key.kid,
            alg: SIGNING_KEY_ALG,
            public_jwk: JSON.stringify(key.publicJwk),
            private_jwk: key.sealedPrivateJwk,
            created_at: clock.now(),
            retired_at: null,
          })
          await audit.append(trx, FIRST_USE, {
            action: 'keys.create',
            targetType: 'signing_key',
            targetId: key.kid,
            after: { kid: key.kid, alg: SIGNING_KEY_ALG },
          })
        })
      } catch (err) {
        if (!isUniqueViolation(err)) throw err // another process made its key first: the next read finds it
      } finally {
        creating = undefined
      }
    })())
  const privateKeyOf = (row: SigningKeyRow): Promise<CryptoKey> => {
    if (signer?.kid === row.kid) return signer.key
    const sealed = row.private_jwk
    const key = (async () => {
      if (!sealed) throw new Error('the private key was cleared')
      return openPrivateKey(sealed, row.kid, parseJwk(row.public_jwk), seal())
    })().catch((cause: unknown) => {
      if (signer?.kid === row.kid) signer = undefined
      if (cause instanceof GantryError) throw cause
      throw new GantryError(
        'SIGNING_KEY_MISSING',
        `The current token signing key (kid ${row.kid}) cannot be opened with this environment's GANTRY_AUTH_SECRET.`,
        {
          cause,
          hint: 'Restore the GANTRY_AUTH_SECRET the key was made under, or run `gantry tokens keys rotate` to make a new key under the current one.',
        },
      )
    })
    signer = { kid: row.kid, key }
    return key
  }

  return {
    verifies,
    snapshot: async () => recent() ?? reload(),
    invalidate() {
      snapshot = undefined
    },

    async current() {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const { current } = recent() ?? (await reload())
        if (current) return { kid: current.kid, privateKey: await privateKeyOf(current) }
        await createFirst()
        snapshot = undefined
      }
      throw new GantryError(
        'SIGNING_KEY_MISSING',
        'There is no current token signing key, and the first one could not be made: gantry_signing_keys has keys, all retired.',
      )
    },

    async publicKey(kid) {
      let known = recent(KNOWN_KID_MAX_AGE_MS) ?? (await reload())
      let row = known.rows.find((r) => r.kid === kid)
      if (!row && !recent()) {
        known = await reload()
        row = known.rows.find((r) => r.kid === kid)
      }
      if (!row || !verifies(row)) return undefined
      const found = row
      let key = publicKeys.get(found.kid)
      if (!key) {
        key = importPublicKey(parseJwk(found.public_jwk))
        publicKeys.set(found.kid, key)
        key.catch(() => publicKeys.delete(found.kid))
      }
      return key
    },
  }
}

/** The stored public JWK (JSON text) as an object. */
export function parseJwk(text: string): JWK {
  return JSON.parse(text) as JWK
}
