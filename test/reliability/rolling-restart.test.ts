/**
 * Reliability, 'faults survived': a rolling restart of `gantry serve` behind a load balancer, under a
 * keep-alive client load. Two instances over one workspace (its SQLite file, shared) sit behind the
 * round-robin balancer of test/helpers/round-robin-proxy.ts, which takes a backend out when its readiness
 * says 503 or it refuses connections, and resends a request elsewhere only when none of its bytes can have
 * reached the first backend (what it retries decides what "failed" means: see its header). Each restart
 * starts a replacement, waits until it is ready and in the rotation, SIGTERMs the instance it replaces
 * (serve drains: readiness 503 at once, in-flight requests finish, answers ask to close the connection,
 * the listener closes after drainDelay), waits for its exit and removes it. The figure is the number of
 * requests the client saw fail: a connection error, a 5xx or no whole answer within 10 s.
 */
import { expect } from 'chai'
import { serverErrors, shoot, startLoad, type Shot } from '../helpers/http-load.js'
import { startRoundRobinProxy, type RoundRobinProxy } from '../helpers/round-robin-proxy.js'
import { atScale, record } from '../helpers/scorecard.js'
import {
  ADMIN,
  createServeWorkspace,
  killLeftovers,
  listeningUrl,
  startServe,
  stopServe,
  until,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'
import { stopAll } from '../helpers/serve-fleet.js'

const RESTARTS = atScale(10, 2)
/** Client requests per second, open loop: half liveness, half an authenticated admin list. */
const RATE = atScale(100, 50)
/**
 * Readiness answers 503 this long before the listener closes: the balancer, checking every
 * CHECK_INTERVAL_MS, has taken the instance out well before (production's default is 5 s).
 */
const DRAIN_DELAY_MS = 1000
const CHECK_INTERVAL_MS = 100
const SHUTDOWN_TIMEOUT_MS = 10_000
/** Requests each replacement serves before the next restart begins: every restart happens under load. */
const SERVED_BEFORE_NEXT = 20

interface Instance {
  readonly serve: ServeProcess
  readonly url: string
}

interface RestartFigures {
  readonly exitCode: number | null
  readonly signal: string | null
  /** From spawning the replacement to its being in the rotation. */
  readonly replacementReadyMs: number
  /** From SIGTERM to the balancer taking the old instance out (its readiness 503). */
  readonly takenOutMs: number | null
  /** From SIGTERM to the old instance's exit. */
  readonly drainMs: number
}

describe('reliability: rolling restart behind a load balancer', function () {
  this.timeout(60_000 + RESTARTS * 30_000)
  let ws: ServeWorkspace | undefined
  let proxy: RoundRobinProxy | undefined
  const started: ServeProcess[] = []

  const startInstance = async (): Promise<Instance> => {
    const serve = startServe(ws ?? expect.fail('no workspace'))
    started.push(serve)
    return { serve, url: await listeningUrl(serve) }
  }

  before(async function () {
    this.timeout(60_000)
    ws = await createServeWorkspace({ server: { drainDelay: `${DRAIN_DELAY_MS}ms`, shutdownTimeout: `${SHUTDOWN_TIMEOUT_MS / 1000}s` } })
    proxy = await startRoundRobinProxy({ checkIntervalMs: CHECK_INTERVAL_MS })
  })
  after(async function () {
    this.timeout(30_000)
    await proxy?.stop()
    await stopAll(started)
    killLeftovers()
    ws?.cleanup()
  })

  it(`rolling-restart-failed-requests: ${RESTARTS} restarts of 2 instances behind a round-robin balancer under keep-alive load; no request the client sees fails`, async () => {
    const lb = proxy ?? expect.fail('no proxy')
    const current = await Promise.all([startInstance(), startInstance()])
    for (const instance of current) await lb.add(instance.url)
    const login = await shoot(0, lb.url, '/api/v1/auth/login', { method: 'POST', body: ADMIN })
    expect(login.status, login.body).to.equal(200)
    const { accessToken } = JSON.parse(login.body) as { accessToken: string }

    const maxMs = 20_000 + RESTARTS * 20_000
    const load = startLoad({
      urls: [lb.url],
      targets: ['/api/health', { path: '/api/v1/admin/users?limit=5', headers: { authorization: `Bearer ${accessToken}` } }],
      ratePerSecond: RATE,
      maxRequests: Math.round((RATE * maxMs) / 1000),
      maxMs,
    })
    const servedBy = (url: string): number => lb.backend(url)?.forwarded ?? 0
    await until(async () => (current.every((i) => servedBy(i.url) >= SERVED_BEFORE_NEXT) ? true : undefined), 'load through both instances', {
      timeoutMs: 20_000,
    })

    const restarts: RestartFigures[] = []
    for (let r = 0; r < RESTARTS; r++) {
      const slot = r % current.length
      const old = current[slot] ?? expect.fail('no instance')
      const spawnedAt = performance.now()
      const replacement = await startInstance()
      await lb.add(replacement.url)
      const replacementReadyMs = performance.now() - spawnedAt
      const signalledAt = performance.now()
      const exit = await stopServe(old.serve, SHUTDOWN_TIMEOUT_MS + 10_000)
      const takenOut = lb.backend(old.url)?.takenOut.find((t) => t.at >= signalledAt)
      lb.remove(old.url)
      current[slot] = replacement
      restarts.push({
        exitCode: exit.code,
        signal: exit.signal,
        replacementReadyMs,
        takenOutMs: takenOut ? takenOut.at - signalledAt : null,
        drainMs: exit.afterMs,
      })
      await until(async () => (servedBy(replacement.url) >= SERVED_BEFORE_NEXT ? true : undefined), `load through replacement ${r + 1}`, { timeoutMs: 20_000 })
    }
    const shots = await load.stop()

    const failed = serverErrors(shots)
    const elapsedMs = Math.max(...shots.map((s) => s.answeredAt)) - Math.min(...shots.map((s) => s.sentAt))
    const statuses: Record<string, number> = {}
    for (const shot of shots) statuses[shot.status] = (statuses[shot.status] ?? 0) + 1
    const round = (n: number | null): number | null => (n === null ? null : Math.round(n))
    record({
      id: 'rolling-restart-failed-requests',
      area: 'faults survived',
      what: 'requests the client saw fail (connection error, 5xx, or no answer within 10 s) during rolling restarts behind a load balancer',
      tried:
        `${restarts.length} rolling restarts of 2 instances behind a round-robin balancer (readiness-checked every ${CHECK_INTERVAL_MS} ms, drain delay ${DRAIN_DELAY_MS} ms), ` +
        `${shots.length} keep-alive requests (liveness and an authenticated admin list) at ${RATE}/s over ${(elapsedMs / 1000).toFixed(1)} s`,
      value: failed.length,
      unit: 'requests',
      target: { comparison: '=', value: 0 },
      detail: {
        sent: shots.length,
        restarts: restarts.length,
        statuses,
        failures: failed.slice(0, 20),
        exitCodes: restarts.map((r) => r.exitCode ?? r.signal),
        drainMs: restarts.map((r) => round(r.drainMs)),
        takenOutMs: restarts.map((r) => round(r.takenOutMs)),
        replacementReadyMs: restarts.map((r) => round(r.replacementReadyMs)),
        proxyRetries: lb.retries.length,
        proxyRetryReasons: countBy(lb.retries.map((r) => r.reason)),
        upstreamFailures: lb.upstreamFailures.length,
        noBackend: lb.noBackend(),
      },
    })

    expect(failed, 'requests the client saw fail').to.deep.equal([])
    // Nothing else went wrong either: the token was honoured by every replacement, liveness always answered.
    expect(shots.filter((s) => s.status !== 200).map(describeShot), 'answers other than 200').to.deep.equal([])
    for (const [r, restart] of restarts.entries()) {
      expect(restart.exitCode, `restart ${r + 1}: exit code`).to.equal(0)
      // Out of the rotation while its listener was still open: no request was sent to a closed port.
      expect(restart.takenOutMs, `restart ${r + 1}: taken out of the rotation after SIGTERM`)
        .to.be.a('number')
        .and.below(DRAIN_DELAY_MS)
    }
    console.log(
      `      ${restarts.length} restarts, ${shots.length} requests in ${Math.round(elapsedMs)} ms, ${failed.length} failed; ` +
        `drain ${restarts.map((r) => Math.round(r.drainMs)).join('/')} ms; out after ${restarts.map((r) => round(r.takenOutMs)).join('/')} ms; ` +
        `proxy retries ${lb.retries.length}, upstream failures ${lb.upstreamFailures.length}`,
    )
  })
})

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

function describeShot(shot: Shot): string {
  return `${shot.path} ${shot.status} ${shot.error ?? shot.body.slice(0, 200)}`
}
