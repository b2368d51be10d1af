/** API keys (`gantry apikeys …`, /api/v1/admin/api-keys). */
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
import { operation } from '../operation.js'

const KEYS = '/api/v1/admin/api-keys'
const byKeyId = z.object({ keyId: keyIdSchema })
const tag = 'api-keys'
const write = { tag, permission: 'apikeys:write' } as const

export const apiKeyOperations = {
  'apikeys.list': operation({
    tag,
    permission: 'apikeys:read',
    summary: 'List API keys (of one owner); never a secret.',
    http: { method: 'get', path: KEYS },
    input: apiKeyListInputSchema,
    output: apiKeyPageSchema,
    errors: ['USER_NOT_FOUND'],
    run: ({ apikeys }, ctx, _params, input) => apikeys.list(ctx, input),
  }),
  'apikeys.create': operation({
    ...write,
    summary: "Create a key with scopes within its owner's (and the caller's) permissions; its text is in this answer only.",
    http: { method: 'post', path: KEYS, status: 201 },
    input: createApiKeyInputSchema,
    output: apiKeyWithSecretSchema,
    errors: ['USER_NOT_FOUND'],
    audit: 'apikeys.create',
    authorization: { actsOn: 'user', handsOut: 'scopes' },
    run: ({ apikeys }, ctx, _params, input) => apikeys.create(ctx, input),
  }),
  'apikeys.get': operation({
    tag,
    permission: 'apikeys:read',
    summary: 'One API key by its id; never its secret.',
    http: { method: 'get', path: `${KEYS}/:keyId` },
    params: byKeyId,
    output: apiKeySchema,
    errors: ['APIKEY_NOT_FOUND'],
    run: ({ apikeys }, ctx, { keyId }) => apikeys.get(ctx, keyId),
  }),
  'apikeys.revoke': operation({
    ...write,
    summary: 'Revoke a key: refused from the next request on.',
    http: { method: 'post', path: `${KEYS}/:keyId/revoke` },
    params: byKeyId,
    output: apiKeySchema,
    errors: ['APIKEY_NOT_FOUND'],
    audit: 'apikeys.revoke',
    authorization: { actsOn: 'apikey' },
    run: ({ apikeys }, ctx, { keyId }) => apikeys.revoke(ctx, keyId),
  }),
  'apikeys.rotate': operation({
    ...write,
    summary: 'A new secret for a key (in this answer only); the previous one works for the grace period (default 24h).',
    http: { method: 'post', path: `${KEYS}/:keyId/rotate` },
    params: byKeyId,
    input: rotateApiKeyInputSchema,
    output: apiKeyWithSecretSchema,
    errors: ['APIKEY_NOT_FOUND', 'APIKEY_REVOKED'],
    audit: 'apikeys.rotate',
    authorization: { actsOn: 'apikey', handsOut: 'scopes' },
    run: ({ apikeys }, ctx, { keyId }, input) => apikeys.rotate(ctx, keyId, input),
  }),
} as const
