/** API keys under /api/v1/admin/api-keys: the same use cases as `gantry apikeys …`, one route each. */
import { z } from 'zod'
import {
  apiKeyListInputSchema,
  apiKeyPageSchema,
  apiKeySchema,
  apiKeyWithSecretSchema,
  createApiKeyInputSchema,
  keyIdSchema,
  rotateApiKeyInputSchema,
} from '../../core/apikeys/apikeys.schema.js'
import type { Services } from '../../core/services.js'
import { route, type RouteSpec } from './route.js'

const KEYS = '/api/v1/admin/api-keys'
const byKeyId = z.object({ keyId: keyIdSchema })

/** The API-key routes. */
export function apiKeyRoutes(services: Services): RouteSpec[] {
  const { apikeys } = services
  const tag = 'api-keys'
  return [
    route({
      method: 'get',
      path: KEYS,
      tag,
      summary: 'List API keys (of one owner); never a secret.',
      auth: 'required',
      permission: 'apikeys:read',
      query: apiKeyListInputSchema,
      response: apiKeyPageSchema,
      handler: ({ ctx, query }) => apikeys.list(ctx, query),
    }),
    route({
      method: 'post',
      path: KEYS,
      tag,
      summary: "Create a key with scopes within its owner's (and the caller's) permissions; its text is in this answer only.",
      auth: 'required',
      permission: 'apikeys:write',
      body: createApiKeyInputSchema,
      response: apiKeyWithSecretSchema,
      status: 201,
      handler: ({ ctx, body }) => apikeys.create(ctx, body),
    }),
    route({
      method: 'post',
      path: `${KEYS}/:keyId/revoke`,
      tag,
      summary: 'Revoke a key: refused from the next request on.',
      auth: 'required',
      permission: 'apikeys:write',
      params: byKeyId,
      response: apiKeySchema,
      handler: ({ ctx, params }) => apikeys.revoke(ctx, params.keyId),
    }),
    route({
      method: 'post',
      path: `${KEYS}/:keyId/rotate`,
      tag,
      summary: 'A new secret for a key (in this answer only); the previous one works for the grace period (default 24h).',
      auth: 'required',
      permission: 'apikeys:write',
      params: byKeyId,
      body: rotateApiKeyInputSchema,
      response: apiKeyWithSecretSchema,
      handler: ({ ctx, params, body }) => apikeys.rotate(ctx, params.keyId, body),
    }),
  ]
}
