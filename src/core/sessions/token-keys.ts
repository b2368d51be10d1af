/**
 * The key material of access tokens, one pinned algorithm per environment: HS256 with one secret, or EdDSA
 * with a ring of Ed25519 keys named by `kid` (current and previous, for rotation). access-tokens.ts signs
 * and verifies through this shape and never learns where the keys come from.
 */
import type { CryptoKey, JWSHeaderParameters } from 'jose'
import { GantryError } from '../errors.js'

/** The algorithms an environment may pin (gantry.config.json `auth.algorithm`). */
export type TokenAlgorithm = 'HS256' | 'EdDSA'

const MIN_SECRET_BYTES = 32
/** Far above any kid Gantry makes (a 43-character thumbprint). */
const MAX_KID_LENGTH = 64

/** The key a token is signed with, and the `kid` its header names (EdDSA only). */
export interface SigningKey {
  readonly key: CryptoKey | Uint8Array
  readonly kid?: string | undefined
}

/** One algorithm's keys: the one to sign with, and the lookup of the one that verifies a given token. */
export interface TokenKeys {
  readonly alg: TokenAlgorithm
  signingKey(): Promise<SigningKey>
  /** The key for a token's protected header; undefined when no key of this set could have signed it. Throws only when the keys cannot be read. */
  verificationKey(header: JWSHeaderParameters): Promise<CryptoKey | Uint8Array | undefined>
}

/** Where EdDSA keys come from (the signing-key ring over gantry_signing_keys). */
export interface EdDSAKeySource {
  /** The current key, made on first need. */
  current(): Promise<{ readonly kid: string; readonly privateKey: CryptoKey }>
  /** The public key of a kid that still verifies (current or previous), or undefined. */
  publicKey(kid: string): Promise<CryptoKey | undefined>
}

/** A secret as bytes (a string counts in UTF-8); AUTH_SECRET_WEAK under 32 bytes. */
export function secretBytes(secret: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : Uint8Array.from(secret)
  if (bytes.byteLength < MIN_SECRET_BYTES) throw new GantryError('AUTH_SECRET_WEAK', `The access-token secret must be at least ${MIN_SECRET_BYTES} bytes.`)
  return bytes
}

/**
 * HS256 with one secret of at least 32 bytes: no kid, one key both ways. The secret is imported as an HMAC
 * key once: handed to jose as bytes, it would be imported again for every token signed or verified.
 */
export function hs256Keys(secret: string | Uint8Array): TokenKeys {
  const bytes = secretBytes(secret)
  let imported: Promise<CryptoKey> | undefined
  const key = (): Promise<CryptoKey> =>
    (imported ??= globalThis.crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']) as Promise<CryptoKey>)
  return {
    alg: 'HS256',
    signingKey: async () => ({ key: await key() }),
    verificationKey: () => key(),
  }
}

/** EdDSA over a key source: the token's `kid` picks the public key; a token without a known kid has none. */
export function eddsaKeys(source: EdDSAKeySource): TokenKeys {
  return {
    alg: 'EdDSA',
    async signingKey() {
      const { kid, privateKey } = await source.current()
      return { key: privateKey, kid }
    },
    async verificationKey(header) {
      const { kid } = header
      if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) return undefined
      return source.publicKey(kid)
    },
  }
}
