/** The payloads of API keys: what create, list, revoke and rotate take and return, and what verify yields. */
import { z } from 'zod'
import { durationSchema } from '../duration.js'
import { pageInputSchema, pageSchema } from '../pagination.js'
import { permissionSchema } from '../roles/permissions.js'
import { plainText } from '../text.js'
import { emailSchema, type User } from '../users/users.schema.js'

/** A key as every door shows it: never the secret or its hash. */
export const apiKeySchema = z.object({
  id: z.string().describe('the public key id (the part after gk_<env>_)'),
  name: z.string(),
  owner: z.string().describe("the owner's email"),
  env: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.string().nullable().describe('ISO 8601, null: never'),
  lastUsedAt: z.string().nullable().describe('ISO 8601, updated at most once a minute'),
  revoked: z.boolean(),
  revokedAt: z.string().nullable(),
  graceEndsAt: z.string().nullable().describe('after a rotation: until when the previous secret still works'),
  createdAt: z.string(),
})
export type ApiKey = z.infer<typeof apiKeySchema>

/** A key and its full text, returned once: at creation and at rotation. */
export const apiKeyWithSecretSchema = z.object({ apiKey: apiKeySchema, key: z.string().describe('the whole key, shown this once') })
export type ApiKeyWithSecret = z.infer<typeof apiKeyWithSecretSchema>

export const createApiKeyInputSchema = z.object({
  name: z.string().trim().min(1).max(200).check(plainText),
  owner: emailSchema,
  /** Default: every permission the owner holds now. Each must lie within the owner's permissions. */
  scopes: z
    .array(permissionSchema)
    .transform((ps) => [...new Set(ps)])
    .optional(),
  /** A lifetime such as 90d; none: the key never expires. */
  expires: durationSchema.optional(),
})
export type CreateApiKeyInput = z.input<typeof createApiKeyInputSchema>

export const apiKeyListInputSchema = pageInputSchema.extend({ owner: emailSchema.optional() })
export type ApiKeyListInput = z.input<typeof apiKeyListInputSchema>

export const apiKeyPageSchema = pageSchema(apiKeySchema)
export type ApiKeyPage = z.infer<typeof apiKeyPageSchema>

export const rotateApiKeyInputSchema = z.object({
  /** How long the previous secret keeps working (0s: not at all). */
  grace: durationSchema.default('24h'),
})
export type RotateApiKeyInput = z.input<typeof rotateApiKeyInputSchema>

/** The public key id, as `revoke` and `rotate` take it. */
export const keyIdSchema = z
  .string()
  .trim()
  .regex(/^[0-9A-Za-z]{1,32}$/, 'a key id is the base62 part after gk_<env>_ (see `gantry apikeys list`)')

/** A presented key that passed every check: who it speaks for, with what. */
export interface VerifiedApiKey {
  readonly keyId: string
  readonly owner: User
  /** The key's scopes intersected with the owner's permissions now. */
  readonly scopes: string[]
  /** When the key expires (ms since the epoch); null: never. */
  readonly expiresAt: number | null
}
