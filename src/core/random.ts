/**
 * The one source of randomness for the domain (DESIGN.md): every secret, token and random identifier comes
 * from here, drawn from the operating system's CSPRNG.
 */
import { randomBytes } from 'node:crypto'
import { BASE62_ALPHABET } from './apikeys/base62.js'

/** Bytes at or above this are dropped, so that `byte % 62` is uniform (248 = 4 · 62). */
const UNBIASED_LIMIT = 248

/** A string of `length` characters drawn uniformly from the base62 alphabet (5.95 bits each). */
export function randomBase62(length: number): string {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('randomBase62 takes a non-negative integer length')
  let out = ''
  while (out.length < length) {
    // Over-draw a little: about 3% of bytes are rejected.
    for (const byte of randomBytes(length - out.length + 8)) {
      if (byte >= UNBIASED_LIMIT) continue
      out += BASE62_ALPHABET[byte % 62]
      if (out.length === length) break
    }
  }
  return out
}

/** A random identifier: 22 base62 characters, 131 bits (token families, JWT ids). */
export function randomId(): string {
  return randomBase62(22)
}

/** A uniformly drawn number in [0, 1) with 48 bits of the CSPRNG: jitter for retry schedules. */
export function randomFraction(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48
}

/** `n` bytes from the CSPRNG, for secrets that travel in another encoding (a webhook's whsec_ secret). */
export function randomSecretBytes(n: number): Buffer {
  return randomBytes(n)
}
