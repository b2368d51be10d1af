/**
 * API keys: created for an owner with scopes within the owner's permissions, shown once, stored as a hash of
 * the secret; listed, revoked, rotated with a grace period for the previous secret; and verified when
 * presented. A key speaks for its owner: it dies with the owner's disablement, and its effective scopes are
 * its scopes intersected with what the owner holds at the time of use.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem } from '../errors.js'
import { decodeCursor, parseInput, toPage } from '../pagination.js'
import { covers, hasPermission, requireCoversTarget, requireHandOut, requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import type { DirectoryUser, UserDirectory } from '../users/users.directory.js'
import { toUser } from '../users/users.service.js'
import { generateApiKey, parseApiKey, verifySecret } from './apikey-format.js'
import * as repo from './apikeys.repo.js'
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

/** last_used_at is written at most this often per key, to spare a write on every request. */
const LAST_USED_INTERVAL_MS = 60_000

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

export interface ApiKeysServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly roles: RolesService
  /** Key owners are users: looked up through the users feature. */
  readonly directory: UserDirectory
  /** The Gantry environment these services run in: its name is part of every key, and only its keys verify. */
  readonly environmentName: string
}

/** Builds the API keys service. */
export function createApiKeysService(deps: ApiKeysServiceDeps): ApiKeysService {
  const { knex, clock, audit, roles, directory, environmentName } = deps

  const ownerPermissions = async (k: Knex, owner: DirectoryUser): Promise<string[]> => (await roles.permissionsOf(k, owner.role)) ?? []
  const load = async (k: Knex, keyId: string, lock = false): Promise<repo.ApiKeyRow> => {
    const id = parseInput(keyIdSchema, keyId)
    const row = await repo.findByKeyId(k, id, lock)
    if (!row) throw new GantryError('APIKEY_NOT_FOUND', `No API key with id ${id}.`)
    return row
  }
  const view = (row: repo.ApiKeyRow): ApiKey => toApiKey(row, clock.now())
  /** A live key's owner and effective scopes at `now`, or why it is not live. */
  const standingOf = async (row: repo.ApiKeyRow, now: number): Promise<{ owner: DirectoryUser; scopes: string[] } | string> => {
    if (row.revokedAt !== null) return 'revoked'
    if (row.expiresAt !== null && now >= row.expiresAt) return 'expired'
    const owner = await directory.byId(knex, row.ownerId)
    if (!owner || owner.status !== 'active') return 'owner disabled'
    return { owner, scopes: intersect(row.scopes, await ownerPermissions(knex, owner)) }
  }
  /** Acting on a key acts on its owner: the actor's permissions must cover the owner's (a deleted owner's key is anyone's to end). */
  const requireCoversOwner = async (ctx: ActorContext, k: Knex, row: repo.ApiKeyRow): Promise<void> => {
    const owner = await directory.byId(k, row.ownerId)
    if (owner) requireCoversTarget(ctx, await ownerPermissions(k, owner), owner.email)
  }

  return {
    async create(ctx, input) {
      requirePermission(ctx, 'apikeys:write')
      const parsed = parseInput(createApiKeyInputSchema, input)
      const now = clock.now()
      const expiresAt = parsed.expires === undefined ? null : now + positiveDuration(parsed.expires, 'expires')
      const generated = generateApiKey(environmentName)
      const apiKey = await knex.transaction(async (trx) => {
        const owner = await directory.byEmail(trx, parsed.owner)
        if (!owner) throw new GantryError('USER_NOT_FOUND', `No user with email ${parsed.owner}.`)
        const permissions = await ownerPermissions(trx, owner)
        requireCoversTarget(ctx, permissions, owner.email)
        if (owner.status !== 'active')
          throw new GantryError('INVALID_INPUT', `${owner.email} is disabled: a key of theirs would not work.`, {
            hint: 'Enable the user first, or pick another owner.',
          })
        const scopes = parsed.scopes ?? permissions
        if (scopes.length === 0) throw new GantryError('INVALID_INPUT', 'A key needs at least one scope.')
        for (const scope of scopes) {
          if (!hasPermission(permissions, scope)) {
            throw new GantryError(
              'INVALID_INPUT',
              `Scope ${scope} is beyond the permissions of ${owner.email} (role ${owner.role}: ${permissions.join(', ') || 'none'}).`,
              {
                hint: 'Give scopes within the owner’s permissions, or change the owner’s role first.',
              },
            )
          }
        }
        requireHandOut(ctx, scopes, 'The key')
        await repo.insertKey(trx, {
          keyId: generated.keyId,
          name: parsed.name,
          ownerId: owner.id,
          env: environmentName,
          secretHash: generated.secretHash,
          scopes,
          expiresAt,
          createdAt: now,
        })
        const created = view((await repo.findByKeyId(trx, generated.keyId)) as repo.ApiKeyRow)
        await audit.append(trx, ctx, { action: 'apikeys.create', targetType: 'apikey', targetId: created.id, after: created })
        return created
      })
      return { apiKey, key: generated.key }
    },

    async list(ctx, input = {}) {
      requirePermission(ctx, 'apikeys:read')
      const parsed = parseInput(apiKeyListInputSchema, input)
      let ownerId: number | undefined
      if (parsed.owner !== undefined) {
        const owner = await directory.byEmail(knex, parsed.owner)
        if (!owner) throw new GantryError('USER_NOT_FOUND', `No user with email ${parsed.owner}.`)
        ownerId = owner.id
      }
      const rows = await repo.selectKeys(knex, { ownerId, afterId: decodeCursor(parsed.cursor) }, parsed.limit + 1)
      return toPage(rows, parsed.limit, view)
    },

    async get(ctx, keyId) {
      requirePermission(ctx, 'apikeys:read')
      return view(await load(knex, keyId))
    },

    async revoke(ctx, keyId) {
      requirePermission(ctx, 'apikeys:write')
      return knex.transaction(async (trx) => {
        const row = await load(trx, keyId, true)
        await requireCoversOwner(ctx, trx, row)
        if (row.revokedAt === null) await repo.revokeKey(trx, row.id, clock.now())
        const after = view((await repo.findByKeyId(trx, row.keyId)) as repo.ApiKeyRow)
        await audit.append(trx, ctx, { action: 'apikeys.revoke', targetType: 'apikey', targetId: row.keyId, before: view(row), after })
        return after
      })
    },

    async rotate(ctx, keyId, input = {}) {
      requirePermission(ctx, 'apikeys:write')
      const grace = parseDuration(parseInput(rotateApiKeyInputSchema, input).grace)
      return knex.transaction(async (trx) => {
        const row = await load(trx, keyId, true)
        await requireCoversOwner(ctx, trx, row)
        // The new secret goes to the actor: it hands out the key's scopes.
        requireHandOut(ctx, row.scopes, `API key ${row.keyId}`)
        if (row.revokedAt !== null) throw new GantryError('APIKEY_REVOKED', `API key ${row.keyId} is revoked and cannot be rotated.`)
        const now = clock.now()
        const next = generateApiKey(row.env, row.keyId)
        await repo.replaceSecret(trx, row.id, {
          secretHash: next.secretHash,
          previousSecretHash: grace > 0 ? row.secretHash : null,
          previousExpiresAt: grace > 0 ? now + grace : null,
        })
        const after = view((await repo.findByKeyId(trx, row.keyId)) as repo.ApiKeyRow)
        await audit.append(trx, ctx, { action: 'apikeys.rotate', targetType: 'apikey', targetId: row.keyId, before: view(row), after })
        return { apiKey: after, key: next.key }
      })
    },

    async verify(text) {
      const presented = parseApiKey(text) // a malformed or mistyped key is refused before any query
      if (presented.env !== environmentName) throw refused('another environment')
      const row = await repo.findByKeyId(knex, presented.keyId)
      if (!row || row.env !== presented.env) throw refused('unknown')
      const now = clock.now()
      // Both compares run whatever the first says: the time taken tells nothing about which secret matched.
      const current = verifySecret(presented.secret, row.secretHash)
      const previous =
        row.previousSecretHash !== null &&
        verifySecret(presented.secret, row.previousSecretHash) &&
        row.previousExpiresAt !== null &&
        now < row.previousExpiresAt
      if (!current && !previous) throw refused('secret')
      const standing = await standingOf(row, now)
      if (typeof standing === 'string') throw refused(standing)
      if (row.lastUsedAt === null || now - row.lastUsedAt >= LAST_USED_INTERVAL_MS) await repo.touchLastUsed(knex, row.id, now, LAST_USED_INTERVAL_MS)
      return { keyId: row.keyId, owner: toUser(standing.owner), scopes: standing.scopes, expiresAt: row.expiresAt }
    },

    async scopesNow(keyId) {
      const row = await repo.findByKeyId(knex, keyId)
      const standing = row && (await standingOf(row, clock.now()))
      return standing === undefined || typeof standing === 'string' ? [] : standing.scopes
    },
  }
}

