/** The unit verifiers' settings and claims, for the forged-token corpora (test/helpers/forged-tokens.ts). */
import { expect } from 'chai'
import { GantryError } from '../../../../src/core/errors.js'

export const ISSUER = 'https://gantry.test'
export const AUDIENCE = 'gantry-admin'
export const START = Date.UTC(2026, 0, 1)
export const nowSeconds = () => Math.floor(START / 1000)

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
