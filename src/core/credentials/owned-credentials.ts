/**
 * Owned credentials: what API keys and OAuth clients have in common. Each is created for an owner with
 * scopes within the owner's permissions (and the creator's: an actor hands out only what it holds), its
 * secret shown once and stored as a hash; listed, revoked, rotated with a grace period for the previous
 * secret. It speaks for its owner: it dies with the owner's disablement, and its effective scopes are its
 * scopes intersected with what the owner holds at the time of use. The feature services (apikeys,
 * oauth-clients) add their permission names, audit actions, errors and how the secret is presented.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { AuditAction } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem, type ErrorCode } from '../errors.js'
import { decodeCursor, toPage, type Page } from '../pagination.js'
import { covers, hasPermission, requireCoversTarget, requireHandOut, requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import type { DirectoryUser, UserDirectory } from '../users/users.directory.js'
import { verifySecret, type CredentialFormat } from '../apikeys/apikey-format.js'
import type { CredentialRow, CredentialTable } from './credential-table.js'

/** A credential as every door shows it: never the secret or its hash. */
export interface CredentialView {
  id: string
  name: string
  owner: string
  env: string
  scopes: string[]
  expiresAt: string | null
  lastUsedAt: string | null
  revoked: boolean
  revokedAt: string | null
  graceEndsAt: string | null
  createdAt: string
}

/** What sets one kind of credential apart. */
export interface CredentialKind<R extends CredentialRow> {
  /** As messages name it: `API key`, `OAuth client`. */
  readonly noun: string
  readonly permissions: { readonly read: string; readonly write: string }
  /** The audit log's target type and actions. */
  readonly targetType: string
  readonly actions: { readonly create: AuditAction; readonly revoke: AuditAction; readonly rotate: AuditAction }
  readonly errors: { readonly notFound: ErrorCode; readonly revoked: ErrorCode }
  readonly table: CredentialTable<R>
  readonly format: CredentialFormat
  /** Parses a public id as the doors pass it (INVALID_INPUT otherwise). */
  readonly parseId: (text: string) => string
}

/** Create's input, parsed by the feature's schema. */
export interface NewCredentialInput {
  readonly name: string
  /** The owner's email; none: the calling user. */
  readonly owner?: string | undefined
  /** Default: every permission the owner holds now. */
  readonly scopes?: readonly string[] | undefined
  /** A lifetime such as 90d; none: never expires. */
  readonly expires?: string | undefined
}

/** A live credential's owner and effective scopes, or why it is not live. */
export type Standing = { readonly owner: DirectoryUser; readonly scopes: string[] } | 'revoked' | 'expired' | 'owner disabled'

export interface OwnedCredentials<R extends CredentialRow> {
  /** Needs the write permission, permissions covering the owner's and every scope; `secret` is shown this once. */
  create(ctx: ActorContext, input: NewCredentialInput): Promise<{ view: CredentialView; secret: string }>
  /** Needs the read permission; never a secret. */
  list(ctx: ActorContext, input: { owner?: string | undefined; cursor?: string | undefined; limit: number }): Promise<Page<CredentialView>>
  /** Needs the read permission; one by its public id. */
  get(ctx: ActorContext, publicId: string): Promise<CredentialView>
  /** Needs the write permission and permissions covering the owner's; revoking a revoked one changes nothing. */
  revoke(ctx: ActorContext, publicId: string): Promise<CredentialView>
  /** Needs the write permission, permissions covering the owner's and the scopes; a new secret, the previous one accepted for `grace` ms; `within` runs in its transaction. */
  rotate(ctx: ActorContext, publicId: string, graceMs: number, within?: (trx: Knex, row: R) => Promise<void>): Promise<{ view: CredentialView; secret: string }>
  /** The row behind a presented secret, when the secret (or the previous one, in its grace) matches; undefined otherwise. */
  match(publicId: string, secret: string, now: number): Promise<R | undefined>
  /** What a row may do at `now`: its owner and effective scopes, or why not. */
  standing(row: R, now: number): Promise<Standing>
  /** Records a use at most once a minute. */
  touch(row: R, now: number): Promise<void>
  view(row: R): CredentialView
}

