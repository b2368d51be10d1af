/**
 * Tokens (`gantry tokens …`): under /api/v1/admin/users/:email a token minted for a script and the end of
 * every session of the user (sessions:write); under /api/v1/admin/signing-keys the EdDSA signing keys
 * (keys:read / keys:write; under HS256 both answer 400, as the CLI does).
 */
import { z } from 'zod'
import type { Services } from '../../core/services.js'
import { issuedTokenSchema, issueTokenInputSchema, revokedSessionsSchema } from '../../core/sessions/sessions.schema.js'
import { rotatedSigningKeySchema, signingKeyListSchema } from '../../core/sessions/signing-keys.schema.js'
import { emailSchema } from '../../core/users/users.schema.js'
import { route, type RouteSpec } from './route.js'

const USER = '/api/v1/admin/users/:email'
const byEmail = z.object({ email: emailSchema })
const SIGNING_KEYS = '/api/v1/admin/signing-keys'

/** The token routes. */
export function sessionRoutes(services: Services): RouteSpec[] {
  const { sessions, signingKeys } = services
  const tag = 'tokens'
  return [
    route({
      method: 'post',
      path: `${USER}/tokens`,
      tag,
      summary: "An access token for a script, acting as the user (never beyond the caller's permissions); in this answer only.",
      auth: 'required',
      permission: 'sessions:write',
      params: byEmail,
      body: issueTokenInputSchema,
      response: issuedTokenSchema,
      status: 201,
      handler: ({ ctx, params, body }) => sessions.issueScriptToken(ctx, params.email, body),
    }),
    route({
      method: 'delete',
      path: `${USER}/sessions`,
      tag,
      summary: 'End every session of a user: refresh tokens at once, access tokens within 1 s.',
      auth: 'required',
      permission: 'sessions:write',
      params: byEmail,
      response: revokedSessionsSchema,
      handler: ({ ctx, params }) => sessions.revokeUserSessions(ctx, params.email),
    }),
    route({
      method: 'get',
      path: SIGNING_KEYS,
      tag,
      summary: 'The EdDSA signing keys: the current one, then the previous ones that still verify. Metadata only.',
      auth: 'required',
      permission: 'keys:read',
      response: signingKeyListSchema,
      handler: ({ ctx }) => signingKeys.list(ctx),
    }),
    route({
      method: 'post',
      path: `${SIGNING_KEYS}/rotate`,
      tag,
      summary: 'A new current EdDSA signing key; the previous one keeps verifying the tokens it signed until they expire.',
      auth: 'required',
      permission: 'keys:write',
      response: rotatedSigningKeySchema,
      status: 201,
      handler: ({ ctx }) => signingKeys.rotate(ctx),
    }),
  ]
}
