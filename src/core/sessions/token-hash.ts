/**
 * How high-entropy secrets (refresh tokens, API key secrets) are stored: as their sha256. A slow password
 * hash buys nothing when the secret has more than 128 random bits, and a fast one keeps every request cheap.
 */
import { Buffer } from 'node:buffer'
import { createHash, timingSafeEqual } from 'node:crypto'

const SHA256_HEX = /^[0-9a-f]{64}$/

/** The sha256 of a secret, as 64 lower-case hex digits (the stored form). */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Whether `secret` hashes to `storedHash`, compared in constant time; false for a malformed stored hash. */
export function tokenMatches(secret: string, storedHash: string): boolean {
  if (!SHA256_HEX.test(storedHash)) return false
  return timingSafeEqual(Buffer.from(hashToken(secret), 'hex'), Buffer.from(storedHash, 'hex'))
}
