/**
 * The cells of the escalation matrix, per mutating admin route: for one slice (an actor and its targets),
 * each request a route takes against targets of lower, equal and higher privilege, stated twice — as an
 * HTTP request and as the `gantry … --remote` command that sends it — with what the request would hand out
 * and whom it would act on. The oracle (escalation-oracle.ts) judges from those alone. The table is keyed
 * by the operation's name in the operation table (src/admin/operations); a mutating operation declared
 * there and missing here fails the test, as does a cell that hands out or acts on what the declaration
 * does not say. An operation no command calls (flags.evaluate: for services in other languages) has cells
 * without a CLI form; the remote CLI door passes them by.
 */
import { BUILTIN_ROLE_PERMISSIONS, grantsEverything } from '../../src/core/roles/builtin-roles.js'
import { coversAll } from '../../src/core/roles/permissions.js'
import {
  MATRIX_PASSWORD,
  MATRIX_PROVIDER,
  LEVELS,
  OTHER_LEVELS,
  subscriptions,
  type HookTarget,
  type Level,
  type OtherLevel,
  type Person,
  type RoleSpec,
  type Slice,
} from './escalation-world.js'

/**
 * A credential a cell's answer (or its request) puts in the actor's hands. An OAuth client's secret is no
 * bearer credential: the oracle trades it for an access token (the client-credentials grant) to try it.
 */
export type Gained =
  | { readonly token: string }
  | { readonly key: string }
  | { readonly login: { readonly email: string; readonly password: string } }
  | { readonly client: { readonly id: string; readonly secret: string } }

export interface CellSpec {
  /** What the request is done to: `admin`, `role admin`, `key of same` … */
  readonly target: string
  /** Permissions or scopes that result from the request and must lie within the actor's (invariant 1). */
  readonly handsOut?: readonly string[]
  /** Permissions of the principal acted on, which the actor's must cover (invariant 2). */
  readonly actsOn?: readonly string[]
  /** False when a rule other than authorization refuses it anyway (a built-in role changed, scopes beyond the owner's). */
  readonly valid?: boolean
  readonly http: {
    readonly method: 'post' | 'put' | 'patch' | 'delete'
    readonly path: string
    readonly body?: unknown
    readonly query?: Record<string, string>
    readonly csv?: string
  }
  /** The command that sends the request; absent only where no command calls the operation (the remote CLI door skips the cell). */
  readonly cli?: { readonly args: readonly string[]; readonly input?: string; readonly file?: { readonly name: string; readonly content: string } }
  /** The target is the actor's own user (a key's owner). */
  readonly onSelf?: boolean
  /** The credential the actor holds after the request succeeded, if any. */
  readonly gained?: (answer: Record<string, unknown>) => Gained | undefined
  /** Whether a successful answer did the cell's work: an import answers 2xx and lists the rows it refused. */
  readonly did?: (answer: Record<string, unknown>) => boolean
}

/** Builds the cells of one route for a slice; `fresh` makes a name no other cell uses. */
export type CellBuilder = (s: Slice, fresh: (prefix: string) => string) => CellSpec[]

const ADMIN = '/api/v1/admin'
/** A bcrypt hash (cost 4) of IMPORT_PASSWORD: `users import` takes hashes, never passwords. */
export const IMPORT_PASSWORD = 'x'
const IMPORT_HASH = '$2b$04$h2fReGnPeipMj7fodyMyx.TkgoJqVU3MpXFG33j6TDHD8KKo.1B5u'
const NEW_PASSWORD = 'a new matrix passphrase 2'

const enc = encodeURIComponent
const userPath = (p: Person, tail = ''): string => `${ADMIN}/users/${enc(p.email)}${tail}`
/** Roles a user may be given, by privilege: viewer, the actor's own, admin. */
const assignable = (s: Slice): Record<OtherLevel, { name: string; permissions: readonly string[] }> => ({
  viewer: { name: 'viewer', permissions: BUILTIN_ROLE_PERMISSIONS.viewer },
  same: { name: s.roles.own.name, permissions: s.roles.own.permissions },
  admin: { name: 'admin', permissions: BUILTIN_ROLE_PERMISSIONS.admin },
})
/** Permission sets a role may be given or created with, by privilege. */
const grants = (s: Slice): Record<OtherLevel, readonly string[]> => ({ viewer: BUILTIN_ROLE_PERMISSIONS.viewer, same: s.held, admin: ['*'] })
const loginAs =
  (email: string, password = MATRIX_PASSWORD) =>
  (): Gained => ({ login: { email, password } })
