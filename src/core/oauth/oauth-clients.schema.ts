/** The payloads of OAuth clients: what create, list, revoke and rotate take and return, and the token endpoint's. */
import { z } from 'zod'
import { durationSchema } from '../duration.js'
import { pageInputSchema, pageSchema } from '../pagination.js'
import { permissionSchema } from '../roles/permissions.js'
import { plainText } from '../text.js'
import { emailSchema } from '../users/users.schema.js'

/** A client as every door shows it: never the secret or its hash. */
export const oauthClientSchema = z.object({
  id: z.string().describe('the client_id'),
  name: z.string(),
  owner: z.string().describe("the owner's email: the client acts for this user, within their permissions"),
  env: z.string(),
  scopes: z.array(z.string()).describe('the most a token of this client may carry'),
  expiresAt: z.string().nullable().describe('ISO 8601, null: never'),
  lastUsedAt: z.string().nullable().describe('ISO 8601: the last token issued, updated at most once a minute'),
  revoked: z.boolean(),
  revokedAt: z.string().nullable(),
  graceEndsAt: z.string().nullable().describe('after a rotation: until when the previous secret still works'),
  createdAt: z.string(),
})
export type OAuthClient = z.infer<typeof oauthClientSchema>

/** A client and its secret, returned once: at creation and at rotation. */
export const oauthClientWithSecretSchema = z.object({
  client: oauthClientSchema,
  clientSecret: z.string().describe('the client_secret, shown this once'),
})
export type OAuthClientWithSecret = z.infer<typeof oauthClientWithSecretSchema>

export const createOAuthClientInputSchema = z.object({
  name: z.string().trim().min(1).max(200).check(plainText),
  /** The user the client acts for; default: the caller. */
  owner: emailSchema.optional(),
  /** Default: every permission the owner holds now. Each must lie within the owner's permissions. */
  scopes: z
    .array(permissionSchema)
    .transform((ps) => [...new Set(ps)])
    .optional(),
  /** A lifetime such as 90d; none: the client never expires. */
  expires: durationSchema.optional(),
})
export type CreateOAuthClientInput = z.input<typeof createOAuthClientInputSchema>

export const oauthClientListInputSchema = pageInputSchema.extend({ owner: emailSchema.optional() })
export type OAuthClientListInput = z.input<typeof oauthClientListInputSchema>

export const oauthClientPageSchema = pageSchema(oauthClientSchema)
export type OAuthClientPage = z.infer<typeof oauthClientPageSchema>

export const rotateOAuthClientInputSchema = z.object({
  /** How long the previous secret keeps working (0s: not at all). */
  grace: durationSchema.default('24h'),
})
export type RotateOAuthClientInput = z.input<typeof rotateOAuthClientInputSchema>

/** A client_id, as the doors take it. */
export const clientIdSchema = z
  .string()
  .trim()
  .regex(/^[0-9A-Za-z]{1,32}$/, 'a client id is the base62 id `gantry oauth clients list` shows')

/** A client's credentials, from the Authorization header (client_secret_basic) or the form (client_secret_post). */
export interface ClientCredentials {
  readonly clientId: string
  readonly clientSecret: string
}

/** The token endpoint's answer (RFC 6749 §5.1). */
export const tokenResponseSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string().describe('the scopes granted, space-separated'),
})
export type TokenResponse = z.infer<typeof tokenResponseSchema>
