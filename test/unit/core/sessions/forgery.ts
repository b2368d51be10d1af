/** Helpers for forged access tokens: claims as Gantry signs them, and a signer of any header. */
import { createHmac } from 'node:crypto'
import { expect } from 'chai'
import { CompactSign, type CryptoKey } from 'jose'
import { GantryError } from '../../../../src/core/errors.js'

export const ISSUER = 'https://gantry.test'
export const AUDIENCE = 'gantry-admin'
export const START = Date.UTC(2026, 0, 1)
export const nowSeconds = () => Math.floor(START / 1000)

export const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<GantryError> {
  try {
    await promise
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    return err as GantryError
  }
  throw new Error('expected a rejection')
}

/** Claims exactly as Gantry signs them, for forgeries to start from. */
export function goodClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, aud: AUDIENCE, sub: '42', jti: 'j'.repeat(22), iat: nowSeconds(), exp: nowSeconds() + 900, epoch: 0, kind: 'user', ...overrides }
}

const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/**
 * Signs any header and claims: HMAC by hand (so jose's own checks cannot stop a forgery from being made),
 * any other algorithm through jose with a CryptoKey.
 */
export async function signRaw(header: Record<string, unknown>, claims: unknown, key: Uint8Array | CryptoKey): Promise<string> {
  if (!(key instanceof Uint8Array)) return new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader(header as { alg: string }).sign(key)
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${createHmac(HMAC_HASH[String(header.alg)] ?? 'sha256', key).update(input).digest('base64url')}`
}