const flags = (flag: string, values: readonly string[]): string[] => values.flatMap((v) => [flag, v])
/** The OAuth client (id and secret) a create or rotate answers. */
const clientGained = (answer: Record<string, unknown>): Gained => ({
  client: { id: String((answer.client as { id?: unknown } | undefined)?.id), secret: String(answer.clientSecret) },
})
const CLIENTS = `${ADMIN}/oauth/clients`

/** One cell per target user: the request acts on that user and nothing else. */
function onUsers(
  levels: readonly Level[],
  pick: (s: Slice, level: Level) => Person,
  make: (p: Person) => Pick<CellSpec, 'http' | 'cli'> & Partial<CellSpec>,
): CellBuilder {
  return (s) => levels.map((level) => ({ target: level, onSelf: level === 'self', actsOn: pick(s, level).permissions, ...make(pick(s, level)) }))
}
const active = (s: Slice, level: Level): Person => s.users[level]

/**
 * The permission that reads the events a subscription sends, as stated here (not taken from the service,
 * so a service that asks too little is caught): `*` every event (`*:read`); an area's events its `:read`,
 * except sessions' events, which users:read reads. An endpoint's receiver gets those events: subscribing
 * hands it what they need.
 */
function eventReads(patterns: readonly string[]): string[] {
  const read = (pattern: string): string => {
    if (pattern === '*') return '*:read'
    const area = pattern.split('.', 1)[0] as string
    return area === 'sessions' ? 'users:read' : `${area}:read`
  }
  return [...new Set(patterns.map(read))]
}
/** Event types a new subscription asks for, by privilege, and an app's own area (`orders.*`: orders:read). */
const eventLevels = (s: Slice): Array<[string, readonly string[]]> => [
  ...Object.entries(subscriptions(s.held)).map(([level, patterns]): [string, readonly string[]] => [level, patterns]),
  ['app area', ['orders.*']],
]
const hookPath = (hook: HookTarget | string, tail = ''): string => `${ADMIN}/webhooks/${typeof hook === 'string' ? hook : hook.id}${tail}`
/** Cells that act on the slice's endpoint switched on and hand nothing out: judged on webhooks:write alone. */
const onLiveHook =
  (make: (hook: HookTarget) => Pick<CellSpec, 'http' | 'cli' | 'handsOut'>): CellBuilder =>
  (s) => [{ target: `endpoint (events ${s.hooks.live.eventTypes.join(' ')})`, ...make(s.hooks.live) }]

const flagPath = (key: string, tail = ''): string => `${ADMIN}/flags/${enc(key)}${tail}`
const segmentPath = (name: string): string => `${ADMIN}/flag-segments/${enc(name)}`
/** The conditions the commands' `--when 'role in [admin]'` and `--when 'plan = pro'` send. */
const ROLE_IS_ADMIN = { attribute: 'role', operator: 'in', values: ['admin'] }
const PLAN_IS_PRO = { attribute: 'plan', operator: 'equals', values: ['pro'] }
/** A context as `flags evaluate KEY --user 42` sends it. */
const USER_42 = { userId: '42' }

/** Does changing `role` (granting `grant`) stay valid under the built-in roles' own rules? */
function roleChangeValid(role: RoleSpec, grant: readonly string[]): boolean {
  return !role.builtin || (!role.permissions.some(grantsEverything) && !grant.some(grantsEverything))
}

