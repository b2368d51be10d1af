/**
 * The actors and the world of the escalation matrix (test/reliability/escalation-matrix.test.ts). An actor
 * is a role (built-in, or custom: one per permission that writes, plus a couple of wider ones) and a
 * credential (an access token, an API key with the role's permissions, or a key narrowed to one permission
 * that writes). A slice is what one actor meets: its own user, and targets of lower, equal and higher
 * privilege (users holding viewer, the actor's role, admin — active, disabled, locked out — their keys and
 * OAuth clients, and roles granting viewer's permissions, the actor's, everything — and webhook endpoints,
 * switched off and on, subscribed to events of those privileges — and a feature flag and a segment to
 * change). Made through the services as the local operator; users are inserted with one precomputed hash,
 * so a slice costs no password hashing.
 */
import type { Knex } from 'knex'
import { intersect } from '../../src/core/credentials/owned-credentials.js'
import type { Clock } from '../../src/core/clock.js'
import { localContext } from '../../src/core/context.js'
import { JOBS_TABLE } from '../../src/core/jobs/job-queue.js'
import { BUILTIN_ROLE_PERMISSIONS } from '../../src/core/roles/builtin-roles.js'
import { covers, coversAll, GANTRY_PERMISSIONS } from '../../src/core/roles/permissions.js'
import type { Services } from '../../src/core/services.js'
import { insertIdentity } from '../../src/core/users/identities.repo.js'
import { insertUser, updateUser } from '../../src/core/users/users.repo.js'
import { newMessageId } from '../../src/core/webhooks/outbox.js'
import * as hooksRepo from '../../src/core/webhooks/webhooks.repo.js'

/** The identity provider every matrix user has an account at (single sign-on's `users unlink` acts on it). */
export const MATRIX_PROVIDER = 'matrix-idp'
/** The password of every user a slice makes (stored as `World.passwordHash`). */
export const MATRIX_PASSWORD = 'matrix passphrase, long enough 1'
const local = localContext('local:matrix@test')

export interface RoleSpec {
  readonly name: string
  readonly permissions: readonly string[]
  readonly builtin: boolean
}

export interface ActorSpec {
  /** `operator/token`, `admin/key[apikeys:write]` … */
  readonly label: string
  readonly role: RoleSpec
  readonly credential: 'token' | 'key'
  /** A key's scopes (default: the role's permissions). */
  readonly scopes?: readonly string[] | undefined
}

/** What an actor holds: a token its role's permissions, a key its scopes within them. */
export function effectivePermissions(actor: ActorSpec): string[] {
  return actor.credential === 'token' ? [...actor.role.permissions] : intersect(actor.scopes ?? actor.role.permissions, actor.role.permissions)
}

/** Gantry's permissions that write (`users:write` …, `audit:delete` and `users:erase`), from its own list. */
export const WRITE_PERMISSIONS: readonly string[] = GANTRY_PERMISSIONS.filter((p) => /:(write|delete|erase)$/.test(p))

/**
 * Every built-in role, one custom role per permission that writes, one holding flags:evaluate alone (what a
 * service in another language is given: it may evaluate flags, neither read nor change them), and three
 * wider custom roles: the last may manage webhooks and read users' events only, so subscribing to more
 * than it reads is tried by an actor that holds part of it (admin holds every read permission, the narrowed
 * keys none).
 */
export function actorRoles(): RoleSpec[] {
  const builtin = Object.entries(BUILTIN_ROLE_PERMISSIONS).map(([name, permissions]) => ({ name, permissions, builtin: true }))
  const single = WRITE_PERMISSIONS.map((p) => ({ name: `only-${p.replace(':', '-')}`, permissions: [p], builtin: false }))
  return [
    ...builtin,
    ...single,
    { name: 'only-flags-evaluate', permissions: ['flags:evaluate'], builtin: false },
    { name: 'users-all', permissions: ['users:*'], builtin: false },
    { name: 'reader-users-write', permissions: ['*:read', 'users:write'], builtin: false },
    { name: 'users-reader-webhooks-write', permissions: ['users:read', 'webhooks:write'], builtin: false },
  ]
}

