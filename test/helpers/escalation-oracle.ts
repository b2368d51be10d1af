/**
 * The escalation matrix's oracle and judge. The routes are the operation table's mutating operations (the
 * server's OpenAPI document must serve no other mutating admin route), each with its one permission; the oracle decides from the
 * invariant alone — an actor may hand out, or act on, only what it holds (`coversAll`) — and the judge
 * compares with what a door did: an escalation is a cell the oracle refuses where the door answered
 * success or the database changed; "wrongly refused" is a cell the oracle allows that the door refused as
 * FORBIDDEN. After an escalation the credential it put in the actor's hands is tried (`/auth/me`): does it
 * carry permissions the actor did not hold?
 */
import type { AuthorizationProperty } from '../../src/admin/operation.js'
import { operationEntries } from '../../src/admin/operations/index.js'
import { localContext } from '../../src/core/context.js'
import { coversAll, hasPermission } from '../../src/core/roles/permissions.js'
import { CELLS, type CellSpec, type Gained } from './escalation-cells.js'
import type { Slice, World } from './escalation-world.js'
import type { OpenApiDocument } from './openapi-operations.js'
import type { RowChange, SqliteSnapshot } from './sqlite-snapshot.js'

const local = localContext('local:matrix@test')
const MUTATING = new Set(['post', 'put', 'patch', 'delete'])

export interface MatrixRoute {
  /** The operation's name in the operation table (`users.update`), the key of CELLS. */
  readonly key: string
  readonly permission: string | undefined
  readonly authorization: AuthorizationProperty | undefined
}

/**
 * Every mutating operation of the operation table (src/admin/operations). Throws naming the operations CELLS
 * lacks or has in excess, and any mutating route the server documents that is not a declared operation.
 */
export function matrixRoutes(doc: OpenApiDocument): MatrixRoute[] {
  const routes: MatrixRoute[] = operationEntries()
    .filter(([, op]) => MUTATING.has(op.http.method))
    .map(([name, op]) => ({ key: name, permission: op.permission, authorization: op.authorization }))
  const undeclared: string[] = []
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const secured = Array.isArray(op.security) && op.security.length > 0
      if (MUTATING.has(method) && secured && !routes.some((r) => r.key === op['x-gantry-operation'])) undeclared.push(`${method.toUpperCase()} ${template}`)
    }
  }
  const missing = routes.filter((r) => !(r.key in CELLS)).map((r) => r.key)
  const stale = Object.keys(CELLS).filter((k) => !routes.some((r) => r.key === k))
  if (missing.length + stale.length + undeclared.length > 0) {
    throw new Error(
      `The escalation matrix (test/helpers/escalation-cells.ts) must cover every mutating operation: missing ${JSON.stringify(missing)}, no longer declared ${JSON.stringify(stale)}; served but not in the operation table: ${JSON.stringify(undeclared)}`,
    )
  }
  return routes
}

export interface Cell extends CellSpec {
  readonly route: MatrixRoute
  readonly slice: Slice
}

/** Every cell of a slice, route by route; throws when a route's cells and its declared authorization property disagree. */
export function cellsOf(slice: Slice, routes: readonly MatrixRoute[], fresh: (prefix: string) => string): Cell[] {
  return routes.flatMap((route) => {
    // A key narrowed below its owner's rights acting on that owner is judged like any actor on another
    // principal: its scopes must cover the owner's (else a users:write key sets its owner's password and logs in as them).
    const specs = (CELLS[route.key] as (typeof CELLS)[string])(slice, fresh)
    for (const half of ['handsOut', 'actsOn'] as const) {
      const declared = route.authorization?.[half] !== undefined
      if (declared !== specs.some((spec) => spec[half] !== undefined))
        throw new Error(
          `${route.key}: the operation table ${declared ? 'declares' : 'does not declare'} ${half}, its cells ${declared ? 'never try it' : 'do'}`,
        )
    }
    return specs.map((spec) => ({ ...spec, route, slice }))
  })
}

/** The invariant: the route's permission, and everything handed out and acted on, within what the actor holds. */
export function mayDo(held: readonly string[], cell: Pick<Cell, 'route' | 'handsOut' | 'actsOn'>): boolean {
  return (
    (cell.route.permission === undefined || hasPermission(held, cell.route.permission)) &&
    coversAll(held, cell.handsOut ?? []) &&
    coversAll(held, cell.actsOn ?? [])
  )
}

/** What a door made of one cell's request. */
export interface Answer {
  /** 2xx, or exit 0. */
  readonly ok: boolean
  /** Refused as FORBIDDEN (403). */
  readonly forbidden: boolean
  /** A 5xx, or an exit the CLI keeps for the unexpected. */
  readonly broken: boolean
  /** `201`, `403 FORBIDDEN`, `exit 1 FORBIDDEN` … */
  readonly status: string
  readonly body: Record<string, unknown>
}

export interface Door {
  send(cell: Cell): Promise<Answer>
  /** The permissions `/api/v1/auth/me` reports for these headers, over HTTP; undefined when refused. */
  me(headers: Record<string, string>): Promise<string[] | undefined>
}

export type Outcome = 'allowed' | 'refused' | 'escalation' | 'wrongly refused' | 'refused by another rule' | 'server error'

