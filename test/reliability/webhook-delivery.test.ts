/**
 * Reliability, 'nothing lost': outbound webhooks delivered while the `gantry serve` processes that deliver
 * them are SIGKILLed in turn. Per dialect (a private PostgreSQL, a private MariaDB): a fresh database, a serve
 * workspace on it whose job lease is short (jobs.leaseTimeout 3s, webhooks.attemptTimeout 1500ms: a dead
 * worker's jobs are taken over within seconds), and one endpoint for `orders.*` on a receiver on 127.0.0.1
 * that records every request's webhook-id and answers 204 at once (a sample of the requests is verified
 * with the standardwebhooks library and the endpoint's secret). The events are emitted through the
 * workspace's own runtime, in transactions, before any worker runs; then three `gantry serve` processes
 * deliver them. Each time another share of the events has arrived, the worker that has run longest is
 * SIGKILLed (never the last one running) and a replacement started, until every event has arrived and no
 * job is left queued or running.
 *
 * Figures: lost = events emitted − distinct webhook-ids received (target 0, the row's value). Duplicates =
 * requests received − distinct ids. At-least-once delivery repeats only what a killed worker held when it
 * died (jobs claimed under its lease, their POST perhaps sent, their end never recorded): at most
 * kills × jobs.concurrency, and each repeated id must be one that the job table showed leased to a killed
 * worker right after its kill. Afterwards every delivery and every job must have ended `succeeded`.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { pino } from 'pino'
import { Webhook } from 'standardwebhooks'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import type { EndpointWithSecret } from '../../src/core/webhooks/webhooks.schema.js'
import { openRuntime, type Runtime } from '../../src/runtime.js'
import { parseJson } from '../helpers/cli.js'
import { dialectDatabases } from '../helpers/dialect-databases.js'
import type { PrivateDialect } from '../helpers/private-databases.js'
import { atScale, record } from '../helpers/scorecard.js'
import { stopAll } from '../helpers/serve-fleet.js'
import {
  createServeWorkspace,
  killLeftovers,
  listeningUrl,
  startServe,
  type LogLine,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'
import { pendingUnlessCi } from '../helpers/services.js'

/** Events emitted per dialect. */
const EVENTS = atScale(5000, 300)
/** SIGKILLs per dialect, spread over the delivery. */
const KILLS = atScale(6, 2)
/** Serve processes running at once. */
const SERVES = 3
const LEASE_TIMEOUT = '3s'
/** At most half the lease (the config refuses more): a live worker never overruns its own lease on an attempt. */
const ATTEMPT_TIMEOUT = '1500ms'
/** Events per emitting transaction, and transactions at once. */
const EMIT_BATCH = 100
const EMIT_PARALLEL = 4
/** From the first serve's start to every event arrived and every job finished, at most. */
const DELIVERY_DEADLINE_MS = atScale(300_000, 60_000)
/** Requests whose signature is verified: about this many, spread over the run. */
const SAMPLES = 100
const EVENT_TYPE = 'orders.created'

const NAMES: Record<PrivateDialect, string> = { postgres: 'PostgreSQL', mysql: 'MariaDB' }

interface Receiver {
  readonly url: string
  /** Requests per webhook-id. */
  readonly counts: Map<string, number>
  /** The `data.n` of every event received. */
  readonly numbers: Set<number>
  /** Requests that were not a readable delivery of ours (no webhook-id, a body that is not our event, a bad signature). */
  readonly problems: string[]
  total(): number
  distinct(): number
  verified(): number
  /** From the first request to the last that brought a new id. */
  spanMs(): number
  close(): Promise<void>
}