/** Each role through a token and a key; roles holding more than one thing also through keys narrowed to each permission that writes. */
export function actors(): ActorSpec[] {
  return actorRoles().flatMap((role) => {
    const narrowed =
      role.permissions.length === 1 && !role.permissions[0]?.includes('*') ? [] : WRITE_PERMISSIONS.filter((w) => role.permissions.some((p) => covers(p, w)))
    return [
      { label: `${role.name}/token`, role, credential: 'token' as const },
      { label: `${role.name}/key`, role, credential: 'key' as const },
      ...narrowed.map((w) => ({ label: `${role.name}/key[${w}]`, role, credential: 'key' as const, scopes: [w] })),
    ]
  })
}

export interface Person {
  readonly id: number
  readonly email: string
  readonly role: string
  readonly permissions: readonly string[]
}

/** An owned credential of the world (an API key, an OAuth client): its public id, owner and scopes. */
export interface KeyTarget {
  readonly id: string
  readonly owner: Person
  readonly scopes: readonly string[]
}

/** Targets by privilege: the actor itself, a viewer, a holder of the actor's role, an admin. */
export type Level = 'self' | 'viewer' | 'same' | 'admin'
export type OtherLevel = Exclude<Level, 'self'>
export const LEVELS: readonly Level[] = ['self', 'viewer', 'same', 'admin']
export const OTHER_LEVELS: readonly OtherLevel[] = ['viewer', 'same', 'admin']

/** A webhook endpoint of the world, and the event types it is subscribed to. */
export interface HookTarget {
  readonly id: string
  readonly eventTypes: readonly string[]
}

/** The webhook endpoints a slice's cells act on (shared by every slice: see `hooksOf`). */
export interface HookTargets {
  /** Where the endpoints point, and where cells point new ones. */
  readonly url: string
  /** An endpoint switched on, subscribed to users' events (viewer's privilege). */
  readonly live: HookTarget
  /** Endpoints switched off, subscribed to events of viewer's privilege, the actor's, everything: for enable. */
  readonly off: Readonly<Record<OtherLevel, HookTarget>>
  /** A failed delivery of `live`'s, for redeliver (replay queues it again too). */
  readonly delivery: number
}

/**
 * What an endpoint is subscribed to at each privilege: users' events (viewer holds their read permission),
 * the events the actor itself reads (everything for a holder of `*:read`; the areas it reads; failing those,
 * the areas it writes), and everything (`*`).
 */
export function subscriptions(held: readonly string[]): Record<OtherLevel, readonly string[]> {
  const areas = (actions: (action: string) => boolean): string[] => [
    ...new Set(
      held
        .map((p) => p.split(':'))
        .filter(([resource, action]) => resource !== '*' && action !== undefined && actions(action))
        .map(([resource]) => `${resource}.*`),
    ),
  ]
  const reads = areas((a) => a === 'read' || a === '*')
  const own = coversAll(held, ['*:read']) ? ['*'] : reads.length > 0 ? reads : areas(() => true)
  return { viewer: ['users.*'], same: own, admin: ['*'] }
}

