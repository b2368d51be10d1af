/**
 * Reliability, bad inputs (issue 14): the escalation matrix. Actors — every built-in role and custom roles
 * (one per permission that writes, flags:evaluate alone, `users:*`, `*:read` + `users:write`, `users:read` + `webhooks:write`),
 * each through an access token, an API key, and keys narrowed to one permission that writes — × every
 * mutating admin route (read from the server's OpenAPI document: a new route fails the test until
 * escalation-cells.ts covers it) × targets of lower, equal and higher privilege (users holding viewer, the
 * actor's role, admin; their keys; roles granting viewer's permissions, the actor's, everything; webhook
 * subscriptions to events of those privileges; a flag and a segment). The oracle decides each cell from the invariant alone (an
 * actor may hand out, or act on, only what it holds: `coversAll`); an escalation is a cell it refuses where
 * the server answered success or the database changed. Cells it allows must succeed: those refused as
 * FORBIDDEN count as "wrongly refused" (a fix that went too far).
 *
 * Two doors: HTTP in process (createApp over SQLite; the database is put back row by row after each cell
 * that wrote, so every cell starts from the same state), whole under `npm test`; and the built CLI with
 * --remote against a real `gantry serve` (a fresh slice after each cell that changed something), a sample
 * under `npm test` (one cell per route) and, under `npm run test:reliability`, every target of every route
 * whose permission the actor holds, for a token per role and each narrowed key. A cell no command sends
 * (flags.evaluate, for services in other languages: it has no CLI form) is tried over HTTP only.
 */
