/**
 * Live rules: a change made through the service is in force on every instance without a restart. Two
 * "instances" here are two LiveRules (each over its own rate-limits service on one database) sharing one
 * store, as servers share one Redis. Reloads are driven by refresh() (what the poll and pub/sub call),
 * except in the two tests that show the poll and a Redis announcement doing it by themselves, in real time.
 * The store failure tests use a store that throws: it stands for a dead Redis (fault tests kill real ones).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Express } from 'express'
import { pino } from 'pino'
import request from 'supertest'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { manualClock } from '../../../src/core/clock.js'
import type { CountDeltas } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createRateLimitsService, type RateLimitsService } from '../../../src/core/ratelimits/ratelimits.service.js'
import { workspaceMigrator } from '../../../src/db/migrator/index.js'
import type { Dialect } from '../../../src/db/url.js'
import { createDecisionCounts, createMemoryStore, EDGE_KEYS, startLiveRules, type LiveRules, type RateLimitStore } from '../../../src/ratelimit/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { createApp } from '../../../src/server/app.js'
import { createMetrics } from '../../../src/server/metrics.js'
import { createReadinessProbe } from '../../../src/server/readiness.js'
import { createTrafficRing } from '../../../src/server/traffic.js'
import { until } from '../../helpers/serve-process.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'
import { createTestDatabase, DIALECTS, requireDialect, requireRedis, SERVICE_URLS } from '../../helpers/services.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { apiKeyDirectory } from '../../../src/core/apikeys/apikeys.directory.js'
import { oauthClientDirectory } from '../../../src/core/oauth/oauth-clients.directory.js'
import { userDirectory } from '../../../src/core/users/users.directory.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const DEFAULTS = { limit: 1000, window: '1m', burst: 1000 }
/** Long enough that no poll runs during a test that drives reloads itself. */
const NO_POLL = 60 * 60_000

/** A store that fails every call, as the Redis store does while Redis is down. */
function deadStore(): RateLimitStore & { calls: number } {
  const dead = {
    calls: 0,
    async consume(): Promise<never> {
      dead.calls += 1
      throw new Error('connect ECONNREFUSED 127.0.0.1:6399 (a dead Redis)')
    },
    async peek(): Promise<never> {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6399 (a dead Redis)')
    },
  }
  return dead
}

const get = (path: string, ip: string) => ({ method: 'GET', path, ip })