export interface Slice {
  readonly n: number
  readonly actor: ActorSpec
  /** The actor's effective permissions: what the oracle judges by. */
  readonly held: readonly string[]
  /** The actor's credential: `Bearer <token>` or an API key. */
  readonly credential: { readonly kind: 'token' | 'key'; readonly secret: string }
  readonly users: Readonly<Record<Level, Person>>
  /** Disabled users, for enable. */
  readonly disabled: Readonly<Record<OtherLevel, Person>>
  /** Users locked out after failed logins, for unlock. */
  readonly locked: Readonly<Record<OtherLevel, Person>>
  /** An API key of each user, with its owner's permissions. */
  readonly keys: Readonly<Record<Level, KeyTarget>>
  /** An OAuth client of each user, with its owner's permissions. */
  readonly clients: Readonly<Record<Level, KeyTarget>>
  /** The actor's own role, and custom roles no one holds granting viewer's permissions, the actor's, everything. */
  readonly roles: Readonly<Record<'own' | OtherLevel, RoleSpec>>
  /** A stored rate-limit rule and an override of this slice, for the routes that remove them. */
  readonly rule: string
  readonly overrideSubject: string
  readonly hooks: HookTargets
  /** A boolean flag of this slice with one rule (`role in [admin]` serves on), for the routes that change, delete or evaluate a flag. */
  readonly flag: string
  /** A segment of this slice no rule names (`plan = team`), for the routes that replace and delete one. */
  readonly segment: string
  /** Ids of every user of the slice (their cached session state is dropped after a restore). */
  readonly userIds: readonly number[]
}

export interface World {
  readonly knex: Knex
  readonly services: Services
  readonly clock: Clock
  /** The stored hash of MATRIX_PASSWORD. */
  readonly passwordHash: string
  /** Where webhook endpoints point (a receiver answering 2xx); default a port nothing listens on. */
  readonly webhookUrl?: string | undefined
}

/** GANTRY_ENCRYPTION_KEY of the matrix's environments: webhook secrets are sealed under it. */
export const MATRIX_ENCRYPTION_KEY = Buffer.alloc(32, 5).toString('base64')

/** Makes the slice of `actor`; `n` keeps its names apart from every other slice's. */
export async function createSlice(world: World, actor: ActorSpec, n: number): Promise<Slice> {
  const { services, knex, clock } = world
  const permissionsOf = async (role: string): Promise<string[]> => (await services.roles.permissionsOf(knex, role)) ?? []
  // First: endpoints a cell left behind go before this slice's audited changes could be sent to them.
  const hooks = await hooksOf(world, effectivePermissions(actor))
  const own: RoleSpec = actor.role.builtin ? actor.role : { ...actor.role, name: `${actor.role.name}-${n}` }
  if (!own.builtin) await services.roles.create(local, { name: own.name, permissions: [...own.permissions] })
  const person = async (prefix: string, role: string, status: 'active' | 'disabled' = 'active', locked = false): Promise<Person> => {
    const email = `${prefix}-${n}@matrix.test`
    const now = clock.now()
    const id = await insertUser(knex, { email, name: prefix, role, status, password_hash: world.passwordHash, created_at: now, updated_at: now })
    if (locked) await updateUser(knex, id, { failed_logins: 5, locked_until: now + 3_600_000 })
    // An account at the matrix's identity provider, for `users unlink` to act on.
    await insertIdentity(knex, { userId: id, provider: MATRIX_PROVIDER, subject: email, email, at: now })
    return { id, email, role, permissions: await permissionsOf(role) }
  }
  const users: Record<Level, Person> = {
    self: await person('self', own.name),
    viewer: await person('viewer', 'viewer'),
    same: await person('same', own.name),
    admin: await person('admin', 'admin'),
  }
  const locked: Record<OtherLevel, Person> = {
    viewer: await person('viewer-locked', 'viewer', 'active', true),
    same: await person('same-locked', own.name, 'active', true),
    admin: await person('admin-locked', 'admin', 'active', true),
  }
  const disabled: Record<OtherLevel, Person> = {
    viewer: await person('viewer-off', 'viewer', 'disabled'),
    same: await person('same-off', own.name, 'disabled'),
    admin: await person('admin-off', 'admin', 'disabled'),
  }
  const keys = {} as Record<Level, KeyTarget>
  const clients = {} as Record<Level, KeyTarget>
  for (const level of LEVELS) {
    const owner = users[level]
    const made = await services.apikeys.create(local, { name: `${level}-key-${n}`, owner: owner.email })
    keys[level] = { id: made.apiKey.id, owner, scopes: made.apiKey.scopes }
    const { client } = await services.oauthClients.create(local, { name: `${level}-client-${n}`, owner: owner.email })
    clients[level] = { id: client.id, owner, scopes: client.scopes }
  }
  const held = effectivePermissions(actor)
  const role = async (prefix: string, permissions: readonly string[]): Promise<RoleSpec> => {
    const name = `${prefix}-${n}`
    await services.roles.create(local, { name, permissions: [...permissions] })
    return { name, permissions, builtin: false }
  }
  const roles = {
    own,
    viewer: await role('tr-viewer', BUILTIN_ROLE_PERMISSIONS.viewer),
    same: await role('tr-same', held),
    admin: await role('tr-admin', ['*']),
  }
  const rule = `mx-${n}`
  await services.rateLimits.set(local, rule, { match: `GET /matrix-${n}/*`, key: 'ip', limit: 100, window: '1m', burst: 10 })
  const overrideSubject = `ip:198.51.${Math.floor(n / 250)}.${(n % 250) + 1}`
  await services.rateLimits.override(local, { subject: overrideSubject, rule: '*', block: true, reason: 'matrix' })
  const flag = `mx-flag-${n}`
  await services.flags.create(local, {
    key: flag,
    type: 'boolean',
    rules: [{ conditions: [{ attribute: 'role', operator: 'in', values: ['admin'] }], serve: { variant: 'on' } }],
  })
  const segment = `mx-segment-${n}`
  await services.flags.setSegment(local, segment, { conditions: [{ attribute: 'plan', operator: 'equals', values: ['team'] }] })
  const secret =
    actor.credential === 'token'
      ? (await services.sessions.issueScriptToken(local, users.self.email)).token
      : (await services.apikeys.create(local, { name: `actor-${n}`, owner: users.self.email, scopes: [...(actor.scopes ?? own.permissions)] })).key
  // Last: nothing left for a worker to do while the cells run, where a delivery it made would pass for the cell's change.
  await settleJobs(knex)
  return {
    n,
    actor,
    held,
    credential: { kind: actor.credential, secret },
    users,
    disabled,
    locked,
    keys,
    clients,
    roles,
    rule,
    overrideSubject,
    hooks,
    flag,
    segment,
    userIds: [...Object.values(users), ...Object.values(disabled), ...Object.values(locked)].map((u) => u.id),
  }
}