import { once } from 'node:events'
import { appendFileSync, writeFileSync } from 'node:fs'
import { Agent, createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { expect } from 'chai'
import request from 'supertest'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import { systemClock } from '../../src/core/clock.js'
import { MAINTENANCE_CACHE_MS } from '../../src/core/maintenance/maintenance.service.js'
import { hasPermission } from '../../src/core/roles/permissions.js'
import { argon2Hasher } from '../../src/core/users/passwords.js'
import { openRuntime, type Runtime } from '../../src/runtime.js'
import { parseJson, runGantry, tempDir } from '../helpers/cli.js'
import {
  cellsOf,
  escalationKinds,
  judge,
  matrixRoutes,
  slowestRoutes,
  tally,
  type Answer,
  type Cell,
  type CellResult,
  type Door,
  type MatrixRoute,
} from '../helpers/escalation-oracle.js'
import {
  actors,
  authHeader,
  effectivePermissions,
  cliCredential,
  createSlice,
  MATRIX_ENCRYPTION_KEY,
  MATRIX_PASSWORD,
  type ActorSpec,
  type Slice,
  type World,
} from '../helpers/escalation-world.js'
import type { OpenApiDocument } from '../helpers/openapi-operations.js'
import { atScale, FULL_SCALE, record } from '../helpers/scorecard.js'
import {
  createServeWorkspace,
  http,
  killLeftovers,
  listeningUrl,
  startServe,
  stopServe,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'
import { createTestServer, type TestServer } from '../helpers/server.js'
import { sqliteSnapshot } from '../helpers/sqlite-snapshot.js'

const SNAPSHOT_OPTIONS = { keep: ['gantry_signing_keys'], uncompared: ['gantry_rate_limit_stats'], volatileColumns: ['last_used_at'] }

/** Prints the summary and returns the escalation kinds, for the record's detail. */
function report(door: string, results: readonly CellResult[], seconds: number): ReturnType<typeof escalationKinds> {
  const counts = tally(results)
  const kinds = escalationKinds(results)
  console.log(`      ${door}: ${results.length} cells in ${seconds.toFixed(1)} s: ${JSON.stringify(counts)}`)
  console.log(
    `        slowest routes: ${slowestRoutes(results)
      .map((r) => `${r.route} ${r.seconds.toFixed(1)} s / ${r.cells}`)
      .join('; ')}`,
  )
  for (const k of kinds)
    console.log(
      `        ESCALATION ${k.route} | ${k.target} | by ${k.actors.join(', ')}${k.gainedBeyond.length ? ` | gained ${k.gainedBeyond.join(' ')}` : ''}`,
    )
  for (const k of escalationKinds(results, 'wrongly refused')) console.log(`        WRONGLY REFUSED ${k.route} | ${k.target} | by ${k.actors.join(', ')}`)
  for (const k of escalationKinds(results, 'server error')) console.log(`        SERVER ERROR ${k.route} | ${k.target} | by ${k.actors.join(', ')}`)
  return kinds
}

const failures = (results: readonly CellResult[], outcome: CellResult['outcome']): string[] =>
  results.filter((r) => r.outcome === outcome).map((r) => `${r.actor} ${r.route} ${r.target}: ${r.status}`)

describe('reliability: escalation matrix (actors × mutating admin routes × targets)', function () {
  this.timeout(atScale(3_600_000, 300_000))

  describe('the HTTP door, in process', () => {
    let server: TestServer
    let listener: Server
    let world: World
    let routes: MatrixRoute[]
    const slices: Slice[] = []

    before(async () => {
      server = await createTestServer('sqlite', { environment: { auth: { algorithm: 'EdDSA' } } })
      listener = server.app.listen(0, '127.0.0.1')
      world = {
        knex: (await server.runtime.database()).knex,
        services: server.services,
        clock: server.clock,
        passwordHash: await argon2Hasher().hash(MATRIX_PASSWORD),
      }
      // Thousands of small commits and restores: durability against power loss is not what this test is about.
      await world.knex.raw('PRAGMA synchronous = OFF')
      routes = matrixRoutes((await request(listener).get('/api/openapi.json')).body as OpenApiDocument)
      for (const [i, actor] of actors().entries()) slices.push(await createSlice(world, actor, i + 1))
      // A key's first use writes its last_used_at: done here, so the snapshot holds it.
      for (const s of slices) expect((await request(listener).get('/api/v1/auth/me').set(authHeader(s.credential))).status, s.actor.label).to.equal(200)
    })
    after(async () => {
      listener?.close()
      await server?.cleanup()
    })

    it('lets no actor hand out or act on more than it holds (escalations possible: target 0), and refuses nothing the invariant allows', async () => {
      const snapshot = await sqliteSnapshot(world.knex, SNAPSHOT_OPTIONS)
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      const door = inProcessDoor(`http://127.0.0.1:${(listener.address() as AddressInfo).port}`, agent)
      let fresh = 0
      const results: CellResult[] = []
      const started = performance.now()
      for (const slice of slices) {
        const restore = async (): Promise<void> => {
          await snapshot.restore()
          for (const id of slice.userIds) server.services.sessions.forget({ userId: id })
          server.services.sessions.forget({ roles: true })
          await server.rateLimits.refresh()
          // The maintenance state is cached for a second of the (manual) clock: read again past it, then the clock
          // set back, so a cell that turned maintenance on leaves no 503 behind on the routes it closes (flags.evaluate).
          const now = server.clock.now()
          server.clock.set(now + MAINTENANCE_CACHE_MS)
          await server.services.maintenance.current()
          server.clock.set(now)
        }
        for (const cell of cellsOf(slice, routes, (p) => `${p}-m${++fresh}`))
          results.push(await judge(door, cell, { world, snapshot, sameConnection: true, restore }))
      }
      agent.destroy()
      score({
        door: 'HTTP in process',
        id: 'escalation-matrix-http',
        what: 'escalations possible over HTTP: requests the invariant refuses (hand out or act on more than the actor holds) that succeeded or changed the database',
        tried: `${slices.length} actors (${new Set(slices.map((s) => s.actor.role.name)).size} roles × token, key, narrowed keys) × ${routes.length} mutating admin routes × lower/equal/higher targets: ${results.length.toLocaleString('en-US')} cells in process`,
        results,
        seconds: (performance.now() - started) / 1000,
      })
    })
  })

  describe('the remote CLI door (gantry … --remote against gantry serve)', () => {
    let ws: ServeWorkspace
    let serve: ServeProcess
    let receiver: Server
    let url: string
    let runtime: Runtime
    let world: World
    let routes: MatrixRoute[]
    const files = tempDir('gantry-matrix-')
    const xdg = tempDir('gantry-matrix-xdg-')

    before(async () => {
      ws = await createServeWorkspace({ auth: { algorithm: 'EdDSA' } })
      // Webhook secrets are sealed under the environment's data key; development lets endpoints reach this machine.
      appendFileSync(join(ws.root, '.env.development'), `\nGANTRY_ENCRYPTION_KEY=${MATRIX_ENCRYPTION_KEY}\n`)
      // Where the endpoints point: every delivery and `webhooks test` answered at once, so nothing is retried.
      receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end())).listen(0, '127.0.0.1')
      await once(receiver, 'listening')
      serve = startServe(ws)
      url = await listeningUrl(serve)
      const workspace = loadWorkspace({ cwd: ws.root })
      runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'development', {}) })
      world = {
        knex: (await runtime.database()).knex,
        services: await runtime.services(),
        clock: systemClock,
        passwordHash: await argon2Hasher().hash(MATRIX_PASSWORD),
        webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      }
      routes = matrixRoutes(JSON.parse((await http(`${url}/api/openapi.json`)).body) as OpenApiDocument)
    })
    after(async () => {
      await runtime?.close()
      if (serve) await stopServe(serve).catch(() => killLeftovers())
      receiver?.close()
      ws?.cleanup()
    })

    it(`lets no actor escalate through the CLI either (${FULL_SCALE ? 'every route × target it may call, a token per role and each narrowed key' : 'a sample: one cell per route'})`, async () => {
      const door = remoteDoor(() => ({ root: ws.root, url, files, xdg }))
      const plan = remotePlan(routes)
      let fresh = 0
      let n = 10_000
      const results: CellResult[] = []
      const started = performance.now()
      for (const { actor, pick } of plan) {
        let slice = await createSlice(world, actor, ++n)
        for (const index of pick(cellsOf(slice, routes, (p) => `${p}-r${++fresh}`))) {
          // A fresh slice for each cell after one that changed something: every cell starts from the state it was written for.
          const cell = { ...(cellsOf(slice, routes, (p) => `${p}-r${++fresh}`)[index] as Cell) }
          const snapshot = await sqliteSnapshot(world.knex, SNAPSHOT_OPTIONS)
          const result = await judge(door, cell, { world, snapshot, sameConnection: false })
          results.push(result)
          if (result.outcome !== 'refused') slice = await createSlice(world, actor, ++n)
        }
      }
      score({
        door: 'remote CLI',
        id: 'escalation-matrix-remote',
        what: 'escalations possible through `gantry … --remote`: commands the invariant refuses that succeeded or changed the database',
        tried: `${plan.length} actors × the ${routes.length} mutating admin routes whose permission they hold${FULL_SCALE ? ' × every target' : ' (a sample: one cell per route)'}: ${results.length.toLocaleString('en-US')} CLI runs against gantry serve`,
        results,
        seconds: (performance.now() - started) / 1000,
      })
    })
  })
})

