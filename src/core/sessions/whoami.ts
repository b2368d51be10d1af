/** `GET /api/v1/auth/me`: who the caller is, as the server sees them — the user, and the key if one was used. */
import type { Knex } from 'knex'
import { z } from 'zod'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import type { UserDirectory } from '../users/users.directory.js'
import { userSchema } from '../users/users.schema.js'
import { toUser } from '../users/users.service.js'

export const whoamiSchema = z.object({
  actor: z.string(),
  user: userSchema,
  apiKeyId: z.string().nullable().describe('the API key used, when the caller came with one'),
  permissions: z.array(z.string()).describe('what this caller may do: the role, narrowed to the key scopes for a key'),
  expiresAt: z.string().nullable().describe('ISO 8601: when the presented credential stops working (the access token, the API key); null: never'),
})
export type Whoami = z.infer<typeof whoamiSchema>

/** Describes an authenticated caller; a caller without a user (a local operator) has nothing to show. */
export async function whoami(knex: Knex, directory: UserDirectory, ctx: ActorContext): Promise<Whoami> {
  const row = ctx.userId === undefined ? undefined : await directory.byId(knex, ctx.userId)
  if (!row) throw new GantryError('UNAUTHENTICATED', 'No user stands behind these credentials.')
  return {
    actor: ctx.actor,
    user: toUser(row),
    apiKeyId: ctx.apiKeyId ?? null,
    permissions: [...ctx.permissions],
    expiresAt: ctx.expiresAt === undefined ? null : new Date(ctx.expiresAt).toISOString(),
  }
}
