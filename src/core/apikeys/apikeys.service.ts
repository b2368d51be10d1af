/**
 * API keys: owned credentials (credentials/owned-credentials.ts) presented whole as `gk_<env>_<id>_<secret><check>`
 * in a Bearer header or X-API-Key. A key speaks for its owner: it dies with the owner's disablement, and its
 * effective scopes are its scopes intersected with what the owner holds at the time of use.
 */
import { parseDuration } from '../duration.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { ownedCredentials, type OwnedCredentialsDeps } from '../credentials/owned-credentials.js'
import { toUser } from '../users/users.service.js'
import { apiKeyFormat } from './apikey-format.js'
import { apiKeysTable } from './apikeys.repo.js'
import {
  apiKeyListInputSchema,
  createApiKeyInputSchema,
  keyIdSchema,
  rotateApiKeyInputSchema,
  type ApiKey,
  type ApiKeyListInput,
  type ApiKeyPage,
  type ApiKeyWithSecret,
  type CreateApiKeyInput,
  type RotateApiKeyInput,
  type VerifiedApiKey,
} from './apikeys.schema.js'
import type { ActorContext } from '../context.js'

export interface ApiKeysService {
  /** Needs apikeys:write, permissions covering the owner's and every scope; the result holds the key, shown this once. */
  create(ctx: ActorContext, input: CreateApiKeyInput): Promise<ApiKeyWithSecret>
  /** Needs apikeys:read; never a secret. */
  list(ctx: ActorContext, input?: ApiKeyListInput): Promise<ApiKeyPage>
  /** Needs apikeys:read; one key by its id, never its secret. */
  get(ctx: ActorContext, keyId: string): Promise<ApiKey>
  /** Needs apikeys:write and permissions covering the owner's; revoking a revoked key changes nothing. */
  revoke(ctx: ActorContext, keyId: string): Promise<ApiKey>
  /** Needs apikeys:write, permissions covering the owner's and the key's scopes; a new secret, the previous one accepted for the grace period. */
  rotate(ctx: ActorContext, keyId: string, input?: RotateApiKeyInput): Promise<ApiKeyWithSecret>
  /** The owner and effective scopes of a presented key; APIKEY_INVALID for anything else. */
  verify(text: string): Promise<VerifiedApiKey>
  /** What key `keyId` may do now, no permission check: its effective scopes, or none once revoked, expired, gone or its owner disabled. */
  scopesNow(keyId: string): Promise<string[]>
}

export type ApiKeysServiceDeps = OwnedCredentialsDeps

/** Builds the API keys service. */
export function createApiKeysService(deps: ApiKeysServiceDeps): ApiKeysService {
  const keys = ownedCredentials(
    {
      noun: 'API key',
      permissions: { read: 'apikeys:read', write: 'apikeys:write' },
      targetType: 'apikey',
      actions: { create: 'apikeys.create', revoke: 'apikeys.revoke', rotate: 'apikeys.rotate' },
      errors: { notFound: 'APIKEY_NOT_FOUND', revoked: 'APIKEY_REVOKED' },
      table: apiKeysTable,
      format: apiKeyFormat,
      parseId: (text) => parseInput(keyIdSchema, text),
    },
    deps,
  )
  const withKey = ({ view, secret }: { view: ApiKey; secret: string }): ApiKeyWithSecret => ({ apiKey: view, key: secret })

  return {
    // The permission is checked before the input, as everywhere: a caller without it learns nothing of the input's rules.
    async create(ctx, input) {
      requirePermission(ctx, 'apikeys:write')
      return withKey(await keys.create(ctx, parseInput(createApiKeyInputSchema, input)))
    },
    list(ctx, input = {}) {
      requirePermission(ctx, 'apikeys:read')
      return keys.list(ctx, parseInput(apiKeyListInputSchema, input))
    },
    get: (ctx, keyId) => keys.get(ctx, keyId),
    revoke: (ctx, keyId) => keys.revoke(ctx, keyId),
    async rotate(ctx, keyId, input = {}) {
      requirePermission(ctx, 'apikeys:write')
      return withKey(await keys.rotate(ctx, keyId, parseDuration(parseInput(rotateApiKeyInputSchema, input).grace)))
    },

    async verify(text) {
      const presented = apiKeyFormat.parse(text) // a malformed or mistyped key is refused before any query
      if (presented.env !== deps.environmentName) throw refused('another environment')
      const now = deps.clock.now()
      const row = await keys.match(presented.keyId, presented.secret, now)
      if (!row) throw refused('unknown or wrong secret')
      const standing = await keys.standing(row, now)
      if (typeof standing === 'string') throw refused(standing)
      await keys.touch(row, now)
      return { keyId: row.publicId, owner: toUser(standing.owner), scopes: standing.scopes, expiresAt: row.expiresAt }
    },

    async scopesNow(keyId) {
      const row = await apiKeysTable.find(deps.knex, keyId)
      const standing = row && (await keys.standing(row, deps.clock.now()))
      return standing === undefined || typeof standing === 'string' ? [] : standing.scopes
    },
  }
}

// One message for every refusal; the reason stays on `cause`, for logs only.
function refused(reason: string): GantryError {
  return new GantryError('APIKEY_INVALID', 'The API key is not valid.', { cause: new Error(`API key refused: ${reason}`) })
}
