/**
 * health-fault-matrix: what a load balancer's health checks get from `gantry serve` while its dependencies
 * fail. Two servers, each on its own database of one private PostgreSQL and both on one private Redis:
 * one whose rate-limit rule fails open (Redis down → readiness warns, 200), one whose rule fails closed
 * (Redis down → readiness fails, 503), as DESIGN.md's readiness rules say. The faults are real: Redis
 * killed (SIGKILL: refused), Redis paused and the database paused (SIGSTOP of the server and its backends:
 * connections open, nothing answers), Redis and database paused together. Under each, every probe — from
 * a fresh connection, as a load balancer makes it — must answer as specified within 1.5 s; once the fault
 * is lifted both servers must be ready again.
 */
import { expect } from 'chai'
import { probeHealth, type HealthProbe, type HealthStatus } from '../helpers/health-report.js'
import { startPrivateDatabase, stopAllPrivateDatabases, type PrivateDatabaseServer } from '../helpers/private-databases.js'
import { startRedisServer, stopAllRedis, type RedisServer } from '../helpers/redis-servers.js'
import { atScale, record } from '../helpers/scorecard.js'
import {
  createServeWorkspace,
  http,
  killLeftovers,
  listeningUrl,
  startServe,
  stopServe,
  until,
  VERSION,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

/** The longest a health answer may take (the bound; readiness bounds each check to 1 s). */
const ANSWER_WITHIN_MS = 1500
/** How long a server may take to be ready again once a fault is lifted. */
const RECOVERY_WITHIN_MS = 15_000
const PROBES_PER_CELL = atScale(5, 1)

type Rules = 'open' | 'closed'
const RULES: readonly Rules[] = ['open', 'closed']
type Endpoint = 'liveness' | 'readiness'
const PATHS: Readonly<Record<Endpoint, string>> = { liveness: '/api/health', readiness: '/api/health/ready' }

/** What readiness must answer: the HTTP status, the document's status and the status of the checks named. */
interface Expected {
  readonly status: 200 | 503
  readonly health: HealthStatus
  readonly checks: Readonly<Record<string, HealthStatus>>
}

interface Fault {
  readonly name: string
  apply(): Promise<void> | void
  lift(): Promise<void> | void
  readonly readiness: Readonly<Record<Rules, Expected>>
}

const DB = 'database:responseTime'
const REDIS = 'redis:responseTime'

/** Redis unreachable: a warning while the rules fail open, a failure once one fails closed (DESIGN.md). */
const redisDown = (database: HealthStatus): Record<Rules, Expected> => {
  const failing = database === 'fail'
  return {
    open: { status: failing ? 503 : 200, health: failing ? 'fail' : 'warn', checks: { [DB]: database, [REDIS]: 'warn' } },
    closed: { status: 503, health: 'fail', checks: { [DB]: database, [REDIS]: 'fail' } },
  }
}

function faults(db: PrivateDatabaseServer, redis: RedisServer): Fault[] {
  const healthy: Expected = { status: 200, health: 'pass', checks: { [DB]: 'pass', [REDIS]: 'pass' } }
  const dbPaused: Expected = { status: 503, health: 'fail', checks: { [DB]: 'fail', [REDIS]: 'pass' } }
  return [
    { name: 'no fault', apply: () => undefined, lift: () => undefined, readiness: { open: healthy, closed: healthy } },
    { name: 'Redis killed', apply: () => redis.kill(), lift: () => redis.restart(), readiness: redisDown('pass') },
    { name: 'Redis paused', apply: () => redis.pause(), lift: () => redis.resume(), readiness: redisDown('pass') },
    { name: 'database paused', apply: () => db.pause(), lift: () => db.resume(), readiness: { open: dbPaused, closed: dbPaused } },
    {
      name: 'Redis and database paused',
      apply: () => {
        redis.pause()
        db.pause()
      },
      lift: () => {
        db.resume()
        redis.resume()
      },
      readiness: redisDown('fail'),
    },
  ]
}

/** Why a probe is not what the spec says (an empty list when it is). */
function problems(probe: HealthProbe, endpoint: Endpoint, expected: Expected | undefined): string[] {
  const found: string[] = []
  if (probe.error) return [`no answer: ${probe.error}`]
  if (probe.ms > ANSWER_WITHIN_MS) found.push(`took ${Math.round(probe.ms)} ms`)
  if (!probe.contentType.startsWith('application/health+json')) found.push(`content-type ${probe.contentType}`)
  const report = probe.report
  if (!report) return [...found, 'not a health document']
  if (report.version !== VERSION) found.push(`version ${report.version}`)
  const want = endpoint === 'liveness' ? { status: 200, health: 'pass', checks: {} } : expected!
  if (probe.status !== want.status) found.push(`status ${probe.status}, not ${want.status}`)
  if (report.status !== want.health) found.push(`health ${report.status}, not ${want.health}`)
  for (const [name, status] of Object.entries(want.checks)) {
    const check = report.checks[name]
    if (check?.status !== status) found.push(`${name} ${check?.status}, not ${status}`)
    // A check that does not pass says why (the failing check is named, with its reason).
    else if (status !== 'pass' && !check.output) found.push(`${name} ${status} without an output`)
  }
  return found
}

interface Cell {
  readonly fault: string
  readonly rules: Rules
  readonly endpoint: Endpoint
  readonly statuses: string[]
  readonly ms: number[]
  readonly outputs: string[]
  readonly problems: string[]
}

describe('reliability: health under faults (gantry serve on a private PostgreSQL and Redis)', function () {
  this.timeout(300_000)
  let db: PrivateDatabaseServer
  let redis: RedisServer
  const workspaces: ServeWorkspace[] = []
  const servers = new Map<Rules, { serve: ServeProcess; url: string }>()

  before(async () => {
    ;[db, redis] = await Promise.all([startPrivateDatabase('postgres'), startRedisServer()])
    // One database each: the rules live in the database, and each server needs its own.
    await Promise.all(
      RULES.map(async (rules) => {
        const database = await db.createDatabase()
        const ws = await createServeWorkspace({ databaseUrl: database.url })
        workspaces.push(ws)
        // A rule on the API, keyed on the client address, so that every API request needs Redis.
        const onStoreError = rules === 'closed' ? ['--on-store-error', 'closed'] : []
        const set = await ws.gantry(['ratelimit', 'set', 'api', '--match', '* /api/v1/*', '--limit', '6000', '--window', '1m', ...onStoreError])
        expect(set.code, set.stderr).to.equal(0)
        const serve = startServe({ ...ws, env: { ...ws.env, REDIS_URL: redis.url } })
        servers.set(rules, { serve, url: await listeningUrl(serve) })
      }),
    )
  })
  after(async () => {
    db?.resume()
    redis?.resume()
    await Promise.all([...servers.values()].map(({ serve }) => stopServe(serve).catch(() => undefined)))
    killLeftovers()
    await Promise.all([stopAllRedis(), stopAllPrivateDatabases()])
    for (const ws of workspaces) ws.cleanup()
  })

  it('health-fault-matrix: every cell of {no fault, Redis killed, Redis paused, database paused, both} × {liveness, readiness} answers as specified within 1.5 s, and readiness recovers', async () => {
    const url = (rules: Rules): string => servers.get(rules)!.url
    const ready = (rules: Rules): Promise<true | undefined> =>
      probeHealth(`${url(rules)}${PATHS.readiness}`).then((p) => (p.status === 200 && p.report?.status === 'pass' ? true : undefined))
    for (const rules of RULES) await until(() => ready(rules), `the server whose rules fail ${rules} ready`, { timeoutMs: RECOVERY_WITHIN_MS })

    const cells: Cell[] = []
    const recovery: Record<string, Record<Rules, number | null>> = {}
    const api: Record<string, Record<Rules, number>> = {}
    const matrix = faults(db, redis)
    for (const fault of matrix) {
      await fault.apply()
      const faultCells = RULES.flatMap((rules) =>
        (['liveness', 'readiness'] as const).map((endpoint): Cell => ({ fault: fault.name, rules, endpoint, statuses: [], ms: [], outputs: [], problems: [] })),
      )
      for (let round = 0; round < PROBES_PER_CELL; round++) {
        // One probe at a time: each answer's time is its own, not a share of the others'.
        for (const cell of faultCells) {
          const probe = await probeHealth(`${url(cell.rules)}${PATHS[cell.endpoint]}`)
          cell.statuses.push(`${probe.status} ${probe.report?.status ?? probe.error ?? '?'}`)
          cell.ms.push(Math.round(probe.ms))
          const failing = Object.entries(probe.report?.checks ?? {}).filter(([, c]) => c.status !== 'pass')
          cell.outputs.push(failing.map(([name, c]) => `${name}: ${c.status} (${c.output})`).join('; '))
          cell.problems.push(...problems(probe, cell.endpoint, fault.readiness[cell.rules]))
        }
      }
      // Why the rules matter: an API request under the fault (a rule failing closed refuses it while Redis is away).
      const apiStatus = (rules: Rules): Promise<number> =>
        http(`${url(rules)}/api/v1/auth/me`, { signal: AbortSignal.timeout(5000) }).then(
          (a) => a.status,
          () => 0,
        )
      api[fault.name] = Object.fromEntries(await Promise.all(RULES.map(async (rules) => [rules, await apiStatus(rules)] as const))) as Record<Rules, number>
      cells.push(...faultCells)

      await fault.lift()
      const lifted = performance.now()
      recovery[fault.name] = Object.fromEntries(
        await Promise.all(
          RULES.map(async (rules) => {
            const back = await until(() => ready(rules), `ready again after ${fault.name}`, { timeoutMs: RECOVERY_WITHIN_MS, intervalMs: 20 }).catch(
              () => undefined,
            )
            return [rules, back ? Math.round(performance.now() - lifted) : null] as const
          }),
        ),
      ) as Record<Rules, number | null>
    }

    const asSpecified = cells.filter((c) => c.problems.length === 0).length
    const slowest = Math.max(...cells.flatMap((c) => c.ms))
    const unrecovered = Object.entries(recovery).flatMap(([fault, byRules]) =>
      RULES.filter((r) => byRules[r] === null).map((r) => `${fault} (rules fail ${r})`),
    )
    const tried = `${matrix.length} faults (none, Redis killed, Redis paused, database paused, Redis + database paused) × liveness and readiness × 2 servers (a rate-limit rule failing open / closed), ${PROBES_PER_CELL} probe${PROBES_PER_CELL === 1 ? '' : 's'} per cell (${cells.length * PROBES_PER_CELL} in all), each from a fresh connection; a private PostgreSQL and a private Redis, paused with SIGSTOP and killed with SIGKILL`
    const detail = {
      slowestMs: slowest,
      probesPerCell: PROBES_PER_CELL,
      database: 'private PostgreSQL (SIGSTOP of the postmaster and every backend)',
      cells: cells.map((c) => ({
        cell: `${c.fault} × ${c.endpoint} (rules fail ${c.rules})`,
        statuses: c.statuses,
        ms: c.ms,
        outputs: c.outputs.filter(Boolean),
        problems: c.problems,
      })),
      recoveryMs: recovery,
      unrecovered,
      apiStatusUnderFault: api,
    }
    record({
      id: 'health-fault-matrix',
      area: 'faults survived',
      what: 'health cells (fault × liveness/readiness × rules failing open/closed) answered as specified within 1.5 s',
      tried,
      value: asSpecified,
      unit: 'cells',
      target: { comparison: '=', value: cells.length },
      detail,
    })
    record({
      id: 'health-fault-latency',
      area: 'faults survived',
      what: 'slowest health answer under any of the faults',
      tried,
      value: slowest,
      unit: 'ms',
      target: { comparison: '<=', value: ANSWER_WITHIN_MS },
      detail: { recoveryMs: recovery },
    })
    const missed = cells.filter((c) => c.problems.length > 0).map((c) => `${c.fault} × ${c.endpoint} (rules fail ${c.rules}): ${c.problems.join(', ')}`)
    // A server that died says why (its exit and the end of its stderr and log), not only "ECONNREFUSED".
    const died = [...servers.entries()]
      .filter(([, { serve }]) => serve.child.exitCode !== null || serve.child.signalCode !== null)
      .map(
        ([rules, { serve }]) =>
          `the server whose rules fail ${rules} exited (${serve.child.exitCode ?? serve.child.signalCode}): ${serve.stderr().slice(-2000)}\n${JSON.stringify(serve.logs.slice(-10))}`,
      )
    expect(died, died.join('\n')).to.deep.equal([])
    expect(missed, missed.join('\n')).to.deep.equal([])
    expect(slowest).to.be.at.most(ANSWER_WITHIN_MS)
    expect(unrecovered, 'ready again within 15 s of the fault lifted').to.deep.equal([])
  })
})