/** Prints a door's summary, records its figure (escalations, target 0) and asserts it, with no 5xx and nothing wrongly refused. */
function score(door: { door: string; id: string; what: string; tried: string; results: readonly CellResult[]; seconds: number }): void {
  const { results, seconds } = door
  const kinds = report(door.door, results, seconds)
  const counts = tally(results)
  const met = record({
    id: door.id,
    area: 'bad inputs tried',
    what: door.what,
    tried: door.tried,
    value: counts.escalation,
    unit: 'escalations',
    target: { comparison: '=', value: 0 },
    detail: { counts, seconds: Math.round(seconds), kinds: kinds.map((k) => ({ ...k, actors: k.actors.length })) },
  })
  expect(counts['server error'], failures(results, 'server error').join('\n')).to.equal(0)
  expect(counts['wrongly refused'], failures(results, 'wrongly refused').join('\n')).to.equal(0)
  expect(met, `${counts.escalation} escalations:\n${failures(results, 'escalation').slice(0, 40).join('\n')}`).to.equal(true)
}

/** Requests to the app listening in this process, on kept-alive connections. */
function inProcessDoor(base: string, agent: Agent): Door {
  return {
    async send(cell) {
      const { method, path, body, query, csv } = cell.http
      const search = query ? `?${new URLSearchParams(query).toString()}` : ''
      const type: Record<string, string> = csv !== undefined ? { 'content-type': 'text/csv' } : body !== undefined ? { 'content-type': 'application/json' } : {}
      const res = await http(`${base}${path}${search}`, {
        method: method.toUpperCase(),
        agent,
        headers: { ...authHeader(cell.slice.credential), ...type },
        body: csv ?? (body === undefined ? undefined : JSON.stringify(body)),
      })
      const json = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {}
      const code = typeof json.code === 'string' ? json.code : undefined
      return { ok: res.status < 300, forbidden: res.status === 403, broken: res.status >= 500, status: `${res.status}${code ? ` ${code}` : ''}`, body: json }
    },
    me: (headers) => me(base, headers, agent),
  }
}

