/**
 * Rate limits across `gantry serve` processes (issue 5, "Tests"): several instances of the built binary
 * over one workspace (one SQLite file) and one private Redis — or a private 3-node Redis Cluster — under
 * bounded loopback loads. What is checked is what a client sees: statuses, RateLimit-Policy, Retry-After,
 * problem+json, /metrics and `gantry ratelimit list`. Every Redis here is the test's own (test/helpers/
 * redis-servers.ts); the machine's shared Redis is never used. Waits poll with a deadline, never sleep.
 * Admissions are checked against the GCRA bound of test/helpers/gcra-budget.ts, computed from client
 * times. The budget of 4 instances on one Redis under 10× load is the reliability scenario
 * test/reliability/ratelimit-admission.test.ts (run by `npm test` at reduced scale too).
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { parseJson, runGantry, type CliResult } from '../helpers/cli.js'
import { expectLoad, expectRefusal, expectWithinBudget, policyQuota } from '../helpers/gcra-budget.js'
import { serverErrors, shoot, startLoad, type Shot } from '../helpers/http-load.js'
import { metricSamples } from '../helpers/metrics-text.js'
import { startRedisCluster, startRedisServer, stopAllRedis, type RedisServer } from '../helpers/redis-servers.js'
import { createRedisWorkspace, startFleet, type Fleet } from '../helpers/serve-fleet.js'
import { killLeftovers, until, type ServeWorkspace } from '../helpers/serve-process.js'

/** The figures of the enforced rules under load: 20 per 2 s sustained (T = 100 ms), 5 at once. */
const LIMIT = 20
const WINDOW_MS = 2000
const BURST = 5
/** Requests per second that are 10× the rule's sustained rate. */
const TEN_TIMES = (10 * LIMIT * 1000) / WINDOW_MS

/** No request failed and no answer was a 5xx. */
function expectNoServerErrors(shots: readonly Shot[]): void {
  expect(serverErrors(shots)).to.deep.equal([])
}

/** `gantry_ratelimit_decisions_total` of one rule from a /metrics text, by result. */
function decisionCounts(metrics: string, rule: string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const { labels, value } of metricSamples(metrics, 'gantry_ratelimit_decisions_total')) {
    if (labels.rule !== rule) continue
    const result = labels.result ?? '?'
    counts[result] = (counts[result] ?? 0) + value
  }
  return counts
}

const ms = (n: number): string => `${Math.round(n)} ms`