export const CELLS: Readonly<Record<string, CellBuilder>> = {
  'users.import': (s, fresh) =>
    Object.entries(assignable(s)).map(([level, role]) => {
      const email = `${fresh('imported')}@matrix.test`
      const csv = `email,name,role,password_hash\n${email},Imported,${role.name},${IMPORT_HASH}\n`
      return {
        target: `role ${level}`,
        handsOut: role.permissions,
        http: { method: 'post', path: `${ADMIN}/users/import`, csv },
        cli: { args: ['users', 'import', '{file}'], file: { name: 'import.csv', content: csv } },
        gained: loginAs(email, IMPORT_PASSWORD),
        did: (answer) => answer.imported === 1,
      }
    }),
  'users.create': (s, fresh) =>
    Object.entries(assignable(s)).map(([level, role]) => {
      const email = `${fresh('created')}@matrix.test`
      return {
        target: `role ${level}`,
        handsOut: role.permissions,
        http: { method: 'post', path: `${ADMIN}/users`, body: { email, role: role.name, password: MATRIX_PASSWORD } },
        cli: { args: ['users', 'create', '--email', email, '--role', role.name, '--password-stdin'], input: MATRIX_PASSWORD },
        gained: loginAs(email),
      }
    }),
  'users.update': (s, fresh) =>
    LEVELS.flatMap((level) => {
      const user = s.users[level]
      const rename = fresh('name')
      const onSelf = level === 'self'
      const cells: CellSpec[] = [
        {
          target: level,
          onSelf,
          actsOn: user.permissions,
          http: { method: 'patch', path: userPath(user), body: { name: rename } },
          cli: { args: ['users', 'update', user.email, '--name', rename] },
        },
      ]
      for (const [to, role] of Object.entries(assignable(s))) {
        cells.push({
          target: `${level} → role ${to}`,
          onSelf,
          actsOn: user.permissions,
          handsOut: role.permissions,
          http: { method: 'patch', path: userPath(user), body: { role: role.name } },
          cli: { args: ['users', 'update', user.email, '--role', role.name] },
          gained: level === 'self' ? loginAs(user.email) : undefined,
        })
      }
      return cells
    }),
  'users.delete': (s, fresh) => [
    ...onUsers(LEVELS, active, (p) => ({
      http: { method: 'delete', path: userPath(p) },
      cli: { args: ['users', 'delete', p.email, '--force'] },
    }))(s, fresh),
    // The right to erasure is a delete that also rewrites the audit log: held to the same rule, and it needs
    // users:erase besides the route's users:write. The oracle judges a cell on the route's one permission,
    // handsOut and actsOn (all of which the actor must cover): users:erase joins actsOn so an actor lacking it
    // is expected refused (only-users-write, `*:read` + users:write …) and one holding it (`*`, users:*) allowed.
    ...onUsers(LEVELS, active, (p) => ({
      http: { method: 'delete', path: userPath(p), query: { erase: 'true' } },
      cli: { args: ['users', 'delete', p.email, '--erase', '--force'] },
    }))(s, fresh).map((cell) => ({ ...cell, target: `${cell.target} (erase)`, actsOn: [...(cell.actsOn ?? []), 'users:erase'] })),
  ],
  'users.disable': onUsers(LEVELS, active, (p) => ({
    http: { method: 'post', path: userPath(p, '/disable') },
    cli: { args: ['users', 'disable', p.email] },
  })),
  'users.enable': onUsers(
    OTHER_LEVELS,
    (s, level) => s.disabled[level as OtherLevel],
    (p) => ({
      http: { method: 'post', path: userPath(p, '/enable') },
      cli: { args: ['users', 'enable', p.email] },
    }),
  ),
  'users.unlock': onUsers(
    OTHER_LEVELS,
    (s, level) => s.locked[level as OtherLevel],
    (p) => ({ http: { method: 'post', path: userPath(p, '/unlock') }, cli: { args: ['users', 'unlock', p.email] } }),
  ),
  'users.unlink': onUsers(LEVELS, active, (p) => ({
    http: { method: 'post', path: userPath(p, '/unlink'), body: { provider: MATRIX_PROVIDER } },
    cli: { args: ['users', 'unlink', p.email, '--provider', MATRIX_PROVIDER] },
  })),
  'users.setPassword': onUsers(LEVELS, active, (p) => ({
    http: { method: 'post', path: userPath(p, '/password'), body: { password: NEW_PASSWORD } },
    cli: { args: ['users', 'set-password', p.email, '--password-stdin'], input: NEW_PASSWORD },
    gained: loginAs(p.email, NEW_PASSWORD),
  })),
  'tokens.issue': onUsers(LEVELS, active, (p) => ({
    handsOut: p.permissions,
    http: { method: 'post', path: userPath(p, '/tokens'), body: {} },
    cli: { args: ['tokens', 'issue', '--user', p.email] },
    gained: (answer) => ({ token: String(answer.token) }),
  })),
  'tokens.revoke': onUsers(LEVELS, active, (p) => ({
    http: { method: 'delete', path: userPath(p, '/sessions') },
    cli: { args: ['tokens', 'revoke', '--user', p.email] },
  })),
  'tokens.keys.rotate': () => [{ target: '-', http: { method: 'post', path: `${ADMIN}/signing-keys/rotate` }, cli: { args: ['tokens', 'keys', 'rotate'] } }],
  'roles.create': (s, fresh) =>
    Object.entries(grants(s)).map(([level, permissions]) => {
      const name = fresh('role')
      return {
        target: `permissions ${level}`,
        handsOut: permissions,
        http: { method: 'post', path: `${ADMIN}/roles`, body: { name, permissions } },
        cli: { args: ['roles', 'create', name, ...flags('--permission', permissions)] },
      }
    }),
  'roles.update': (s) =>
    (['own', ...OTHER_LEVELS] as const).flatMap((which) =>
      Object.entries(grants(s)).map(([level, grant]): CellSpec => {
        const role = s.roles[which]
        const result = [...role.permissions, ...grant]
        return {
          target: `role ${which} + grant ${level}`,
          handsOut: result,
          actsOn: role.permissions,
          valid: roleChangeValid(role, grant),
          http: { method: 'patch', path: `${ADMIN}/roles/${enc(role.name)}`, body: { grant } },
          cli: { args: ['roles', 'update', role.name, ...flags('--grant', grant)] },
          gained: which === 'own' ? loginAs(s.users.self.email) : undefined,
        }
      }),
    ),
  'roles.delete': (s) =>
    OTHER_LEVELS.map((level) => {
      const role = s.roles[level]
      return {
        target: `role ${level} (held by no one)`,
        actsOn: role.permissions,
        http: { method: 'delete', path: `${ADMIN}/roles/${enc(role.name)}` },
        cli: { args: ['roles', 'delete', role.name, '--force'] },
      }
    }),
  'apikeys.create': (s, fresh) =>
    LEVELS.flatMap((level) => {
      const owner = s.users[level]
      return [undefined, s.held].map((scopes): CellSpec => {
        const name = fresh('key')
        const result = scopes ?? owner.permissions
        return {
          target: `owner ${level}, scopes ${scopes ? 'the actor’s' : 'the owner’s (default)'}`,
          onSelf: level === 'self',
          handsOut: result,
          actsOn: owner.permissions,
          valid: coversAll(owner.permissions, result),
          http: { method: 'post', path: `${ADMIN}/api-keys`, body: { name, owner: owner.email, ...(scopes ? { scopes } : {}) } },
          cli: { args: ['apikeys', 'create', '--owner', owner.email, '--name', name, ...flags('--scope', scopes ?? [])] },
          gained: (answer) => ({ key: String(answer.key) }),
        }
      })
    }),
  'apikeys.revoke': (s) =>
    LEVELS.map((level) => ({
      target: `key of ${level}`,
      onSelf: level === 'self',
      actsOn: s.keys[level].owner.permissions,
      http: { method: 'post', path: `${ADMIN}/api-keys/${s.keys[level].id}/revoke` },
      cli: { args: ['apikeys', 'revoke', s.keys[level].id] },
    })),
  'apikeys.rotate': (s) =>
    LEVELS.map((level) => ({
      target: `key of ${level}`,
      onSelf: level === 'self',
      actsOn: s.keys[level].owner.permissions,
      handsOut: s.keys[level].scopes,
      http: { method: 'post', path: `${ADMIN}/api-keys/${s.keys[level].id}/rotate`, body: {} },
      cli: { args: ['apikeys', 'rotate', s.keys[level].id] },
      gained: (answer) => ({ key: String(answer.key) }),
    })),
  // The owner is optional (default: the caller): a cell leaves it out, acting on the actor's own user.
  'oauth.clients.create': (s, fresh) =>
    [undefined, ...LEVELS].flatMap((level) => {
      const owner = s.users[level ?? 'self']
      return [undefined, s.held].map((scopes): CellSpec => {
        const name = fresh('client')
        const result = scopes ?? owner.permissions
        const named = level === undefined ? undefined : owner.email
        return {
          target: `owner ${level ?? 'the caller (default)'}, scopes ${scopes ? 'the actor’s' : 'the owner’s (default)'}`,
          onSelf: owner === s.users.self,
          handsOut: result,
          actsOn: owner.permissions,
          valid: coversAll(owner.permissions, result),
          http: { method: 'post', path: CLIENTS, body: { name, ...(named ? { owner: named } : {}), ...(scopes ? { scopes } : {}) } },
          cli: { args: ['oauth', 'clients', 'create', name, ...flags('--owner', named ? [named] : []), ...flags('--scope', scopes ?? [])] },
          gained: clientGained,
        }
      })
    }),
  'oauth.clients.revoke': (s) =>
    LEVELS.map((level) => ({
      target: `client of ${level}`,
      onSelf: level === 'self',
      actsOn: s.clients[level].owner.permissions,
      http: { method: 'post', path: `${CLIENTS}/${s.clients[level].id}/revoke` },
      cli: { args: ['oauth', 'clients', 'revoke', s.clients[level].id] },
    })),
  'oauth.clients.rotate': (s) =>
    LEVELS.map((level) => ({
      target: `client of ${level}`,
      onSelf: level === 'self',
      actsOn: s.clients[level].owner.permissions,
      handsOut: s.clients[level].scopes,
      http: { method: 'post', path: `${CLIENTS}/${s.clients[level].id}/rotate`, body: {} },
      cli: { args: ['oauth', 'clients', 'rotate', s.clients[level].id] },
      gained: clientGained,
    })),
  'webhooks.create': (s) =>
    eventLevels(s).map(([level, eventTypes]) => {
      const url = `${s.hooks.url}/matrix-${s.n}`
      return {
        target: `events ${level} (${eventTypes.join(' ')})`,
        handsOut: eventReads(eventTypes),
        http: { method: 'post', path: `${ADMIN}/webhooks`, body: { url, eventTypes } },
        cli: { args: ['webhooks', 'create', url, ...flags('--events', eventTypes)] },
      }
    }),
  'webhooks.update': (s) => {
    const { live } = s.hooks
    const url = `${s.hooks.url}/matrix-${s.n}-moved`
    return [
      // The endpoint passes to whoever changes it: a new URL sends its events, unchanged, to a new receiver.
      {
        target: `endpoint (events ${live.eventTypes.join(' ')}) → new url`,
        handsOut: eventReads(live.eventTypes),
        http: { method: 'patch', path: hookPath(live), body: { url } },
        cli: { args: ['webhooks', 'update', live.id, '--endpoint-url', url] },
      },
      ...eventLevels(s).map(([level, eventTypes]): CellSpec => ({
        target: `endpoint → events ${level} (${eventTypes.join(' ')})`,
        handsOut: eventReads(eventTypes),
        http: { method: 'patch', path: hookPath(live), body: { eventTypes } },
        cli: { args: ['webhooks', 'update', live.id, ...flags('--events', eventTypes)] },
      })),
    ]
  },
  'webhooks.enable': (s) =>
    OTHER_LEVELS.map((level) => {
      const hook = s.hooks.off[level]
      return {
        target: `endpoint off, events ${level} (${hook.eventTypes.join(' ')})`,
        handsOut: eventReads(hook.eventTypes),
        http: { method: 'post', path: hookPath(hook, '/enable') },
        cli: { args: ['webhooks', 'enable', hook.id] },
      }
    }),
  'webhooks.disable': onLiveHook((hook) => ({ http: { method: 'post', path: hookPath(hook, '/disable') }, cli: { args: ['webhooks', 'disable', hook.id] } })),
  'webhooks.delete': onLiveHook((hook) => ({ http: { method: 'delete', path: hookPath(hook) }, cli: { args: ['webhooks', 'delete', hook.id, '--force'] } })),
  // The new secret signs what the endpoint sends: whoever holds it can forge those events to the receiver.
  'webhooks.rotate-secret': onLiveHook((hook) => ({
    handsOut: eventReads(hook.eventTypes),
    http: { method: 'post', path: hookPath(hook, '/rotate-secret'), body: {} },
    cli: { args: ['webhooks', 'rotate-secret', hook.id] },
  })),
  'webhooks.test': onLiveHook((hook) => ({ http: { method: 'post', path: hookPath(hook, '/test') }, cli: { args: ['webhooks', 'test', hook.id] } })),
  'webhooks.redeliver': (s) => [
    {
      target: `failed delivery of endpoint (events ${s.hooks.live.eventTypes.join(' ')})`,
      http: { method: 'post', path: hookPath(`deliveries/${s.hooks.delivery}`, '/redeliver') },
      cli: { args: ['webhooks', 'redeliver', String(s.hooks.delivery)] },
    },
  ],
  'webhooks.replay': onLiveHook((hook) => ({
    http: { method: 'post', path: hookPath(hook, '/replay'), body: {} },
    cli: { args: ['webhooks', 'replay', hook.id] },
  })),
  'keys.rotate-encryption': () => [
    { target: '-', http: { method: 'post', path: `${ADMIN}/encryption-key/rotate` }, cli: { args: ['keys', 'rotate-encryption'] } },
  ],
  // Ten years back: nothing so old exists, so the cell tries the permission (audit:delete, which no
  // read or write permission covers) without emptying the log every other cell's diff reads.
  'audit.prune': () => [
    {
      target: '-',
      http: { method: 'post', path: `${ADMIN}/audit/prune`, body: { olderThan: '3650d' } },
      cli: { args: ['audit', 'prune', '--older-than', '3650d', '--force'] },
    },
  ],
  'maintenance.on': () => [
    {
      target: '-',
      http: { method: 'put', path: `${ADMIN}/maintenance`, body: { retryAfter: 30 } },
      cli: { args: ['maintenance', 'on', '--retry-after', '30'] },
    },
  ],
  'maintenance.off': () => [{ target: '-', http: { method: 'delete', path: `${ADMIN}/maintenance` }, cli: { args: ['maintenance', 'off'] } }],
  'ratelimits.set': (s, fresh) => {
    const name = fresh('rule')
    const match = `GET /matrix-${s.n}/*`
    return [
      {
        target: '-',
        http: { method: 'put', path: `${ADMIN}/rate-limits/rules/${name}`, body: { match, limit: 100, window: '1m', burst: 10 } },
        cli: { args: ['ratelimit', 'set', name, '--match', match, '--limit', '100', '--window', '1m', '--burst', '10'] },
      },
    ]
  },
  'ratelimits.remove': (s) => [
    { target: '-', http: { method: 'delete', path: `${ADMIN}/rate-limits/rules/${s.rule}` }, cli: { args: ['ratelimit', 'remove', s.rule, '--force'] } },
  ],
  'ratelimits.apply': (s, fresh) => {
    const rules = { rules: [{ name: fresh('applied'), match: `GET /matrix-${s.n}/*`, limit: 100, window: '1m' }] }
    return [
      {
        target: '-',
        http: { method: 'post', path: `${ADMIN}/rate-limits/apply`, body: rules },
        cli: { args: ['ratelimit', 'apply', '{file}', '--yes'], file: { name: 'rules.json', content: JSON.stringify(rules) } },
      },
    ]
  },
  'ratelimits.test': (s) => [
    {
      target: '-',
      http: { method: 'post', path: `${ADMIN}/rate-limits/test`, body: { path: `/matrix-${s.n}/x` } },
      cli: { args: ['ratelimit', 'test', '--path', `/matrix-${s.n}/x`] },
    },
  ],
  'ratelimits.override': (s) => {
    const subject = `ip:203.0.${Math.floor(s.n / 250)}.${(s.n % 250) + 1}`
    return [
      {
        target: '-',
        http: { method: 'put', path: `${ADMIN}/rate-limits/overrides`, body: { subject, block: true, reason: 'matrix' } },
        cli: { args: ['ratelimit', 'override', subject, '--block', '--reason', 'matrix'] },
      },
    ]
  },
  'ratelimits.removeOverride': (s) => [
    {
      target: '-',
      http: { method: 'delete', path: `${ADMIN}/rate-limits/overrides`, query: { subject: s.overrideSubject } },
      cli: { args: ['ratelimit', 'override', s.overrideSubject, '--remove'] },
    },
  ],
  // Flags hand out nothing and act on no principal: each cell is judged on the operation's permission alone
  // (flags:write; flags:read to explain, flags:evaluate to evaluate — both POST, both read-only).
  'flags.create': (_s, fresh) => {
    const key = fresh('flag')
    return [
      {
        target: 'new flag',
        http: { method: 'post', path: `${ADMIN}/flags`, body: { key, type: 'boolean' } },
        cli: { args: ['flags', 'create', key, '--type', 'boolean'] },
      },
    ]
  },
  'flags.update': (s) => [
    {
      target: 'flag of the slice',
      http: { method: 'patch', path: flagPath(s.flag), body: { enabled: true } },
      cli: { args: ['flags', 'set', s.flag, '--on'] },
    },
  ],
  'flags.add-rule': (s) => [
    {
      target: 'flag of the slice',
      http: { method: 'post', path: flagPath(s.flag, '/rules'), body: { rule: { conditions: [ROLE_IS_ADMIN], serve: { variant: 'on' } } } },
      cli: { args: ['flags', 'rule', 'add', s.flag, '--when', 'role in [admin]', '--serve', 'on'] },
    },
  ],
  'flags.remove-rule': (s) => [
    {
      target: 'rule 0 of the slice’s flag',
      http: { method: 'delete', path: flagPath(s.flag, '/rules/0') },
      cli: { args: ['flags', 'rule', 'remove', s.flag, '0'] },
    },
  ],
  'flags.rollout': (s) => [
    {
      target: 'flag of the slice',
      http: {
        method: 'put',
        path: flagPath(s.flag, '/rollout'),
        body: {
          split: [
            { variant: 'on', percent: 25 },
            { variant: 'off', percent: 75 },
          ],
        },
      },
      cli: { args: ['flags', 'rollout', s.flag, '--percent', '25'] },
    },
  ],
  'flags.delete': (s) => [
    { target: 'flag of the slice', http: { method: 'delete', path: flagPath(s.flag) }, cli: { args: ['flags', 'delete', s.flag, '--force'] } },
  ],
  'flags.explain': (s) => [
    {
      target: 'flag of the slice',
      http: { method: 'post', path: flagPath(s.flag, '/explain'), body: { context: USER_42 } },
      cli: { args: ['flags', 'evaluate', s.flag, '--user', '42'] },
    },
  ],
  'flags.apply': (_s, fresh) => {
    const flag = {
      key: fresh('applied-flag'),
      type: 'boolean',
      variants: [
        { name: 'on', value: true },
        { name: 'off', value: false },
      ],
      defaultVariant: 'on',
      offVariant: 'off',
      enabled: true,
    }
    const file = { flags: [flag], segments: [] }
    return [
      {
        target: 'file with a new flag',
        http: { method: 'put', path: `${ADMIN}/flags-file`, body: { file } },
        cli: { args: ['flags', 'apply', '{file}', '--yes'], file: { name: 'flags.json', content: JSON.stringify(file) } },
        // The command previews first (a dry run answers 2xx too): done only when the file was applied.
        did: (answer) => answer.dryRun === false && Array.isArray(answer.changes) && answer.changes.some((c) => (c as { change?: string }).change === 'create'),
      },
    ]
  },
  // A new segment, and the slice's own (`plan = team`) replaced.
  'flags.set-segment': (s, fresh) =>
    (
      [
        ['new segment', fresh('segment')],
        ['segment of the slice', s.segment],
      ] as const
    ).map(([target, name]): CellSpec => ({
      target,
      http: { method: 'put', path: segmentPath(name), body: { conditions: [PLAN_IS_PRO] } },
      cli: { args: ['flags', 'segment', 'set', name, '--when', 'plan = pro'] },
    })),
  'flags.delete-segment': (s) => [
    {
      target: 'segment of the slice (named by no rule)',
      http: { method: 'delete', path: segmentPath(s.segment) },
      cli: { args: ['flags', 'segment', 'delete', s.segment, '--force'] },
    },
  ],
  // No command calls it (`flags evaluate` explains, through flags.explain): HTTP only.
  'flags.evaluate': (s) => [{ target: 'flag of the slice', http: { method: 'post', path: '/api/v1/flags/evaluate', body: { key: s.flag, context: USER_42 } } }],
}
