/** OAuth clients (`gantry oauth clients …`, /api/v1/admin/oauth/clients): machine clients of the client-credentials grant. */
import { z } from 'zod'
import {
  clientIdSchema,
  createOAuthClientInputSchema,
  oauthClientListInputSchema,
  oauthClientPageSchema,
  oauthClientSchema,
  oauthClientWithSecretSchema,
  rotateOAuthClientInputSchema,
} from '../../core/oauth/oauth-clients.schema.js'
import { operation } from '../operation.js'

const CLIENTS = '/api/v1/admin/oauth/clients'
const byClientId = z.object({ clientId: clientIdSchema })
const tag = 'oauth'
const write = { tag, permission: 'oauth:write' } as const

export const oauthOperations = {
  'oauth.clients.list': operation({
    tag,
    permission: 'oauth:read',
    summary: 'List OAuth clients (of one owner); never a secret.',
    http: { method: 'get', path: CLIENTS },
    input: oauthClientListInputSchema,
    output: oauthClientPageSchema,
    errors: ['USER_NOT_FOUND'],
    run: ({ oauthClients }, ctx, _params, input) => oauthClients.list(ctx, input),
  }),
  'oauth.clients.create': operation({
    ...write,
    summary:
      "Create a client acting for its owner (default: the caller) with scopes within the owner's and the caller's permissions; its secret is in this answer only.",
    http: { method: 'post', path: CLIENTS, status: 201 },
    input: createOAuthClientInputSchema,
    output: oauthClientWithSecretSchema,
    errors: ['USER_NOT_FOUND'],
    audit: 'oauth.clients.create',
    authorization: { actsOn: 'user', handsOut: 'scopes' },
    run: ({ oauthClients }, ctx, _params, input) => oauthClients.create(ctx, input),
  }),
  'oauth.clients.get': operation({
    tag,
    permission: 'oauth:read',
    summary: 'One OAuth client by its client_id; never its secret.',
    http: { method: 'get', path: `${CLIENTS}/:clientId` },
    params: byClientId,
    output: oauthClientSchema,
    errors: ['OAUTH_CLIENT_NOT_FOUND'],
    run: ({ oauthClients }, ctx, { clientId }) => oauthClients.get(ctx, clientId),
  }),
  'oauth.clients.revoke': operation({
    ...write,
    summary: 'Revoke a client: no token from the next request on, and its tokens refused within a second.',
    http: { method: 'post', path: `${CLIENTS}/:clientId/revoke` },
    params: byClientId,
    output: oauthClientSchema,
    errors: ['OAUTH_CLIENT_NOT_FOUND'],
    audit: 'oauth.clients.revoke',
    authorization: { actsOn: 'oauthClient' },
    run: ({ oauthClients }, ctx, { clientId }) => oauthClients.revoke(ctx, clientId),
  }),
  'oauth.clients.rotate': operation({
    ...write,
    summary: 'A new secret for a client (in this answer only); the previous one works for the grace period (default 24h).',
    http: { method: 'post', path: `${CLIENTS}/:clientId/rotate` },
    params: byClientId,
    input: rotateOAuthClientInputSchema,
    output: oauthClientWithSecretSchema,
    errors: ['OAUTH_CLIENT_NOT_FOUND', 'OAUTH_CLIENT_REVOKED'],
    audit: 'oauth.clients.rotate',
    authorization: { actsOn: 'oauthClient', handsOut: 'scopes' },
    run: ({ oauthClients }, ctx, { clientId }, input) => oauthClients.rotate(ctx, clientId, input),
  }),
} as const