describe('e2e: rate limits shared by several gantry serve processes', function () {
  this.timeout(60_000)
  const AUTH_SECRET = randomBytes(32).toString('base64url')
  let ws: ServeWorkspace
  let sharedRedis: RedisServer
  /** The four instances on sharedRedis (tests 1, 4 and 5). */
  /** The four instances on sharedRedis (the live-change and shadow tests). */
  let fleet: Fleet | undefined

  /** What every run and instance gets beyond the workspace's own variables. */
  const vars = (redisUrl: string): NodeJS.ProcessEnv => ({ GANTRY_AUTH_SECRET: AUTH_SECRET, REDIS_URL: redisUrl })
  /** `gantry ARGS` in the workspace, with the given Redis. */
  const gantry = (redisUrl: string, args: readonly string[]): Promise<CliResult> => runGantry(args, { cwd: ws.root, env: { ...ws.env, ...vars(redisUrl) } })
  const gantryOk = async (redisUrl: string, args: readonly string[]): Promise<CliResult> => {
    const result = await gantry(redisUrl, args)
    expect(result.code, `gantry ${args.join(' ')}\n${result.stderr}`).to.equal(0)
    return result
  }
  /** What a test started for itself, stopped after it whatever its outcome (the fleet and sharedRedis stay). */
  const own: (() => Promise<void>)[] = []
  afterEach(async function () {
    this.timeout(30_000)
    for (const stop of own.splice(0).reverse()) await stop().catch(() => undefined)
  })
  /** `count` instances of `gantry serve` on `redisUrl`, stopped after the test. */
  const startInstances = async (redisUrl: string, count: number): Promise<Fleet> => {
    const started = await startFleet(ws, vars(redisUrl), count)
    own.push(() => started.stop())
    return started
  }
  const rule = (name: string, path: string, extra: readonly string[] = []): string[] => [
    'ratelimit',
    'set',
    name,
    '--match',
    `GET ${path}`,
    '--limit',
    String(LIMIT),
    '--window',
    `${WINDOW_MS / 1000}s`,
    '--burst',
    String(BURST),
    ...extra,
  ]

  before(async function () {
    this.timeout(60_000)
    ws = await createRedisWorkspace()
    sharedRedis = await startRedisServer()
    // The rules of the fleet's tests, stored before it starts: each instance loads them at start.
    await gantryOk(sharedRedis.url, [
      'ratelimit',
      'set',
      'live-4',
      '--match',
      'GET /api/e2e-4/*',
      '--key',
      'ip',
      '--limit',
      '1000',
      '--window',
      '2s',
      '--burst',
      '1000',
    ])
    await gantryOk(sharedRedis.url, rule('shadow-5', '/api/e2e-5/*', ['--key', 'global', '--shadow']))
    fleet = await startFleet(ws, vars(sharedRedis.url), 4)
  })
  after(async function () {
    this.timeout(30_000)
    await fleet?.stop()
    killLeftovers()
    await stopAllRedis()
    ws?.cleanup()
  })

  it('a rule changed under load (`ratelimit set --limit`) is in force on all 4 instances within 1 s of the CLI exiting, and stays', async () => {
    const { urls } = fleet ?? expect.fail('no fleet')
    const OLD = 1000
    const NEW = 500
    const load = startLoad({ urls, targets: ['/api/e2e-4/x'], ratePerSecond: 120, maxRequests: 1200, maxMs: 8000 })
    // Every instance answers under the old figures first.
    await until(
      async () => (urls.every((_, i) => load.shots.some((s) => s.instance === i && policyQuota(s, 'live-4') === OLD)) ? true : undefined),
      'the old quota on every instance',
    )
    const cliStartedAt = performance.now()
    await gantryOk(sharedRedis.url, ['ratelimit', 'set', 'live-4', '--limit', String(NEW)])
    const cliExitedAt = performance.now()
    await until(
      async () => (urls.every((_, i) => load.shots.some((s) => s.instance === i && policyQuota(s, 'live-4') === NEW)) ? true : undefined),
      'the new quota on every instance',
      { timeoutMs: 5000 },
    )
    // More load, so "stays" is checked on every instance: 10 requests each sent after its first new answer.
    const firstNewAt = (i: number): number =>
      Math.min(...load.shots.filter((s) => s.instance === i && policyQuota(s, 'live-4') === NEW).map((s) => s.answeredAt))
    await until(
      async () => (urls.every((_, i) => load.shots.filter((s) => s.instance === i && s.sentAt > firstNewAt(i)).length >= 10) ? true : undefined),
      'load after the change',
    )
    const shots = await load.stop()
    expectNoServerErrors(shots)
    expect(shots.every((s) => s.status !== 429)).to.equal(true)

    const lags: number[] = []
    for (let i = 0; i < urls.length; i++) {
      const mine = shots.filter((s) => s.instance === i)
      const firstNew =
        mine.filter((s) => policyQuota(s, 'live-4') === NEW).sort((a, b) => a.answeredAt - b.answeredAt)[0] ??
        expect.fail(`instance ${i}: no answer with q=${NEW}`)
      lags.push(firstNew.answeredAt - cliExitedAt)
      expect(firstNew.answeredAt - cliExitedAt, `instance ${i}: from the CLI's exit to the first answer with q=${NEW}`).to.be.at.most(1000)
      // Once an instance has answered with the new rule, every request it gets later is under it.
      const later = mine.filter((s) => s.sentAt > firstNew.answeredAt)
      expect(later.length).to.be.greaterThan(0)
      expect(later.filter((s) => policyQuota(s, 'live-4') !== NEW).length, `instance ${i}: old quota after the new one`).to.equal(0)
      // And before the change began it was the old one.
      expect(mine.filter((s) => s.answeredAt < cliStartedAt).every((s) => policyQuota(s, 'live-4') === OLD)).to.equal(true)
    }
    console.log(
      `      live change: CLI ran ${ms(cliExitedAt - cliStartedAt)}; first q=${NEW} per instance at ${lags.map(ms).join(', ')} from its exit (negative: before it exited)`,
    )
  })

  it('every instance listens on gantry:rl:changed (a change reaches it at once, not at the next poll), and again after its Redis restarts', async () => {
    const redis = await startRedisServer()
    own.push(() => redis.stop())
    const { serves } = await startInstances(redis.url, 2)
    const subscribed = async (): Promise<number> => Number((await redis.cli(['pubsub', 'numsub', 'gantry:rl:changed'])).split('\n')[1])
    const listening = async (what: string): Promise<number> => {
      const started = performance.now()
      await until(async () => ((await subscribed()) === serves.length ? true : undefined), what, { timeoutMs: 5000 }).catch(async (err: Error) => {
        expect.fail(`${err.message}: ${await subscribed()} of ${serves.length} instances subscribed to gantry:rl:changed`)
      })
      return performance.now() - started
    }
    await listening('both instances subscribed')
    await redis.kill()
    await redis.restart()
    const after = await listening('both instances subscribed again after the restart')
    console.log(`      subscribed: both instances, again ${ms(after)} after Redis restarted`)
  })

  it('a shadow rule refuses nothing under 10× load, and counts what it would have refused: /metrics on each instance, then `ratelimit list` summed across them', async () => {
    const { urls } = fleet ?? expect.fail('no fleet')
    const listBefore = parseJson<{ data: { name: string; counts: { admitted: number; shadowRefused: number } }[] }>(
      await gantryOk(sharedRedis.url, ['ratelimit', 'list', '--json']),
    )
    const before = listBefore.data.find((r) => r.name === 'shadow-5')?.counts ?? expect.fail('no shadow-5 in the list')
    const load = startLoad({ urls, targets: ['/api/e2e-5/x'], ratePerSecond: 1.5 * TEN_TIMES, maxRequests: 450, maxMs: 3000 })
    const shots = await load.done
    const loadEndedAt = performance.now()
    expectNoServerErrors(shots)
    expectLoad(shots, urls.length, TEN_TIMES)
    expect(
      shots.filter((s) => s.status !== 404).map((s) => s.status),
      'every request reached the router (404: no such route)',
    ).to.deep.equal([])
    // A shadow rule is not advertised: clients must not slow down for it.
    expect(shots.filter((s) => policyQuota(s, 'shadow-5') !== undefined)).to.have.length(0)

    const perInstance = await Promise.all(urls.map(async (url, i) => decisionCounts((await shoot(i, url, '/metrics')).body, 'shadow-5')))
    const admitted = perInstance.reduce((n, c) => n + (c.admitted ?? 0), 0)
    const shadowRefused = perInstance.reduce((n, c) => n + (c.shadow_refused ?? 0), 0)
    for (const [i, c] of perInstance.entries()) {
      expect(c.shadow_refused ?? 0, `instance ${i}: shadow_refused`).to.be.greaterThan(0)
      expect(c.refused ?? 0, `instance ${i}: refused`).to.equal(0)
    }
    expect(admitted + shadowRefused, 'every request decided once').to.equal(shots.length)
    // It spends its budget like an enforced rule would: what it would admit stays within GCRA's bound.
    const spanMs = Math.max(...shots.map((s) => s.answeredAt)) - Math.min(...shots.map((s) => s.sentAt))
    expect(admitted).to.be.at.most(BURST + (LIMIT * spanMs) / WINDOW_MS)

    // Each instance flushes its counts every 5 s: the list catches up with every instance's /metrics.
    const counts = await until(
      async () => {
        const list = parseJson<{ data: { name: string; counts: { admitted: number; shadowRefused: number } }[] }>(
          await gantryOk(sharedRedis.url, ['ratelimit', 'list', '--json']),
        )
        const found = list.data.find((r) => r.name === 'shadow-5')?.counts
        return found && found.shadowRefused - before.shadowRefused === shadowRefused && found.admitted - before.admitted === admitted ? found : undefined
      },
      "`ratelimit list` showing every instance's shadow refusals",
      { timeoutMs: 15_000, intervalMs: 250 },
    )
    expect(counts.shadowRefused).to.be.greaterThan(0)
    console.log(
      `      shadow: ${shots.length} requests, 0 refused; would have refused ${shadowRefused} (per instance ${perInstance.map((c) => c.shadow_refused ?? 0).join('/')}); ` +
        `list caught up ${ms(performance.now() - loadEndedAt)} after the load`,
    )
  })

  it('4 instances on a 3-node Redis Cluster (redis+cluster://): three global rules, their keys on three different nodes, each within GCRA under 10× load; no 5xx', async function () {
    this.timeout(90_000)
    const cluster = await startRedisCluster(3)
    own.push(() => cluster.stop())
    // Names whose keys (gantry:rl:NAME:all) hash to slots of different masters; checked below, not assumed.
    const names = ['c-b', 'c-a', 'cl-two']
    for (const [i, name] of names.entries()) await gantryOk(cluster.url, rule(name, `/api/e2e-2-${i}/*`, ['--key', 'global']))
    const { serves, urls } = await startInstances(cluster.url, 4)
    const paths = names.map((_, i) => `/api/e2e-2-${i}/x`)
    const load = startLoad({ urls, targets: paths, ratePerSecond: 1.2 * TEN_TIMES * names.length, maxRequests: 1200, maxMs: 3500 })
    // Where each key lives, read while the load runs. A key lives only as long as admissions push its TAT
    // ahead: at most BURST·T = 500 ms after the last one. Read after the load, EXISTS could still find it
    // and PTTL, a few redis-cli runs later on a busy machine, answer -2 (issue 15). The owner comes from the
    // cluster's answers, whether the key exists or not: MOVED from every node but one. Its TTL is awaited as
    // a condition while admissions keep the key alive, never read once and raced against its expiry.
    let loadOver = false
    void load.done.then(() => (loadOver = true))
    const owners = await Promise.all(
      names.map(async (name) => {
        const key = `gantry:rl:${name}:all`
        const answers = await Promise.all(cluster.nodes.map((node) => node.cli(['exists', key])))
        expect(answers.filter((a) => a.startsWith('MOVED')).length, `${name}: ${answers.join(' | ')}`).to.equal(cluster.nodes.length - 1)
        const owner = answers.findIndex((a) => !a.startsWith('MOVED'))
        const node = cluster.nodes[owner] ?? expect.fail(`${name}: no node owns ${key}`)
        // Every MOVED names the owner.
        for (const moved of answers.filter((a) => a.startsWith('MOVED'))) expect(moved.endsWith(`:${node.port}`), moved).to.equal(true)
        const pttl = await until(
          async () => {
            const ttl = Number(await node.cli(['pttl', key]))
            // -1 is a key without an expiry: a bug, reported at once.
            return ttl > 0 || ttl === -1 || loadOver ? ttl : undefined
          },
          `${key} alive with a TTL on node ${owner} during the load`,
          { timeoutMs: 10_000, intervalMs: 20 },
        )
        expect(pttl, `PTTL of ${key} on its node while the load ran${loadOver ? ' (the load ended before it was seen alive)' : ''}`).to.be.greaterThan(0)
        return owner
      }),
    )
    const shots = await load.done
    expectNoServerErrors(shots)
    // A decision Redis does not make within the store's 100 ms deadline fails open (the rules' default): admitted,
    // without RateLimit fields, counted in gantry_ratelimit_store_errors_total. On a busy 2-core machine a few
    // of 1,200 do (issue 15: "expected undefined to equal 20"). Each such answer must be one of those counted
    // errors, no more, no fewer; the budget is checked on the answers Redis decided.
    const storeErrors = (
      await Promise.all(urls.map(async (url, i) => metricSamples((await shoot(i, url, '/metrics')).body, 'gantry_ratelimit_store_errors_total')))
    ).flat()
    const reports: string[] = []
    for (const [i, name] of names.entries()) {
      const mine = shots.filter((s) => s.path === paths[i])
      const facts = expectLoad(mine, urls.length, TEN_TIMES)
      const failedOpen = mine.filter((s) => s.status !== 429 && policyQuota(s, name) === undefined)
      const errors = storeErrors.filter((sample) => sample.labels.rule === name).reduce((n, sample) => n + sample.value, 0)
      expect(failedOpen.length, `${name}: answers without RateLimit fields = store errors counted on /metrics`).to.equal(errors)
      const decided = mine.filter((s) => !failedOpen.includes(s))
      const report = expectWithinBudget(decided, { limit: LIMIT, windowMs: WINDOW_MS, burst: BURST })
      expect(report.admitted).to.be.at.least(0.8 * (BURST + (LIMIT * facts.elapsedMs) / WINDOW_MS))
      for (const shot of decided.filter((s) => s.status !== 429)) expect(policyQuota(shot, name)).to.equal(LIMIT)
      reports.push(
        `${name}: ${facts.sent} in ${ms(facts.elapsedMs)}, admitted ${report.admitted} ≤ ${report.bound.toFixed(1)}, max ${report.maxInWindow}/window, ${failedOpen.length} failed open`,
      )
    }
    expect(new Set(owners).size, 'keys on distinct nodes').to.equal(names.length)
    for (const serve of serves) expect(serve.child.exitCode).to.equal(null)
    console.log(`      cluster (keys on nodes ${owners.join(', ')}): ${reports.join('; ')}`)
  })

  it('Redis paused (SIGSTOP) then killed mid-load: no 5xx; the open rule admits during each fault; the login ceiling holds in memory; decisions are back on Redis within 5 s each time', async function () {
    this.timeout(90_000)
    const redis = await startRedisServer()
    own.push(() => redis.stop())
    await gantryOk(redis.url, rule('f-open', '/api/e2e-3/*', ['--key', 'global', '--on-store-error', 'open']))
    // A budget of 2 per address: probed from a fresh loopback address each time, it shows whether two instances share it.
    await gantryOk(redis.url, ['ratelimit', 'set', 'f-probe', '--match', 'GET /api/e2e-3p/*', '--key', 'ip', '--limit', '2', '--window', '10s', '--burst', '2'])
    const { serves, urls } = await startInstances(redis.url, 2)
    const probes: Shot[] = []
    let nextAddress = 2
    /** Whether both instances decide from Redis: f-probe's budget for a fresh address, spent on instance 0, 1, then 0 again, runs out on the third. */
    const sharedAgain = async (): Promise<true | undefined> => {
      const localAddress = `127.0.0.${nextAddress++}`
      expect(nextAddress).to.be.below(255)
      const a = await shoot(0, urls[0] ?? '', '/api/e2e-3p/x', { localAddress })
      const b = await shoot(1, urls[1] ?? '', '/api/e2e-3p/x', { localAddress })
      const c = await shoot(0, urls[0] ?? '', '/api/e2e-3p/x', { localAddress })
      probes.push(a, b, c)
      // The RateLimit fields are there only when the store answered (a rule failing open has no state to report).
      return a.status === 404 && b.status === 404 && policyQuota(a, 'f-probe') === 2 && policyQuota(b, 'f-probe') === 2 && c.status === 429 ? true : undefined
    }
    const login = (instance: number, email: string): Promise<Shot> =>
      shoot(instance, urls[instance] ?? '', '/api/v1/auth/login', { method: 'POST', body: { email, password: 'not the password, long enough' } })
    const fromRedis = (shot: Shot): boolean => policyQuota(shot, 'f-open') === LIMIT

    const load = startLoad({ urls, targets: ['/api/e2e-3/x'], ratePerSecond: 50, maxRequests: 2000, maxMs: 40_000 })
    /** Holds a fault for at least 1 s of load and 20 answers sent during it. */
    const holdFault = (since: number) =>
      until(
        async () => (performance.now() - since >= 1000 && load.shots.filter((s) => s.sentAt >= since).length >= 20 ? true : undefined),
        'load during the fault',
        { timeoutMs: 10_000 },
      )
    await until(
      async () => (urls.every((_, i) => load.shots.some((s) => s.instance === i && fromRedis(s))) ? true : undefined),
      'both instances deciding from Redis',
    )
    expect(Number(await redis.cli(['pttl', 'gantry:rl:f-open:all']))).to.be.greaterThan(0)

    // An account that spent its login burst on Redis before the fault (observed, not asserted: see below).
    const accountC = `before-${Date.now()}@example.com`
    const loginsBefore: Shot[] = []
    for (let i = 0; i < 6; i++) loginsBefore.push(await login(0, accountC))
    expect(loginsBefore.map((s) => s.status)).to.deep.equal([401, 401, 401, 401, 401, 429])

    // Paused: connections stay up and silent; every command times out (100 ms).
    const pausedAt = performance.now()
    redis.pause()
    // `local` decides from this instance's memory, which never saw accountC's attempts on Redis.
    const loginsCarried = await Promise.all(Array.from({ length: 2 }, () => login(0, accountC)))
    const accountA = `paused-${Date.now()}@example.com`
    const loginsPaused = await Promise.all(Array.from({ length: 8 }, () => login(0, accountA)))
    await holdFault(pausedAt)
    const resumedAt = performance.now()
    redis.resume()
    await until(sharedAgain, 'both instances back on Redis after SIGCONT', { timeoutMs: 10_000, intervalMs: 20 })
    const backAfterResumeMs = performance.now() - resumedAt

    // Killed: connections cut, the port refuses; then a new, empty Redis on the same port.
    await redis.kill()
    const killedAt = performance.now()
    const accountB = `killed-${Date.now()}@example.com`
    const loginsKilled = await Promise.all(Array.from({ length: 8 }, () => login(1, accountB)))
    const ready = await shoot(0, urls[0] ?? '', '/api/health/ready')
    await holdFault(killedAt)
    const restartingAt = performance.now()
    await redis.restart()
    const restartedAt = performance.now()
    await until(sharedAgain, 'both instances back on Redis after the restart', { timeoutMs: 10_000, intervalMs: 20 })
    const backAfterRestartMs = performance.now() - restartedAt
    expect(Number(await redis.cli(['pttl', 'gantry:rl:f-probe:127.0.0.' + String(nextAddress - 1)]))).to.be.greaterThan(0)
    const shots = await load.stop()

    expectNoServerErrors([...shots, ...probes, ...loginsBefore, ...loginsCarried, ...loginsPaused, ...loginsKilled, ready])
    for (const shot of [...shots, ...probes].filter((s) => s.status === 429)) expectRefusal(shot)
    // The open rule admitted everything decided while Redis could not answer.
    const duringPause = shots.filter((s) => s.sentAt >= pausedAt && s.answeredAt < resumedAt)
    const duringKill = shots.filter((s) => s.sentAt >= killedAt && s.answeredAt < restartingAt)
    for (const [what, during] of [
      ['paused', duringPause],
      ['killed', duringKill],
    ] as const) {
      expect(during.length, `requests while ${what}`).to.be.at.least(15)
      expect(
        during.filter((s) => s.status !== 404).map((s) => s.status),
        `refusals while ${what}`,
      ).to.deep.equal([])
      expect(during.filter(fromRedis), `decided by Redis while ${what}`).to.have.length(0)
      // Fail fast: a decision waits at most the 100 ms command timeout for Redis, never for Redis to return.
      expect(Math.max(...during.map((s) => s.answeredAt - s.sentAt)), `slowest answer while ${what}`).to.be.below(1000)
    }
    // The login ceiling (login-account: burst 5, 10 per 15 min) held in this instance's memory: 5 attempts, then 429.
    for (const [what, logins] of [
      ['paused', loginsPaused],
      ['killed', loginsKilled],
    ] as const) {
      expect(
        logins.filter((s) => s.status === 401),
        `logins answered while ${what}`,
      ).to.have.length(5)
      const refused = logins.filter((s) => s.status === 429)
      expect(refused, `logins refused while ${what}`).to.have.length(3)
      for (const shot of refused) expectRefusal(shot)
    }
    // Readiness warns (still 200) while Redis is away and every rule fails open or to memory.
    expect(ready.status, ready.body).to.equal(200)
    expect((JSON.parse(ready.body) as { status: string }).status).to.equal('warn')
    expect(backAfterResumeMs, 'back on Redis after SIGCONT').to.be.at.most(5000)
    expect(backAfterRestartMs, 'back on Redis after the restart').to.be.at.most(5000)
    for (const serve of serves) expect(serve.child.exitCode, serve.stderr()).to.equal(null)
    console.log(
      `      faults: ${shots.length} requests; paused ${ms(resumedAt - pausedAt)} (${duringPause.length} admitted open), back on Redis ${ms(backAfterResumeMs)} after SIGCONT; ` +
        `killed ${ms(restartingAt - killedAt)} (${duringKill.length} admitted open), back ${ms(backAfterRestartMs)} after the restart answered; ` +
        `an account refused on Redis before the pause got ${loginsCarried.filter((l) => l.status === 401).length} of 2 more attempts during it`,
    )
  })
})