/** A receiver on 127.0.0.1 that answers 204 to everything and verifies every `sampleEvery`-th request with `secret`. */
async function startReceiver(sampleEvery: number): Promise<Receiver & { setSecret(secret: string): void }> {
  const counts = new Map<string, number>()
  const numbers = new Set<number>()
  const problems: string[] = []
  let total = 0
  let verified = 0
  let firstAt = 0
  let lastNew = 0
  let secret: string | undefined
  const problem = (text: string): void => void (problems.length < 20 && problems.push(text))
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const id = req.headers['webhook-id']
      total++
      if (typeof id === 'string' && !counts.has(id)) lastNew = performance.now()
      if (counts.size === 0) firstAt = performance.now()
      if (typeof id !== 'string') problem(`a request without webhook-id: ${body.slice(0, 200)}`)
      else counts.set(id, (counts.get(id) ?? 0) + 1)
      try {
        const event = JSON.parse(body) as { type?: unknown; data?: { n?: unknown } }
        if (event.type !== EVENT_TYPE || typeof event.data?.n !== 'number') problem(`not an ${EVENT_TYPE} event: ${body.slice(0, 200)}`)
        else numbers.add(event.data.n)
      } catch {
        problem(`a body that is not JSON: ${body.slice(0, 200)}`)
      }
      if (total % sampleEvery === 0) verify(req.headers, body)
      res.writeHead(204).end()
    })
  })
  const verify = (headers: IncomingHttpHeaders, body: string): void => {
    try {
      new Webhook(secret ?? '').verify(body, headers as Record<string, string>)
      verified++
    } catch (err) {
      problem(`signature not verified (${(err as Error).message}): ${String(headers['webhook-id'])}`)
    }
  }
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/orders`,
    counts,
    numbers,
    problems,
    total: () => total,
    distinct: () => counts.size,
    verified: () => verified,
    spanMs: () => Math.round(lastNew - firstAt),
    setSecret: (s) => (secret = s),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The workspace's development environment, opened in this process (the door `gantry …` commands use). */
async function openWorkspaceRuntime(ws: ServeWorkspace): Promise<Runtime> {
  const workspace = loadWorkspace({ cwd: ws.root })
  return openRuntime({ workspace, environment: resolveEnvironment(workspace, 'development', { ...ws.env }), logger: pino({ level: 'silent' }) })
}

/** Emits events 0 … count−1 of EVENT_TYPE, EMIT_BATCH a transaction, EMIT_PARALLEL transactions at once. */
async function emitEvents(runtime: Runtime, count: number): Promise<void> {
  const services = await runtime.services()
  const { knex } = await runtime.database()
  let next = 0
  const emitter = async (): Promise<void> => {
    while (next < count) {
      const from = next
      next = Math.min(count, next + EMIT_BATCH)
      const to = next
      await knex.transaction(async (trx) => {
        for (let n = from; n < to; n++) await services.events.emit(EVENT_TYPE, { n }, { trx })
      })
    }
  }
  await Promise.all(Array.from({ length: EMIT_PARALLEL }, emitter))
}

interface Member {
  readonly serve: ServeProcess
  readonly startedAt: number
  listening: boolean
}

interface Kill {
  readonly pid: number
  /** Distinct ids received when the kill was sent. */
  readonly atReceived: number
  /** The worker's age when it was killed. */
  readonly ageMs: number
  /** Jobs still leased to it (running) right after it died: the ones another worker must take over. */
  readonly held: number
}

interface Run {
  readonly kills: Kill[]
  /** Message ids of the jobs a killed worker held when it died, and how many killed workers held each. */
  readonly held: Map<string, number>
  readonly deliveryMs: number
  readonly finished: boolean
  /** How each serve process ended: the killed ones by SIGKILL, the rest by SIGTERM at the end. */
  readonly exits: string[]
  /** Lines the serve processes logged at level error or above (a job that threw, a crash). */
  readonly errors: string[]
  /** Lines they logged at level warn, counted by message. */
  readonly warnings: Record<string, number>
  readonly starts: number
}

/** Jobs not finished: queued or running. */
async function openJobs(knex: Knex): Promise<number> {
  const [row] = (await knex('gantry_jobs').whereIn('status', ['queued', 'running']).count({ n: '*' })) as Array<{ n: number | string }>
  return Number(row?.n ?? 0)
}

/**
 * Three serve processes deliver; KILLS times, once distinct deliveries pass the next share of the events,
 * the oldest one that runs (has logged 'listening') is SIGKILLed, provided another one runs on, and a
 * replacement is started at once. Ends when every event has arrived and no job is open, or at the deadline;
 * the serves still running are then stopped with SIGTERM (once each has started).
 */
async function deliverWithKills(ws: ServeWorkspace, knex: Knex, receiver: Receiver, events: number): Promise<Run> {
  const members: Member[] = []
  const everyServe: ServeProcess[] = []
  const start = (): void => {
    const serve = startServe(ws)
    everyServe.push(serve)
    const member: Member = { serve, startedAt: performance.now(), listening: false }
    members.push(member)
    listeningUrl(serve).then(
      () => (member.listening = true),
      () => undefined, // killed or dead before it listened: its exit says which
    )
  }
  const kills: Kill[] = []
  const heldTimes = new Map<string, number>()
  const started = performance.now()
  let finished = false
  let deliveryMs: number
  try {
    for (let i = 0; i < SERVES; i++) start()
    let lastOpenCheck = 0
    while (performance.now() - started < DELIVERY_DEADLINE_MS) {
      const alive = members.filter((m) => m.serve.child.exitCode === null && m.serve.child.signalCode === null)
      const threshold = Math.round(((kills.length + 1) * events) / (KILLS + 1))
      const working = alive.filter((m) => m.listening)
      // The oldest worker that runs, as long as another one runs on: delivery never stops altogether.
      if (kills.length < KILLS && receiver.distinct() >= threshold && working.length >= 2) {
        const victim = working.reduce((a, b) => (a.startedAt <= b.startedAt ? a : b))
        const pid = victim.serve.child.pid ?? -1
        const atReceived = receiver.distinct()
        victim.serve.child.kill('SIGKILL')
        await victim.serve.exited
        // Its lease has not run out yet (LEASE_TIMEOUT): every job it held still names it.
        const held = (await knex('gantry_jobs').where('status', 'running').andWhere('lease_owner', 'like', `%:${pid}:%`).select('payload')) as Array<{
          payload: string
        }>
        for (const row of held) {
          const { messageId } = JSON.parse(row.payload) as { messageId: string }
          heldTimes.set(messageId, (heldTimes.get(messageId) ?? 0) + 1)
        }
        kills.push({ pid, atReceived, ageMs: Math.round(performance.now() - victim.startedAt), held: held.length })
        members.splice(members.indexOf(victim), 1)
        start()
        continue
      }
      if (receiver.distinct() >= events && kills.length >= KILLS && performance.now() - lastOpenCheck >= 200) {
        lastOpenCheck = performance.now()
        if ((await openJobs(knex)) === 0) {
          finished = true
          break
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    deliveryMs = Math.round(performance.now() - started)
  } finally {
    // A replacement still starting has no SIGTERM handler yet and would die of the signal: each is let listen
    // first (bounded), so that an exit other than 0 says the process failed, not that the test was quick.
    const starting = members.filter((m) => !m.listening && m.serve.child.exitCode === null && m.serve.child.signalCode === null)
    await Promise.all(starting.map((m) => m.serve.waitForLog((l) => l.msg === 'listening', { timeoutMs: 60_000 }).catch(() => undefined)))
    await stopAll(members.map((m) => m.serve))
  }
  return { kills, held: heldTimes, deliveryMs, finished, starts: everyServe.length, ...describeServes(everyServe) }
}

/** How the serve processes ended, what they logged at error level, and their warnings by message. */
function describeServes(serves: readonly ServeProcess[]): { exits: string[]; errors: string[]; warnings: Record<string, number> } {
  const exits = serves.map((s) => String(s.child.signalCode ?? s.child.exitCode))
  const level = (l: LogLine): number => (typeof l.level === 'number' ? l.level : 0)
  const errors = serves.flatMap((s) => s.logs.filter((l) => level(l) >= 50).map((l) => `pid ${s.child.pid}: ${JSON.stringify(l).slice(0, 500)}`))
  const warnings: Record<string, number> = {}
  for (const line of serves.flatMap((s) => s.logs.filter((l) => level(l) === 40))) warnings[String(line.msg)] = (warnings[String(line.msg)] ?? 0) + 1
  return { exits, errors, warnings }
}

describe('reliability: webhook events delivered while serve processes are SIGKILLed in turn', function () {
  const dbs = dialectDatabases()
  afterEach(() => killLeftovers())
  after(() => dbs.stop())

  for (const dialect of ['postgres', 'mysql'] as const) {
    it(`webhooks-sigkill-${dialect}: ${EVENTS} events, ${SERVES} serve workers on one private ${NAMES[dialect]}, ${KILLS} SIGKILLs; none lost, duplicates only of jobs a killed worker held`, async function () {
      this.timeout(atScale(600_000, 120_000))
      const setupStarted = performance.now()
      try {
        await dbs.server(dialect)
      } catch (err) {
        if (/is not installed/.test((err as Error).message)) pendingUnlessCi(this, (err as Error).message)
        throw err
      }
      const db = await dbs.create(dialect)
      const receiver = await startReceiver(Math.max(1, Math.floor(EVENTS / SAMPLES)))
      let ws: ServeWorkspace | undefined
      let runtime: Runtime | undefined
      try {
        ws = await createServeWorkspace({
          databaseUrl: db.url,
          environment: { jobs: { leaseTimeout: LEASE_TIMEOUT }, webhooks: { attemptTimeout: ATTEMPT_TIMEOUT }, log: { level: 'info' } },
        })
        const created = await ws.gantry(['webhooks', 'create', receiver.url, '--events', 'orders.*', '--json'])
        expect(created.code, created.stderr).to.equal(0)
        const endpoint = parseJson<EndpointWithSecret>(created)
        receiver.setSecret(endpoint.secret)

        runtime = await openWorkspaceRuntime(ws)
        const { knex } = await runtime.database()
        const { concurrency } = runtime.environment.jobs
        expect(runtime.environment.jobs.leaseTimeout).to.equal(LEASE_TIMEOUT)
        expect(runtime.environment.webhooks).to.include({ attemptTimeout: ATTEMPT_TIMEOUT, allowPrivateTargets: true })
        const emitStarted = performance.now()
        await emitEvents(runtime, EVENTS)
        const emitMs = Math.round(performance.now() - emitStarted)
        const setupMs = Math.round(performance.now() - setupStarted)

        const run = await deliverWithKills(ws, knex, receiver, EVENTS)

        const messageIds = new Set(((await knex('gantry_webhook_messages').select('id')) as Array<{ id: string }>).map((r) => r.id))
        const byStatus = async (table: string): Promise<Record<string, number>> => {
          const rows = (await knex(table).select('status').count({ n: '*' }).groupBy('status')) as Array<{ status: string; n: number | string }>
          return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
        }
        const deliveries = await byStatus('gantry_webhook_deliveries')
        const jobs = await byStatus('gantry_jobs')
        const [takeoverRow] = (await knex('gantry_jobs').where('attempts', '>', 1).count({ n: '*' })) as Array<{ n: number | string }>
        const [attemptRow] = (await knex('gantry_webhook_attempts').count({ n: '*' })) as Array<{ n: number | string }>

        const distinct = receiver.distinct()
        const total = receiver.total()
        const lost = EVENTS - distinct
        const duplicates = total - distinct
        const bound = run.kills.length * concurrency
        const heldByKilled = run.kills.reduce((n, k) => n + k.held, 0)
        // Each repeat of an id is explained by a killed worker that held its job: no more repeats than such kills.
        const repeatedNotHeld = [...receiver.counts]
          .filter(([id, n]) => n - 1 > (run.held.get(id) ?? 0))
          .map(([id, n]) => `${id} received ${n} times, held by ${run.held.get(id) ?? 0} killed worker(s)`)
        const unknownIds = [...receiver.counts.keys()].filter((id) => !messageIds.has(id))
        const missingNumbers = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !receiver.numbers.has(n))
        const kills = run.kills.length
        record({
          id: `webhooks-sigkill-${dialect}`,
          area: 'nothing lost',
          what: 'webhook events lost while serve processes are SIGKILLed in turn',
          tried: `${EVENTS.toLocaleString('en-US')} events, ${SERVES} gantry serve workers on one ${NAMES[dialect]}, ${kills} SIGKILLs (lease ${LEASE_TIMEOUT})`,
          value: lost,
          unit: 'events',
          target: { comparison: '=', value: 0 },
          detail: {
            events: EVENTS,
            received: total,
            distinct,
            duplicates,
            duplicateBound: bound,
            concurrency,
            heldByKilledWorkers: heldByKilled,
            killsHoldingJobs: run.kills.filter((k) => k.held > 0).length,
            duplicatesNotHeldByAKilledWorker: repeatedNotHeld.length,
            kills: run.kills,
            serveStarts: run.starts,
            takeovers: Number(takeoverRow?.n ?? 0),
            attemptsRecorded: Number(attemptRow?.n ?? 0),
            deliveries,
            jobs,
            signaturesVerified: receiver.verified(),
            receiverProblems: receiver.problems,
            finished: run.finished,
            emitMs,
            setupMs,
            deliveryMs: run.deliveryMs,
            serveExits: run.exits,
            serveErrors: run.errors.slice(0, 10),
            serveWarnings: run.warnings,
          },
        })
        console.log(
          `      ${NAMES[dialect]}: ${EVENTS} events emitted in ${emitMs} ms, delivered in ${run.deliveryMs} ms through ${run.starts} serve processes; ` +
            `${kills} kills (held ${run.kills.map((k) => k.held).join('/')} jobs); received ${total}, distinct ${distinct}, lost ${lost}, ` +
            `duplicates ${duplicates} (bound ${bound}), takeovers ${Number(takeoverRow?.n ?? 0)}, signatures verified ${receiver.verified()}, span ${receiver.spanMs()} ms, kills at ${run.kills.map((k) => k.atReceived).join('/')}`,
        )

        expect(receiver.problems, 'requests that were not a verified delivery of ours').to.deep.equal([])
        expect(run.finished, `every event arrived and every job finished within ${DELIVERY_DEADLINE_MS} ms`).to.equal(true)
        expect(lost, 'events lost').to.equal(0)
        expect(missingNumbers.slice(0, 20), 'event numbers never received').to.deep.equal([])
        expect(unknownIds, 'webhook-ids that are no message of the database').to.deep.equal([])
        expect(messageIds.size, 'messages written').to.equal(EVENTS)
        expect(kills, 'kills made while delivery ran').to.equal(KILLS)
        expect(duplicates, `duplicates, at most ${kills} kills × concurrency ${concurrency}`).to.be.at.most(bound)
        expect(duplicates, `duplicates, at most the ${heldByKilled} jobs the killed workers held`).to.be.at.most(heldByKilled)
        expect(repeatedNotHeld.slice(0, 20), 'ids received more often than killed workers held their job').to.deep.equal([])
        expect(
          run.kills.map((k) => k.atReceived).filter((n) => n >= EVENTS),
          'kills made after every event had arrived',
        ).to.deep.equal([])
        expect(deliveries, 'deliveries by status').to.deep.equal({ succeeded: EVENTS })
        expect(jobs, 'jobs by status').to.deep.equal({ succeeded: EVENTS })
        expect(receiver.verified(), 'signatures verified').to.be.at.least(1)
        expect(run.errors, 'error lines the serve processes logged').to.deep.equal([])
        // The killed ones by SIGKILL, every other one exited 0 on SIGTERM (none died on its own).
        const expectedExits = [...Array<string>(kills).fill('SIGKILL'), ...Array<string>(run.starts - kills).fill('0')]
        expect([...run.exits].sort(), 'how the serve processes ended').to.deep.equal(expectedExits.sort())
      } finally {
        await runtime?.close()
        ws?.cleanup()
        await receiver.close()
        await db.drop()
      }
    })
  }
})