/** The permissions /api/v1/auth/me reports for these credentials; undefined when refused. */
async function me(base: string, headers: Record<string, string>, agent?: Agent): Promise<string[] | undefined> {
  const res = await http(`${base}/api/v1/auth/me`, { headers, agent })
  return res.status === 200 ? (JSON.parse(res.body) as { permissions: string[] }).permissions : undefined
}

/** Runs each cell's command with --remote --json, presenting the actor's credential. */
function remoteDoor(where: () => { root: string; url: string; files: string; xdg: string }): Door {
  return {
    async send(cell): Promise<Answer> {
      const { root, url, files, xdg } = where()
      const { cli } = cell
      if (!cli) throw new Error(`${cell.route.key} | ${cell.target}: no command sends it (the plan leaves out cells without a CLI form)`)
      const file = cli.file && join(files, cli.file.name)
      if (cli.file && file) writeFileSync(file, cli.file.content)
      const args = cli.args.map((a) => (a === '{file}' ? String(file) : a))
      const env = { XDG_CONFIG_HOME: xdg, GANTRY_URL: url, ...cliCredential(cell.slice.credential) }
      const run = await runGantry([...args, '--remote', '--json'], { cwd: root, env, input: cli.input })
      const json = parseJson<Record<string, unknown>>(run)
      const code = (json.error as { code?: string } | undefined)?.code
      return {
        ok: run.code === 0,
        forbidden: code === 'FORBIDDEN',
        broken: run.code > 3 || code === 'INTERNAL',
        status: `exit ${run.code}${code ? ` ${code}` : ''}`,
        body: json,
      }
    },
    me: (headers) => me(where().url, headers),
  }
}

/**
 * Which cells the remote door runs; the CLI only adds something where the route lets the actor in, so only
 * cells of routes whose permission the actor holds. Full: all of them, for a token of each role and each
 * narrowed key. Sample: one per route — its most privileged target, by an actor holding the route's
 * permission (the actors taking turns), admin's own token left out. Either way only cells with a CLI form.
 */
function remotePlan(routes: readonly MatrixRoute[]): Array<{ actor: ActorSpec; pick: (cells: readonly Cell[]) => number[] }> {
  const all = actors()
  const holds = (actor: ActorSpec, route: MatrixRoute): boolean =>
    route.permission === undefined || hasPermission(effectivePermissions(actor), route.permission)
  if (FULL_SCALE) {
    return all
      .filter((a) => a.credential === 'token' || a.scopes)
      .map((actor) => ({
        actor,
        pick: (cells) => [...cells.keys()].filter((i) => holds(actor, (cells[i] as Cell).route) && (cells[i] as Cell).cli !== undefined),
      }))
  }
  const chosen = new Map<ActorSpec, Set<string>>()
  routes.forEach((route, j) => {
    const candidates = all.filter((a) => a.label !== 'admin/token' && holds(a, route))
    const actor = candidates[j % candidates.length] ?? (all[0] as ActorSpec)
    chosen.set(actor, (chosen.get(actor) ?? new Set()).add(route.key))
  })
  return [...chosen].map(([actor, keys]) => ({
    actor,
    pick: (cells) => [...keys].map((key) => cells.findLastIndex((c) => c.route.key === key && c.cli !== undefined)).filter((i) => i !== -1),
  }))
}
