/**
 * The actors and the world of the escalation matrix (test/reliability/escalation-matrix.test.ts). An actor
 * is a role (built-in, or custom: one per permission that writes, plus a couple of wider ones) and a
 * credential (an access token, an API key with the role's permissions, or a key narrowed to one permission
 * that writes). A slice is what one actor meets: its own user, and targets of lower, equal and higher
 * privilege (users holding viewer, the actor's role, admin — active, disabled, locked out — their keys, and
 * roles granting viewer's permissions, the actor's, everything). Made through the services as the local
 * operator; users are inserted with one precomputed hash, so a slice costs no password hashing.
 */
import type { Knex } from 'knex'
import { intersect } from '../../src/core/apikeys/apikeys.service.js'
import type { Clock } from '../../src/core/clock.js'
import { localContext } from '../../src/core/context.js'
import { BUILTIN_ROLE_PERMISSIONS } from '../../src/core/roles/builtin-roles.js'
import { covers, GANTRY_PERMISSIONS } from '../../src/core/roles/permissions.js'
import type { Services } from '../../src/core/services.js'
import { insertUser, updateUser } from '../../src/core/users/users.repo.js'

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

/** Gantry's permissions that write (`users:write` …), from its own list. */
export const WRITE_PERMISSIONS: readonly string[] = GANTRY_PERMISSIONS.filter((p) => p.endsWith(':write'))

/** Every built-in role, one custom role per permission that writes, and two wider custom roles. */
export function actorRoles(): RoleSpec[] {
  const builtin = Object.entries(BUILTIN_ROLE_PERMISSIONS).map(([name, permissions]) => ({ name, permissions, builtin: true }))
  const single = WRITE_PERMISSIONS.map((p) => ({ name: `only-${p.replace(':', '-')}`, permissions: [p], builtin: false }))
  return [
    ...builtin,
    ...single,
    { name: 'users-all', permissions: ['users:*'], builtin: false },
    { name: 'reader-users-write', permissions: ['*:read', 'users:write'], builtin: false },
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
  /** The actor's own role, and custom roles no one holds granting viewer's permissions, the actor's, everything. */
  readonly roles: Readonly<Record<'own' | OtherLevel, RoleSpec>>
  /** A stored rate-limit rule and an override of this slice, for the routes that remove them. */
  readonly rule: string
  readonly overrideSubject: string
  /** Ids of every user of the slice (their cached session state is dropped after a restore). */
  readonly userIds: readonly number[]
}

export interface World {
  readonly knex: Knex
  readonly services: Services
  readonly clock: Clock
  /** The stored hash of MATRIX_PASSWORD. */
  readonly passwordHash: string
}

/** Makes the slice of `actor`; `n` keeps its names apart from every other slice's. */
export async function createSlice(world: World, actor: ActorSpec, n: number): Promise<Slice> {
  const { services, knex, clock } = world
  const permissionsOf = async (role: string): Promise<string[]> => (await services.roles.permissionsOf(knex, role)) ?? []
  const own: RoleSpec = actor.role.builtin ? actor.role : { ...actor.role, name: `${actor.role.name}-${n}` }
  if (!own.builtin) await services.roles.create(local, { name: own.name, permissions: [...own.permissions] })
  const person = async (prefix: string, role: string, status: 'active' | 'disabled' = 'active', locked = false): Promise<Person> => {
    const email = `${prefix}-${n}@matrix.test`
    const now = clock.now()
    const id = await insertUser(knex, { email, name: prefix, role, status, password_hash: world.passwordHash, created_at: now, updated_at: now })
    if (locked) await updateUser(knex, id, { failed_logins: 5, locked_until: now + 3_600_000 })
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
  for (const level of LEVELS) {
    const owner = users[level]
    const made = await services.apikeys.create(local, { name: `${level}-key-${n}`, owner: owner.email })
    keys[level] = { id: made.apiKey.id, owner, scopes: made.apiKey.scopes }
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
  const secret =
    actor.credential === 'token'
      ? (await services.sessions.issueScriptToken(local, users.self.email)).token
      : (await services.apikeys.create(local, { name: `actor-${n}`, owner: users.self.email, scopes: [...(actor.scopes ?? own.permissions)] })).key
  return {
    n,
    actor,
    held,
    credential: { kind: actor.credential, secret },
    users,
    disabled,
    locked,
    keys,
    roles,
    rule,
    overrideSubject,
    userIds: [...Object.values(users), ...Object.values(disabled), ...Object.values(locked)].map((u) => u.id),
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
