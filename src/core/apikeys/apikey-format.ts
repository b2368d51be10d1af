/**
 * The API key format (DESIGN.md): `gk_<env>_<id>_<secret><check>`, which OAuth client secrets share as
 * `gcs_<env>_<client id>_<secret><check>`. The env matches [a-z0-9-] so '_' only
 * separates fields; id and secret are base62; the check (last 6 characters) is the base62 CRC32 of
 * everything before it, so a mistyped or truncated key is refused before any lookup. Only a hash of the
 * secret is ever stored.
 */
import { crc32 } from 'node:zlib'
import { GantryError } from '../errors.js'
import { randomBase62 } from '../random.js'
import { hashToken, tokenMatches } from '../sessions/token-hash.js'
import { BASE62_CLASS, encodeBase62 } from './base62.js'

/** Characters of the public key id (71 bits: unique by construction, found by index). */
export const KEY_ID_LENGTH = 12
/** Characters of the secret (190 bits). */
export const SECRET_LENGTH = 32
/** Characters of the check: base62 of a 32-bit CRC fits in 6 (62^6 > 2^32). */
const CHECK_LENGTH = 6
/** An environment name inside a key (the gantry_api_keys.env column holds 40). */
const ENV = /^[a-z0-9-]{1,40}$/
/** Longer than any valid key: refused before the regular expression runs. */
const MAX_KEY_LENGTH = 128

/** A freshly generated key: `key` is shown once; `keyId` and `secretHash` are what is stored. */
export interface GeneratedApiKey {
  readonly key: string
  readonly keyId: string
  readonly secretHash: string
}

/** The fields of a well-formed key whose check matches. */
export interface ParsedApiKey {
  readonly env: string
  readonly keyId: string
  readonly secret: string
}

/** One kind of secret in this format: its prefix (`gk`), and the error every malformed text gets. */
export interface CredentialFormat {
  /** Generates a secret for an environment; with `keyId` (a rotation), a new secret for that existing id. */
  generate(env: string, keyId?: string): GeneratedApiKey
  /** Splits a presented text into its fields; the format's error when the shape or the check is wrong. */
  parse(text: string): ParsedApiKey
}

/** The format of secrets that start `<prefix>_`: API keys (`gk`), OAuth client secrets (`gcs`). */
export function credentialFormat(prefix: string, invalid: () => GantryError): CredentialFormat {
  const shape = new RegExp(
    `^${prefix}_([a-z0-9-]{1,40})_(${BASE62_CLASS}{${KEY_ID_LENGTH}})_(${BASE62_CLASS}{${SECRET_LENGTH}})(${BASE62_CLASS}{${CHECK_LENGTH}})$`,
  )
  return {
    generate(env, keyId = randomBase62(KEY_ID_LENGTH)) {
      if (!ENV.test(env)) throw new GantryError('INVALID_INPUT', 'An environment name in a key is 1 to 40 characters of a-z, 0-9 and -.')
      const secret = randomBase62(SECRET_LENGTH)
      const body = `${prefix}_${env}_${keyId}_${secret}`
      return { key: body + checkOf(body), keyId, secretHash: hashSecret(secret) }
    },
    parse(text) {
      const match = typeof text === 'string' && text.length <= MAX_KEY_LENGTH ? shape.exec(text) : null
      if (!match) throw invalid()
      const [, env, keyId, secret, check] = match as unknown as [string, string, string, string, string]
      if (checkOf(text.slice(0, -CHECK_LENGTH)) !== check) throw invalid()
      return { env, keyId, secret }
    },
  }
}

// One message for every malformed key: the caller learns nothing about which part was wrong.
/** API keys: `gk_…`. */
export const apiKeyFormat = credentialFormat(
  'gk',
  () => new GantryError('APIKEY_INVALID', 'The API key is not valid.', { hint: 'Check that the key was copied completely.' }),
)

/** Generates a key for an environment; with `keyId` (a rotation), a new secret for that existing key. */
export const generateApiKey = apiKeyFormat.generate
/** Splits a presented key into its fields; APIKEY_INVALID when the shape or the check is wrong. */
export const parseApiKey = apiKeyFormat.parse

/** The stored form of a key's secret (sha256 hex). */
export function hashSecret(secret: string): string {
  return hashToken(secret)
}

/** Whether a presented secret matches the stored hash, in constant time. */
export function verifySecret(secret: string, storedHash: string): boolean {
  return tokenMatches(secret, storedHash)
}

function checkOf(body: string): string {
  return encodeBase62(crc32(body), CHECK_LENGTH)
}