export interface CellResult {
  readonly actor: string
  readonly route: string
  readonly target: string
  readonly outcome: Outcome
  readonly status: string
  /** For escalations: the rows changed, and the permissions beyond the actor's that the gained credential carries. */
  readonly changes?: readonly RowChange[] | undefined
  readonly gainedBeyond?: readonly string[] | undefined
  /** How long the cell took, restore included. */
  readonly ms: number
}

export interface JudgeOptions {
  readonly world: World
  readonly snapshot: SqliteSnapshot
  /** Whether the door's own process wrote through the snapshot's connection (in process): then a write is known without a diff. */
  readonly sameConnection: boolean
  /** Put the database back after the cell (in process), and drop what the server cached of the slice's users. */
  readonly restore?: (() => Promise<void>) | undefined
}

/** Runs one cell through a door and judges it. */
export async function judge(door: Door, cell: Cell, options: JudgeOptions): Promise<CellResult> {
  const started = performance.now()
  const allowed = mayDo(cell.slice.held, cell)
  const sent = await door.send(cell)
  const answer = sent.ok && cell.did && !cell.did(sent.body) ? { ...sent, ok: false } : sent
  const written = !options.sameConnection || (await options.snapshot.written())
  const changes = written && !allowed && !answer.ok ? await options.snapshot.diff() : []
  const done = answer.ok || changes.length > 0
  const base = { actor: cell.slice.actor.label, route: cell.route.key, target: cell.target, status: answer.status }
  let result: Omit<CellResult, 'ms'>
  if (answer.broken) result = { ...base, outcome: 'server error' }
  else if (allowed) result = { ...base, outcome: done ? 'allowed' : answer.forbidden && cell.valid !== false ? 'wrongly refused' : 'refused by another rule' }
  else if (!done) result = { ...base, outcome: 'refused' }
  else {
    const gained = answer.ok && cell.gained ? await gainedPermissions(door, options.world, cell.gained(answer.body)) : undefined
    result = {
      ...base,
      outcome: 'escalation',
      changes: changes.length > 0 ? changes : await options.snapshot.diff(),
      gainedBeyond: gained?.filter((p) => !coversAll(cell.slice.held, [p])),
    }
  }
  if (written && options.restore) await options.restore()
  return { ...result, ms: performance.now() - started }
}

/** The routes that took longest over all their cells, with their total seconds. */
export function slowestRoutes(results: readonly CellResult[], count = 5): Array<{ route: string; seconds: number; cells: number }> {
  const by = new Map<string, { seconds: number; cells: number }>()
  for (const r of results) {
    const t = by.get(r.route) ?? { seconds: 0, cells: 0 }
    by.set(r.route, { seconds: t.seconds + r.ms / 1000, cells: t.cells + 1 })
  }
  return [...by]
    .map(([route, t]) => ({ route, ...t }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
}

/**
 * The permissions a gained credential carries, as the server reports them (a login is checked, then stood
 * for by a token of that user; an OAuth client's secret is traded for a token with all its scopes).
 */
async function gainedPermissions(door: Door, world: World, gained: Gained | undefined): Promise<string[] | undefined> {
  if (!gained) return undefined
  if ('key' in gained) return door.me({ 'X-API-Key': gained.key })
  if ('token' in gained) return door.me({ Authorization: `Bearer ${gained.token}` })
  if ('client' in gained) {
    const credentials = { clientId: gained.client.id, clientSecret: gained.client.secret }
    const granted = await world.services.oauthClients.issueToken(credentials, undefined, local).catch(() => undefined)
    return granted && door.me({ Authorization: `Bearer ${granted.access_token}` })
  }
  try {
    await world.services.users.verifyCredentials(gained.login.email, gained.login.password, local)
    const { token } = await world.services.sessions.issueScriptToken(local, gained.login.email)
    return await door.me({ Authorization: `Bearer ${token}` })
  } catch {
    return undefined
  }
}

/** Escalations grouped by route and target, each with the actors that achieved it. */
export function escalationKinds(
  results: readonly CellResult[],
  outcome: Outcome = 'escalation',
): Array<{ route: string; target: string; actors: string[]; gainedBeyond: string[] }> {
  const kinds = new Map<string, { route: string; target: string; actors: string[]; gainedBeyond: Set<string> }>()
  for (const r of results.filter((x) => x.outcome === outcome)) {
    const key = `${r.route} | ${r.target}`
    const kind = kinds.get(key) ?? { route: r.route, target: r.target, actors: [], gainedBeyond: new Set<string>() }
    kind.actors.push(r.actor)
    for (const p of r.gainedBeyond ?? []) kind.gainedBeyond.add(p)
    kinds.set(key, kind)
  }
  return [...kinds.values()].map((k) => ({ ...k, gainedBeyond: [...k.gainedBeyond] }))
}

/** How many cells ended in each outcome. */
export function tally(results: readonly CellResult[]): Record<Outcome, number> {
  const out: Record<Outcome, number> = { allowed: 0, refused: 0, escalation: 0, 'wrongly refused': 0, 'refused by another rule': 0, 'server error': 0 }
  for (const r of results) out[r.outcome] += 1
  return out
}