for (const dialect of DIALECTS) {
  describe(`live rate-limit rules on ${dialect}: two instances, one store`, function () {
    let f: IdentityFixture
    let clock: ReturnType<typeof manualClock>
    let store: ReturnType<typeof createMemoryStore>
    const services: RateLimitsService[] = []
    const lives: LiveRules[] = []
    const reloadErrors: unknown[] = []

    /** One instance: its own service over the shared database, its own LiveRules over the shared store. */
    const instance = async (pollMs = NO_POLL): Promise<{ service: RateLimitsService; live: LiveRules }> => {
      const service = createRateLimitsService({
        knex: f.db.knex,
        clock,
        audit: f.services.audit,
        directory: userDirectory,
        apiKeys: apiKeyDirectory,
        oauthClients: oauthClientDirectory,
        routes: BUILTIN_RULE_ROUTES,
        defaults: DEFAULTS,
      })
      const live = await startLiveRules({
        source: service,
        store,
        fallback: createMemoryStore({ clock }),
        clock,
        pollMs,
        onReloadError: (err) => reloadErrors.push(err),
      })
      services.push(service)
      lives.push(live)
      return { service, live }
    }

    beforeEach(async function () {
      await requireDialect(this, dialect)
      clock = manualClock(Date.UTC(2026, 5, 1))
      store = createMemoryStore({ clock })
      f = await identityFixture(dialect, { clock, rateLimits: { defaults: DEFAULTS } })
      reloadErrors.length = 0
    })
    afterEach(async () => {
      for (const live of lives.splice(0)) live.close()
      services.length = 0
      await f?.cleanup()
      expect(reloadErrors).to.deep.equal([])
    })

    it('a rule set through one instance is in force on both after refresh(), sharing one budget', async () => {
      const a = await instance()
      const b = await instance()
      await a.service.set(f.ctx, 'api', { match: '* /api/*', limit: 2, window: '1m' })
      // Not before a reload: each keeps the rules it loaded.
      expect(a.live.current().version).to.equal(0)
      for (let i = 0; i < 3; i++) expect((await b.live.chain.check(get('/api/x', '203.0.113.1'))).allowed).to.equal(true)

      await Promise.all([a.live.refresh(), b.live.refresh()])
      for (const { live } of [a, b]) {
        expect(live.current().version).to.equal(1)
        expect(live.current().rules.map((r) => r.name)).to.deep.equal(['default', 'api'])
      }
      const decisions = []
      for (const { live } of [a, b, a, b]) decisions.push(await live.chain.check(get('/api/x', '203.0.113.2')))
      expect(decisions.map((d) => [d.allowed, d.rule])).to.deep.equal([
        [true, 'api'],
        [true, 'api'],
        [false, 'api'],
        [false, 'api'],
      ])
      expect(decisions[2]?.headers).to.include({ 'Retry-After': '30' })
      expect(decisions[2]?.headers.RateLimit).to.include('"api";r=0;t=30')

      // A change on the other instance (and a removal) comes back the same way.
      await b.service.set(f.ctx, 'api', { limit: 4, burst: 4 })
      await Promise.all([a.live.refresh(), b.live.refresh()])
      const four = []
      for (const { live } of [a, b, a, b, a]) four.push((await live.chain.check(get('/api/x', '203.0.113.3'))).allowed)
      expect(four).to.deep.equal([true, true, true, true, false])
      await a.service.remove(f.ctx, 'api')
      await Promise.all([a.live.refresh(), b.live.refresh()])
      expect(b.live.current().rules.map((r) => r.name)).to.deep.equal(['default'])
      expect((await b.live.chain.check(get('/api/x', '203.0.113.2'))).rule).to.equal('default')
    })

    it('refresh() without a version change keeps the rules (and their limiters) as they are', async () => {
      const a = await instance()
      const before = a.live.current()
      await a.live.refresh()
      expect(a.live.current()).to.equal(before)
      // An override is a change too: it bumps the version, so it reloads.
      await a.service.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'default', block: true })
      await a.live.refresh()
      expect(a.live.current().version).to.equal(1)
      expect(a.live.current().overrides).to.have.length(1)
    })

    it('an override block refuses that address only, with Retry-After until its expiry', async () => {
      const a = await instance()
      const b = await instance()
      await a.service.set(f.ctx, 'api', { match: '* /api/*', limit: 100, window: '1m' })
      await a.service.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', block: true, expires: '2m' })
      await Promise.all([a.live.refresh(), b.live.refresh()])
      for (const { live } of [a, b]) {
        const blocked = await live.chain.check(get('/api/x', '203.0.113.7'), EDGE_KEYS)
        expect(blocked).to.deep.include({ allowed: false, rule: 'api', retryAfterSeconds: 120, unavailable: false })
        expect(blocked.headers['Retry-After']).to.equal('120')
        // An IPv4 client seen as IPv4-mapped IPv6 is the same address.
        expect((await live.chain.check(get('/api/x', '::ffff:203.0.113.7'))).allowed).to.equal(false)
        expect((await live.chain.check(get('/api/x', '203.0.113.8'))).allowed).to.equal(true)
        // Paths the rule does not cover stay open to it.
        expect((await live.chain.check(get('/other', '203.0.113.7'))).allowed).to.equal(true)
      }
      clock.advance(120_000)
      expect((await a.live.chain.check(get('/api/x', '203.0.113.7'))).allowed).to.equal(true)
    })

    it('a shadow rule refuses nothing; what it would have refused is counted, across instances, in list', async () => {
      const a = await instance()
      const b = await instance()
      await a.service.set(f.ctx, 'trial', { match: '* /api/*', limit: 2, window: '1m', mode: 'shadow' })
      await Promise.all([a.live.refresh(), b.live.refresh()])
      const written: CountDeltas[] = []
      const countsOf = (service: RateLimitsService) =>
        createDecisionCounts({
          write: (deltas) => {
            written.push(deltas)
            return service.addCounts(deltas)
          },
          onError: (err) => reloadErrors.push(err),
          everyMs: NO_POLL,
        })
      const counts = [countsOf(a.service), countsOf(b.service)]
      for (let i = 0; i < 6; i++) {
        const decision = await (i % 2 ? b : a).live.chain.check(get('/api/x', '203.0.113.9'))
        expect(decision.allowed, `request ${i}`).to.equal(true)
        expect(decision.shadowRefused).to.deep.equal(i < 2 ? [] : ['trial'])
        // Shadow rules are not advertised: clients must not slow down for them. (The default rule is.)
        expect(decision.headers.RateLimit).to.not.include('trial')
        counts[i % 2]?.record(decision)
      }
      await Promise.all(counts.map((c) => c.close()))
      expect(written).to.have.length(2) // one flush each
      const trial = (await a.service.list(f.ctx)).data.find((r) => r.name === 'trial')
      expect(trial?.counts).to.deep.include({ admitted: 2, refused: 0, shadowRefused: 4, storeErrors: 0 })
      expect((await a.service.list(f.ctx)).data.find((r) => r.name === 'default')?.counts).to.deep.include({ admitted: 6, refused: 0 })
    })

    it('a failed reload keeps the rules in force and says so; the next refresh() recovers', async () => {
      const a = await instance()
      await a.service.set(f.ctx, 'api', { match: '* /api/*', limit: 2, window: '1m' })
      const errors: unknown[] = []
      let fail = false
      const flaky = { snapshot: () => (fail ? Promise.reject(new Error('database restarting')) : a.service.snapshot()), version: () => a.service.version() }
      const live = await startLiveRules({
        source: flaky,
        store,
        fallback: createMemoryStore({ clock }),
        clock,
        pollMs: NO_POLL,
        onReloadError: (err) => errors.push(err),
      })
      lives.push(live)
      await a.service.set(f.ctx, 'api', { limit: 3 })
      fail = true
      await live.refresh()
      expect(errors).to.have.length(1)
      expect(live.current().version).to.equal(1)
      expect(live.current().rules.find((r) => r.name === 'api')?.limit).to.equal(2)
      fail = false
      await live.refresh()
      expect(live.current().version).to.equal(2)
      expect(live.current().rules.find((r) => r.name === 'api')?.limit).to.equal(3)
    })
  })
}