/** last_used_at is written at most this often per credential, to spare a write on every request. */
const LAST_USED_INTERVAL_MS = 60_000

export interface OwnedCredentialsDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly roles: RolesService
  /** Owners are users: looked up through the users feature. */
  readonly directory: UserDirectory
  /** The Gantry environment: its name is part of every secret, and only its secrets verify. */
  readonly environmentName: string
}

/** Builds the shared half of a credential feature. */
export function ownedCredentials<R extends CredentialRow>(kind: CredentialKind<R>, deps: OwnedCredentialsDeps): OwnedCredentials<R> {
  const { knex, clock, audit, roles, directory, environmentName } = deps
  const { table, noun } = kind

  const ownerPermissions = async (k: Knex, owner: DirectoryUser): Promise<string[]> => (await roles.permissionsOf(k, owner.role)) ?? []
  const load = async (k: Knex, publicId: string, lock = false): Promise<R> => {
    const id = kind.parseId(publicId)
    const row = await table.find(k, id, lock)
    if (!row) throw new GantryError(kind.errors.notFound, `No ${noun} with id ${id}.`)
    return row
  }
  const view = (row: R): CredentialView => toView(row, clock.now())
  /** Acting on a credential acts on its owner: the actor's permissions must cover the owner's (a deleted owner's is anyone's to end). */
  const requireCoversOwner = async (ctx: ActorContext, k: Knex, row: R): Promise<void> => {
    const owner = await directory.byId(k, row.ownerId)
    if (owner) requireCoversTarget(ctx, await ownerPermissions(k, owner), owner.email)
  }
  const ownerOf = async (ctx: ActorContext, k: Knex, email: string | undefined): Promise<DirectoryUser> => {
    if (email !== undefined) {
      const owner = await directory.byEmail(k, email)
      if (!owner) throw new GantryError('USER_NOT_FOUND', `No user with email ${email}.`)
      return owner
    }
    const self = ctx.userId === undefined ? undefined : await directory.byId(k, ctx.userId)
    if (!self) throw new GantryError('INVALID_INPUT', `Name the user the ${noun} acts for (owner).`, { details: inputProblem(['owner'], 'owner-required') })
    return self
  }

  return {
    async create(ctx, input) {
      requirePermission(ctx, kind.permissions.write)
      const now = clock.now()
      const expiresAt = input.expires === undefined ? null : now + positiveDuration(input.expires, 'expires')
      const generated = kind.format.generate(environmentName)
      const created = await knex.transaction(async (trx) => {
        const owner = await ownerOf(ctx, trx, input.owner)
        const permissions = await ownerPermissions(trx, owner)
        requireCoversTarget(ctx, permissions, owner.email)
        if (owner.status !== 'active')
          throw new GantryError('INVALID_INPUT', `${owner.email} is disabled: a ${noun} of theirs would not work.`, {
            hint: 'Enable the user first, or pick another owner.',
          })
        const scopes = input.scopes ?? permissions
        if (scopes.length === 0) throw new GantryError('INVALID_INPUT', `A ${noun} needs at least one scope.`)
        for (const scope of scopes) {
          if (!hasPermission(permissions, scope)) {
            throw new GantryError(
              'INVALID_INPUT',
              `Scope ${scope} is beyond the permissions of ${owner.email} (role ${owner.role}: ${permissions.join(', ') || 'none'}).`,
              { hint: 'Give scopes within the owner’s permissions, or change the owner’s role first.' },
            )
          }
        }
        requireHandOut(ctx, scopes, `The ${noun}`)
        await table.insert(trx, {
          publicId: generated.keyId,
          name: input.name,
          ownerId: owner.id,
          env: environmentName,
          secretHash: generated.secretHash,
          scopes,
          expiresAt,
          createdAt: now,
        })
        const after = view((await table.find(trx, generated.keyId)) as R)
        await audit.append(trx, ctx, { action: kind.actions.create, targetType: kind.targetType, targetId: after.id, after })
        return after
      })
      return { view: created, secret: generated.key }
    },

    async list(ctx, input) {
      requirePermission(ctx, kind.permissions.read)
      let ownerId: number | undefined
      if (input.owner !== undefined) {
        const owner = await directory.byEmail(knex, input.owner)
        if (!owner) throw new GantryError('USER_NOT_FOUND', `No user with email ${input.owner}.`)
        ownerId = owner.id
      }
      const rows = await table.select(knex, { ownerId, afterId: decodeCursor(input.cursor) }, input.limit + 1)
      return toPage(rows, input.limit, view)
    },

    async get(ctx, publicId) {
      requirePermission(ctx, kind.permissions.read)
      return view(await load(knex, publicId))
    },

    async revoke(ctx, publicId) {
      requirePermission(ctx, kind.permissions.write)
      return knex.transaction(async (trx) => {
        const row = await load(trx, publicId, true)
        await requireCoversOwner(ctx, trx, row)
        if (row.revokedAt === null) await table.revoke(trx, row.id, clock.now())
        const after = view((await table.find(trx, row.publicId)) as R)
        await audit.append(trx, ctx, { action: kind.actions.revoke, targetType: kind.targetType, targetId: row.publicId, before: view(row), after })
        return after
      })
    },

    async rotate(ctx, publicId, graceMs, within) {
      requirePermission(ctx, kind.permissions.write)
      return knex.transaction(async (trx) => {
        const row = await load(trx, publicId, true)
        await requireCoversOwner(ctx, trx, row)
        // The new secret goes to the actor: it hands out the credential's scopes.
        requireHandOut(ctx, row.scopes, `${noun} ${row.publicId}`)
        if (row.revokedAt !== null) throw new GantryError(kind.errors.revoked, `${noun} ${row.publicId} is revoked and cannot be rotated.`)
        const now = clock.now()
        const next = kind.format.generate(row.env, row.publicId)
        await table.replaceSecret(trx, row.id, {
          secretHash: next.secretHash,
          previousSecretHash: graceMs > 0 ? row.secretHash : null,
          previousExpiresAt: graceMs > 0 ? now + graceMs : null,
        })
        await within?.(trx, row)
        const after = view((await table.find(trx, row.publicId)) as R)
        await audit.append(trx, ctx, { action: kind.actions.rotate, targetType: kind.targetType, targetId: row.publicId, before: view(row), after })
        return { view: after, secret: next.key }
      })
    },

    async match(publicId, secret, now) {
      const row = await table.find(knex, publicId)
      if (!row || row.env !== environmentName) return undefined
      // Both compares run whatever the first says: the time taken tells nothing about which secret matched.
      const current = verifySecret(secret, row.secretHash)
      const previous =
        row.previousSecretHash !== null && verifySecret(secret, row.previousSecretHash) && row.previousExpiresAt !== null && now < row.previousExpiresAt
      return current || previous ? row : undefined
    },

    async standing(row, now) {
      if (row.revokedAt !== null) return 'revoked'
      if (row.expiresAt !== null && now >= row.expiresAt) return 'expired'
      const owner = await directory.byId(knex, row.ownerId)
      if (!owner || owner.status !== 'active') return 'owner disabled'
      return { owner, scopes: intersect(row.scopes, await ownerPermissions(knex, owner)) }
    },

    async touch(row, now) {
      if (row.lastUsedAt === null || now - row.lastUsedAt >= LAST_USED_INTERVAL_MS) await table.touchLastUsed(knex, row.id, now, LAST_USED_INTERVAL_MS)
    },

    view,
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
function toView(row: CredentialRow, now: number): CredentialView {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
  const inGrace = row.previousSecretHash !== null && row.previousExpiresAt !== null && now < row.previousExpiresAt
  return {
    id: row.publicId,
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
