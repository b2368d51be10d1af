/** The payloads of EdDSA signing keys (`gantry tokens keys list | rotate`): metadata only, never key material. */
import { z } from 'zod'

/** A signing key as lists show it: the current one signs, previous ones still verify. */
export const signingKeySchema = z.object({
  kid: z.string().describe('the key id tokens carry in their header'),
  alg: z.literal('EdDSA'),
  state: z.enum(['current', 'previous']),
  createdAt: z.string().describe('ISO 8601'),
  retiredAt: z.string().nullable().describe('ISO 8601: when a rotation replaced it; null for the current key'),
  verifiesUntil: z.string().nullable().describe('ISO 8601: when it leaves the JWKS and its tokens stop verifying; null for the current key'),
})
export type SigningKey = z.infer<typeof signingKeySchema>

/** `tokens keys list`: the current key first, then previous keys, newest first. */
export const signingKeyListSchema = z.object({ data: z.array(signingKeySchema), nextCursor: z.null() })
export type SigningKeyList = z.infer<typeof signingKeyListSchema>

/** `tokens keys rotate`: the new current key and the one it replaced (null when it is the first). */
export const rotatedSigningKeySchema = z.object({ current: signingKeySchema, previous: signingKeySchema.nullable() })
export type RotatedSigningKey = z.infer<typeof rotatedSigningKeySchema>

/** A public key as the JWKS publishes it (RFC 7517 / RFC 8037). */
export interface PublicSigningJwk {
  readonly kty: 'OKP'
  readonly crv: 'Ed25519'
  readonly x: string
  readonly kid: string
  readonly alg: 'EdDSA'
  readonly use: 'sig'
}

/** `/.well-known/jwks.json`: the current and previous public keys. */
export interface Jwks {
  readonly keys: PublicSigningJwk[]
}
