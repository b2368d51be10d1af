/**
 * Ed25519 signing keys as stored: the public JWK in clear, the private JWK only as a compact JWE (`dir`,
 * A256GCM) under a key derived from the environment's auth secret. So a database dump alone signs nothing.
 */
import { hkdfSync } from 'node:crypto'
import { calculateJwkThumbprint, compactDecrypt, CompactEncrypt, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import { secretBytes } from './token-keys.js'

/** The JWS algorithm of every stored key. */
export const SIGNING_KEY_ALG = 'EdDSA'
const HKDF_INFO = 'gantry signing keys'
const SEAL_HEADER = { alg: 'dir', enc: 'A256GCM', cty: 'jwk+json' } as const

/** A freshly made key pair, ready to store. */
export interface NewSigningKey {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string
  /** kty, crv and x: nothing else. */
  readonly publicJwk: JWK
  /** The private JWK as a compact JWE; its protected header names the kid, so it cannot be moved to another row. */
  readonly sealedPrivateJwk: string
}

/** The 32-byte key that seals private keys: HKDF-SHA256 of the auth secret (at least 32 bytes). */
export function sealingKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secretBytes(secret), new Uint8Array(0), HKDF_INFO, 32))
}

/** Makes an Ed25519 key pair and seals its private half. */
export async function newSigningKey(seal: Uint8Array): Promise<NewSigningKey> {
  const pair = await generateKeyPair(SIGNING_KEY_ALG, { crv: 'Ed25519', extractable: true })
  const { kty, crv, x, d } = await exportJWK(pair.privateKey)
  const publicJwk: JWK = { kty, crv, x }
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const sealedPrivateJwk = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ kty, crv, x, d })))
    .setProtectedHeader({ ...SEAL_HEADER, kid })
    .encrypt(seal)
  return { kid, publicJwk, sealedPrivateJwk }
}

/** The private key of a stored key: throws when the seal does not open (another secret) or is not this key's. */
export async function openPrivateKey(sealed: string, kid: string, publicJwk: JWK, seal: Uint8Array): Promise<CryptoKey> {
  const { plaintext, protectedHeader } = await compactDecrypt(sealed, seal, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] })
  const jwk = JSON.parse(new TextDecoder().decode(plaintext)) as JWK
  if (protectedHeader.kid !== kid || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.x !== publicJwk.x || typeof jwk.d !== 'string') {
    throw new Error(`the sealed private key does not belong to key ${kid}`)
  }
  return (await importJWK(jwk, SIGNING_KEY_ALG)) as CryptoKey
}

/** The verification key of a stored public JWK. */
export async function importPublicKey(publicJwk: JWK): Promise<CryptoKey> {
  const { kty, crv, x } = publicJwk
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string') throw new Error('not an Ed25519 public key')
  return (await importJWK({ kty, crv, x }, SIGNING_KEY_ALG)) as CryptoKey
}