describe('live rate-limit rules in real time', function () {
  let f: IdentityFixture
  const lives: LiveRules[] = []
  afterEach(async () => {
    for (const live of lives.splice(0)) live.close()
    await f?.cleanup()
  })

  it('the poll alone picks a change up within about a second', async () => {
    f = await identityFixture('sqlite', { rateLimits: { defaults: DEFAULTS } })
    const clock = manualClock()
    const live = await startLiveRules({
      source: f.services.rateLimits,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      onReloadError: (err) => expect.fail(String(err)),
    })
    lives.push(live)
    await f.services.rateLimits.set(f.ctx, 'api', { match: '* /api/*', limit: 1, window: '1m' })
    const started = performance.now()
    await until(async () => (live.current().version === 1 ? true : undefined), 'the poll reloads the rules', { timeoutMs: 2000, intervalMs: 20 })
    expect(performance.now() - started).to.be.below(1500)
    expect(live.current().rules.map((r) => r.name)).to.deep.equal(['default', 'api'])
  })
})

describe('live rate-limit rules announced on Redis pub/sub', function () {
  const runtimes: Runtime[] = []
  const lives: LiveRules[] = []
  let root: string | undefined
  let drop: (() => Promise<void>) | undefined
  afterEach(async () => {
    for (const live of lives.splice(0)) live.close()
    for (const runtime of runtimes.splice(0)) await runtime.close()
    await drop?.()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it("one instance's change reaches another at once, without its poll", async function () {
    await requireRedis(this)
    const testDb = await createTestDatabase('sqlite')
    drop = testDb.drop
    root = mkdtempSync(join(tmpdir(), 'gantry-rl-pubsub-'))
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: testDb.url, redis: SERVICE_URLS.redis } } }))
    const workspace = loadWorkspace({ cwd: root })
    const open = async () => {
      const environment = resolveEnvironment(workspace, 'development', { GANTRY_AUTH_SECRET: randomBytes(48).toString('base64') })
      const runtime = await openRuntime({ workspace, environment })
      runtimes.push(runtime)
      return runtime
    }
    const [a, b] = [await open(), await open()]
    await workspaceMigrator(await a.database(), workspace.migrations, { actor: 'test' }).latest()
    const clock = manualClock()
    const servicesB = await b.services()
    let resolveSubscribed!: () => void
    const subscribed = new Promise<void>((resolve) => (resolveSubscribed = resolve))
    let off: (() => void) | undefined
    const live = await startLiveRules({
      source: servicesB.rateLimits,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      pollMs: NO_POLL,
      subscribe: (onChange) => {
        void b.subscribeRateLimitChanges(onChange).then((unsubscribe) => {
          off = unsubscribe
          resolveSubscribed()
        })
        return () => off?.()
      },
      onReloadError: (err) => expect.fail(String(err)),
    })
    lives.push(live)
    await subscribed
    const started = performance.now()
    await (await a.services()).rateLimits.set({ actor: 'local:test@host', permissions: ['*'] }, 'api', { match: '* /api/*', limit: 1, window: '1m' })
    await until(async () => (live.current().version === 1 ? true : undefined), 'the announcement reloads the rules', { timeoutMs: 2000, intervalMs: 10 })
    expect(performance.now() - started).to.be.below(1000)
  })
})