/**
 * The part of `scopes` the owner holds: a scope the owner's permissions cover stays whole; of one they
 * no longer cover, only the owner's permissions that lie inside it remain (`users:*` with an owner who
 * now holds `users:read` is `users:read`).
 */
export function intersect(scopes: readonly string[], permissions: readonly string[]): string[] {
  return [...new Set(scopes.flatMap((s) => (hasPermission(permissions, s) ? [s] : permissions.filter((p) => covers(s, p)))))]
}

/** The public view of a row: never a secret or hash. */
function toApiKey(row: repo.ApiKeyRow, now: number): ApiKey {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
  const inGrace = row.previousSecretHash !== null && row.previousExpiresAt !== null && now < row.previousExpiresAt
  return {
    id: row.keyId,
    name: row.name,
    owner: row.ownerEmail,
    env: row.env,
    scopes: row.scopes,
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revoked: row.revokedAt !== null,
    revokedAt: iso(row.revokedAt),
    graceEndsAt: inGrace ? iso(row.previousExpiresAt) : null,
    createdAt: iso(row.createdAt) as string,
  }
}

function positiveDuration(text: string, field: string): number {
  const ms = parseDuration(text)
  if (ms <= 0)
    throw new GantryError('INVALID_INPUT', `The duration ${field} must be longer than 0.`, { details: inputProblem([field], 'duration-not-positive') })
  return ms
}

// One message for every refusal; the reason stays on `cause`, for logs only.
function refused(reason: string): GantryError {
  return new GantryError('APIKEY_INVALID', 'The API key is not valid.', { cause: new Error(`API key refused: ${reason}`) })
}