/** Each endpoint of a world's, with its row as made, and its failed delivery. */
interface HookRegistry {
  readonly endpoints: Map<string, { id: string; row: string }>
  delivery?: { id: number; row: string; endpoint: string }
}
const registries = new WeakMap<World, HookRegistry>()

/**
 * The world's webhook endpoints for an actor holding `held`. Shared by every slice, not made per slice: an
 * environment holds at most 100 endpoints. Each is kept while its row is as made — the in-process door puts
 * the database back after every cell; the remote door makes a fresh slice after a cell that changed
 * something, and an endpoint that cell changed or deleted is made again here. Endpoints no cell should
 * find (made by a create cell) are deleted first, before any audited change of this slice could reach them.
 */
async function hooksOf(world: World, held: readonly string[]): Promise<HookTargets> {
  const { services, knex } = world
  const url = world.webhookUrl ?? 'http://127.0.0.1:9'
  const registry: HookRegistry = registries.get(world) ?? { endpoints: new Map() }
  registries.set(world, registry)
  const rowOf = async (id: string): Promise<string | undefined> => {
    const row = await hooksRepo.selectEndpoint(knex, id)
    return row && JSON.stringify(row)
  }
  const known = new Set([...registry.endpoints.values()].map((e) => e.id))
  for (const row of await hooksRepo.selectEndpoints(knex)) if (!known.has(row.id)) await hooksRepo.deleteEndpoint(knex, row.id)

  const endpoint = async (eventTypes: readonly string[], enabled: boolean): Promise<HookTarget> => {
    const key = `${enabled ? 'on' : 'off'} ${eventTypes.join(' ')}`
    const kept = registry.endpoints.get(key)
    if (kept && (await rowOf(kept.id)) === kept.row) return { id: kept.id, eventTypes }
    if (kept) await hooksRepo.deleteEndpoint(knex, kept.id)
    const { endpoint: made } = await services.webhooks.create(local, { url: `${url}/matrix-${enabled ? 'on' : 'off'}`, eventTypes: [...eventTypes] })
    if (!enabled) await services.webhooks.disable(local, made.id)
    registry.endpoints.set(key, { id: made.id, row: (await rowOf(made.id)) as string })
    return { id: made.id, eventTypes }
  }
  const live = await endpoint(['users.*'], true)
  const levels = subscriptions(held)
  const off = {} as Record<OtherLevel, HookTarget>
  for (const level of OTHER_LEVELS) off[level] = await endpoint(levels[level], false)

  // A delivery made by hand, failed and with no job: no worker ever picks it up on its own.
  const deliveryRow = async (id: number): Promise<string | undefined> => {
    const row = await hooksRepo.selectDelivery(knex, { id })
    return row && JSON.stringify(row)
  }
  let delivery = registry.delivery
  if (!delivery || delivery.endpoint !== live.id || (await deliveryRow(delivery.id)) !== delivery.row) {
    const now = world.clock.now()
    const messageId = newMessageId()
    const body = JSON.stringify({ type: 'users.created', timestamp: new Date(now).toISOString(), environment: 'development', data: { matrix: true } })
    await hooksRepo.insertMessage(knex, { id: messageId, type: 'users.created', body, created_at: now })
    await hooksRepo.insertDeliveries(knex, [
      {
        message_id: messageId,
        endpoint_id: live.id,
        status: 'failed',
        attempts: 1,
        next_attempt_at: null,
        last_status: 500,
        last_error: 'HTTP 500',
        created_at: now,
        updated_at: now,
      },
    ])
    const made = (await hooksRepo.selectDeliveries(knex, { endpointId: live.id }, 1))[0]
    if (!made) throw new Error('the matrix delivery was not stored')
    delivery = { id: Number(made.id), row: (await deliveryRow(Number(made.id))) as string, endpoint: live.id }
    registry.delivery = delivery
  }
  return { url, live, off, delivery: delivery.id }
}