describe('onStoreError over HTTP, with the store down', function () {
  let s: TestServer
  let app: Express
  let live: LiveRules
  let dead: ReturnType<typeof deadStore>
  const storeErrors: string[] = []

  before(async function () {
    s = await createTestServer('sqlite' as Dialect)
    dead = deadStore()
    // The test server's app, rebuilt over a store that fails every call (its own app keeps a working one).
    live = await startLiveRules({
      source: s.services.rateLimits,
      store: dead,
      fallback: createMemoryStore({ clock: s.clock }),
      clock: s.clock,
      pollMs: NO_POLL,
      onReloadError: (err) => expect.fail(String(err)),
      onStoreError: (_err, rule) => storeErrors.push(rule),
    })
    app = createApp({
      environment: s.runtime.environment,
      services: s.services,
      rateLimits: live,
      observeDecision: () => undefined,
      logger: pino({ level: 'silent' }),
      clock: s.clock,
      version: '0.0.0-test',
      readiness: createReadinessProbe({ runtime: s.runtime, version: '0.0.0-test', clock: s.clock, failsClosed: live.failsClosed }),
      metrics: createMetrics({ defaults: false }),
      traffic: createTrafficRing(s.clock),
      draining: () => false,
    })
  })
  after(async () => {
    live?.close()
    await s?.cleanup()
  })

  const setRule = async (onStoreError: 'open' | 'closed' | 'local') => {
    await s.services.rateLimits.set({ actor: 'local:test@host', permissions: ['*'] }, 'guarded', {
      match: 'GET /api/v1/auth/me',
      limit: 2,
      window: '1m',
      onStoreError,
    })
    await live.refresh()
  }

  it('closed: 503 problem+json RATELIMIT_STORE_UNAVAILABLE with Retry-After, before authentication', async () => {
    await setRule('closed')
    expect(live.failsClosed()).to.equal(true)
    const res = await request(app).get('/api/v1/auth/me')
    expect(res.status).to.equal(503)
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
    expect(res.body).to.include({ status: 503, code: 'RATELIMIT_STORE_UNAVAILABLE' })
    expect(res.headers['retry-after']).to.equal('1')
    expect(storeErrors).to.include('guarded')
    // Other routes are not covered by the rule: they answer.
    expect(
      (
        await request(app)
          .get('/api/v1/admin/users')
          .set('Authorization', `Bearer ${await s.token('viewer')}`)
      ).status,
    ).to.equal(200)
  })

  it('open: admits every request unchecked (and the failure is reported)', async () => {
    await setRule('open')
    expect(live.failsClosed()).to.equal(false)
    const token = await s.token('viewer')
    const before = dead.calls
    for (let i = 0; i < 5; i++) {
      const res = await request(app).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`)
      expect(res.status).to.equal(200)
      expect(res.headers.ratelimit).to.equal(undefined) // nothing known to report
    }
    expect(dead.calls - before).to.equal(5)
  })

  it("local: decides from this instance's memory (the rule's figures hold)", async () => {
    await setRule('local')
    const token = await s.token('viewer')
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`)
      statuses.push(res.status)
      if (res.status === 429) {
        expect(res.body).to.include({ code: 'RATE_LIMITED' })
        expect(res.headers['retry-after']).to.equal('30')
        expect(res.headers.ratelimit).to.include('"guarded";r=0;t=30')
      } else {
        expect(res.headers.ratelimit).to.include('"guarded";r=')
      }
    }
    expect(statuses).to.deep.equal([200, 200, 429])
    s.clock.advance(30_000)
    expect((await request(app).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`)).status).to.equal(200)
  })
})
