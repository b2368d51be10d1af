/** The unit verifiers' settings and claims, for the forged-token corpora (test/helpers/forged-tokens.ts). */

export const ISSUER = 'https://gantry.test'
export const AUDIENCE = 'gantry-admin'
export const START = Date.UTC(2026, 0, 1)
export const nowSeconds = () => Math.floor(START / 1000)

/** Claims exactly as Gantry signs them, for forgeries to start from. */
export function goodClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, aud: AUDIENCE, sub: '42', jti: 'j'.repeat(22), iat: nowSeconds(), exp: nowSeconds() + 900, epoch: 0, kind: 'user', ...overrides }
}