/**
 * Drops the jobs a worker would still run (deliveries queued by the last cell or by this slice's making)
 * and waits for those it is running: a `gantry serve` worker writing while a cell runs would pass for that
 * cell's doing. Without a worker (in process) only the drop happens.
 */
async function settleJobs(knex: Knex): Promise<void> {
  const deadline = performance.now() + 15_000
  const dropQueued = (): Promise<number> => knex(JOBS_TABLE).where('status', 'queued').delete()
  for (;;) {
    await dropQueued()
    const [row] = (await knex(JOBS_TABLE).where('status', 'running').count({ n: '*' })) as Array<{ n: number | string }>
    // A job that failed is queued again for a retry when it ends: dropped once more after the last one ended.
    if (Number(row?.n ?? 0) === 0) return void (await dropQueued())
    if (performance.now() > deadline) throw new Error('the webhook worker did not finish its jobs within 15 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The HTTP header that presents a credential. */
export function authHeader(credential: { kind: 'token' | 'key'; secret: string }): Record<string, string> {
  return credential.kind === 'key' ? { 'X-API-Key': credential.secret } : { Authorization: `Bearer ${credential.secret}` }
}

/** The variables that make the CLI present a credential with --remote. */
export function cliCredential(credential: { kind: 'token' | 'key'; secret: string }): NodeJS.ProcessEnv {
  return credential.kind === 'key'
    ? { GANTRY_API_KEY: credential.secret, GANTRY_TOKEN: undefined }
    : { GANTRY_TOKEN: credential.secret, GANTRY_API_KEY: undefined }
}
