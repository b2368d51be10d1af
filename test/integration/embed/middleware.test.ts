/**
 * createGantry's middleware in an app of the test's own (fixture.ts), on SQLite with the memory store and on
 * MariaDB with Redis: who may call which route (built-in roles, a custom role granted the app's own
 * permission, API key scopes), revocation within a second, the rules managed with `gantry ratelimit` on the
 * app's routes (live changes within a second), readiness with the app's own check, and the metrics and
 * shared counts the decisions land in. Changes are made the operator's way: through the services of a
 * second runtime over the same workspace.
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import request from 'supertest'
import type { Dialect } from '../../../src/db/url.js'
import type { GantryCaller } from '../../../src/index.js'
import { rejection } from '../../helpers/rejection.js'
import { until } from '../../helpers/serve-process.js'
import { requireDialect, requireRedis } from '../../helpers/services.js'
import { pino } from 'pino'
import { ctx, embedFixture, library, PASSWORD, USERS, type EmbedFixture } from './fixture.js'

const BACKENDS: readonly { dialect: Dialect; redis: boolean }[] = [
  { dialect: 'sqlite', redis: false },
  { dialect: 'mysql', redis: true },
]

/** A rule name of this run only: the shared Redis keeps budgets by rule name. */
const ruleName = (what: string): string => `embed-${what}-${randomBytes(3).toString('hex')}`

const silent = pino({ level: 'silent' })
const bearer = (credential: string): Record<string, string> => ({ Authorization: `Bearer ${credential}` })

function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status, res.text).to.equal(status)
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
  expect(JSON.parse(res.text)).to.include({ status, code })
}

for (const { dialect, redis } of BACKENDS) {
  describe(`createGantry middleware on ${dialect} + ${redis ? 'Redis' : 'memory'}`, function () {
    let f: EmbedFixture
    let lib: Awaited<ReturnType<typeof library>>
    const callerOf = (res: request.Response): GantryCaller => (res.body as { caller: GantryCaller }).caller

    before(async function () {
      await requireDialect(this, dialect)
      if (redis) await requireRedis(this)
      f = await embedFixture(dialect, { redis })
      lib = await library()
    })
    after(async () => {
      await f?.cleanup()
    })

    describe('authenticate and requirePermission', () => {
      it('no credentials or a bad one: 401 problem+json with WWW-Authenticate', async () => {
        const none = await request(f.app).get('/orders')
        expectProblem(none, 401, 'UNAUTHENTICATED')
        expect(none.headers['www-authenticate']).to.equal('Bearer realm="gantry"')
        expectProblem(await request(f.app).get('/orders').set(bearer('not.a.token')), 401, 'TOKEN_INVALID')
        expectProblem(await request(f.app).get('/orders').set('Authorization', 'Basic abc'), 401, 'UNAUTHENTICATED')
      })

      it('built-in roles: viewer reads, operator reads and holds ratelimits:write, neither writes orders', async () => {
        const viewer = await f.token('viewer')
        const operator = await f.token('operator')
        const read = await request(f.app).get('/orders').set(bearer(viewer))
        expect(read.status, read.text).to.equal(200)
        const user = await f.services.users.get(ctx, USERS.viewer)
        expect(callerOf(read)).to.deep.include({ actor: `user:${user.id}`, userId: user.id, permissions: ['*:read'] })

        const write = await request(f.app).post('/orders').set(bearer(viewer))
        expectProblem(write, 403, 'FORBIDDEN')
        expect(JSON.parse(write.text)).to.include({ required: 'orders:write', detail: 'This needs the orders:write permission.' })
        expectProblem(await request(f.app).post('/orders').set(bearer(operator)), 403, 'FORBIDDEN')
        expectProblem(await request(f.app).get('/admin/limits').set(bearer(viewer)), 403, 'FORBIDDEN')
        expect((await request(f.app).get('/admin/limits').set(bearer(operator))).status).to.equal(200)
        expect(
          (
            await request(f.app)
              .post('/orders')
              .set(bearer(await f.token('admin')))
          ).status,
        ).to.equal(200)
      })

      it("a custom role granted the app's own permission: packer writes orders, and only that", async () => {
        const packer = await f.token('packer')
        const write = await request(f.app).post('/orders').set(bearer(packer))
        expect(write.status, write.text).to.equal(200)
        expect(callerOf(write).permissions).to.deep.equal(['orders:write'])
        const read = await request(f.app).get('/orders').set(bearer(packer))
        expectProblem(read, 403, 'FORBIDDEN')
        expect(JSON.parse(read.text)).to.include({ required: 'orders:read' })
      })

      it('optional: anonymous callers pass, a presented credential is still checked', async () => {
        const anonymous = await request(f.app).get('/public')
        expect(anonymous.status).to.equal(200)
        expect(callerOf(anonymous)).to.deep.include({ actor: 'anonymous', permissions: [] })
        const known = await request(f.app)
          .get('/public')
          .set(bearer(await f.token('viewer')))
        expect(callerOf(known).actor).to.match(/^user:\d+$/)
        expectProblem(await request(f.app).get('/public').set(bearer('not.a.token')), 401, 'TOKEN_INVALID')
      })

      it('requirePermission checks the name at setup against the declared list and Gantry’s own', async () => {
        const typo = (() => {
          try {
            f.gantry.requirePermission('orders:wirte')
          } catch (err) {
            return err
          }
          return undefined
        })()
        expect(typo).to.be.instanceOf(lib.GantryError)
        expect(typo).to.include({ code: 'INVALID_INPUT' })
        expect((typo as Error).message).to.include('orders:wirte')
        expect(() => f.gantry.requirePermission('orders:*')).to.throw(lib.GantryError, /orders:\*/)
        expect(() => f.gantry.requirePermission('users:read')).not.to.throw()
        await rejection(lib.createGantry({ cwd: f.root, env: 'development', permissions: ['Orders:Write'], logger: silent })).then((err) =>
          expect(err.code).to.equal('INVALID_INPUT'),
        )
        // Without a declared list any concrete name is taken.
        const open = await lib.createGantry({ cwd: f.root, env: 'development', logger: silent })
        try {
          expect(() => open.requirePermission('orders:wirte')).not.to.throw()
        } finally {
          await open.close()
        }
      })

      it('a disabled user is refused within 1 s', async () => {
        const email = `leaver-${randomBytes(3).toString('hex')}@example.com`
        await f.services.users.create(ctx, { email, role: 'viewer', password: PASSWORD })
        const token = (await f.services.sessions.login(email, PASSWORD, ctx)).accessToken
        expect((await request(f.app).get('/orders').set(bearer(token))).status).to.equal(200)
        expect((await f.gantry.verifyAccessToken(token)).actor).to.match(/^user:/)
        await f.services.users.disable(ctx, email)
        const disabledAt = performance.now()
        await until(async () => ((await request(f.app).get('/orders').set(bearer(token))).status === 401 ? true : undefined), 'the token is refused', {
          timeoutMs: 3000,
          intervalMs: 20,
        })
        expect(performance.now() - disabledAt).to.be.below(1250)
        expect((await rejection(f.gantry.verifyAccessToken(token))).code).to.equal('TOKEN_INVALID')
      })
    })

    describe('API keys', () => {
      it('scopes decide, not the owner’s role; verifyApiKey takes only keys', async () => {
        const reader = await f.services.apikeys.create(ctx, { name: 'orders reader', owner: USERS.operator, scopes: ['orders:read'] })
        const packer = await f.services.apikeys.create(ctx, { name: 'packing robot', owner: USERS.packer })
        const machine = await request(f.app).get('/machine').set('X-API-Key', reader.key)
        expect(machine.status, machine.text).to.equal(200)
        const operator = await f.services.users.get(ctx, USERS.operator)
        expect(callerOf(machine)).to.deep.include({
          actor: `apikey:${reader.apiKey.id}`,
          apiKeyId: reader.apiKey.id,
          userId: operator.id,
          permissions: ['orders:read'],
        })
        // The operator may write rate limits; its key, scoped to orders:read, may not.
        expectProblem(await request(f.app).get('/admin/limits').set(bearer(reader.key)), 403, 'FORBIDDEN')
        expect((await request(f.app).post('/orders').set(bearer(packer.key))).status).to.equal(200)
        expectProblem(await request(f.app).get('/machine').set(bearer(packer.key)), 403, 'FORBIDDEN')
        // An access token is no API key.
        expectProblem(
          await request(f.app)
            .get('/machine')
            .set(bearer(await f.token('admin'))),
          401,
          'APIKEY_INVALID',
        )
        expectProblem(await request(f.app).get('/machine'), 401, 'UNAUTHENTICATED')
        // A mistyped key never reaches the database; a revoked one is refused.
        // (Its last character changed: to x unless it already is one, which 1 key in 62 ends with.)
        const mistyped = `${reader.key.slice(0, -1)}${reader.key.endsWith('x') ? 'y' : 'x'}`
        expectProblem(await request(f.app).get('/machine').set('X-API-Key', mistyped), 401, 'APIKEY_INVALID')
        await f.services.apikeys.revoke(ctx, reader.apiKey.id)
        await until(
          async () => ((await request(f.app).get('/machine').set('X-API-Key', reader.key)).status === 401 ? true : undefined),
          'the revoked key is refused',
          { timeoutMs: 3000, intervalMs: 20 },
        )
      })

      it('plain functions: checkApiKey and verifyAccessToken, each refusing the other kind', async () => {
        const { key, apiKey } = await f.services.apikeys.create(ctx, { name: 'plain', owner: USERS.viewer, scopes: ['orders:read'] })
        const token = await f.token('viewer')
        expect(await f.gantry.checkApiKey(key, '203.0.113.9')).to.deep.include({
          actor: `apikey:${apiKey.id}`,
          ip: '203.0.113.9',
          permissions: ['orders:read'],
        })
        expect((await f.gantry.verifyAccessToken(token)).permissions).to.deep.equal(['*:read'])
        expect((await rejection(f.gantry.checkApiKey(token))).code).to.equal('APIKEY_INVALID')
        expect((await rejection(f.gantry.verifyAccessToken(key))).code).to.equal('TOKEN_INVALID')
      })
    })

    describe('rateLimit', () => {
      it("ip rules on the app's routes (inside a router too): RateLimit headers, then 429 problem+json", async () => {
        const name = ruleName('ip')
        await f.services.rateLimits.set(ctx, name, { match: 'GET /v2/orders/*', key: 'ip', limit: 1, window: '1m', burst: 1 })
        const token = await f.token('viewer')
        await until(async () => ((await request(f.app).get('/v2/orders/ping').set(bearer(token))).status === 429 ? true : undefined), 'the rule is in force', {
          timeoutMs: 3000,
          intervalMs: 20,
        })
        const refused = await request(f.app).get('/v2/orders/ping').set(bearer(token))
        expectProblem(refused, 429, 'RATE_LIMITED')
        expect(refused.headers['retry-after']).to.match(/^\d+$/)
        expect(refused.headers['ratelimit-policy']).to.include(`"${name}"`)
        // Refused before authentication: a caller without credentials is refused the same way.
        expectProblem(await request(f.app).get('/v2/orders/ping'), 429, 'RATE_LIMITED')
        await f.services.rateLimits.remove(ctx, name)
      })

      it('user rules apply once authenticate() knows the caller, though rateLimit() ran first', async () => {
        const name = ruleName('user')
        await f.services.rateLimits.set(ctx, name, { match: 'GET /orders', key: 'user', limit: 2, window: '1m', burst: 2 })
        const viewer = await f.token('viewer')
        const admin = await f.token('admin')
        // Within a second the rule is in force (an announcement on Redis; the poll without it).
        const setAt = performance.now()
        await until(
          async () => ((await request(f.app).get('/orders').set(bearer(viewer))).headers['ratelimit-policy']?.includes(name) ? true : undefined),
          'the new rule reaches the app',
          { timeoutMs: 3000, intervalMs: 20 },
        )
        expect(performance.now() - setAt).to.be.below(redis ? 1000 : 1250)
        const statuses: number[] = []
        for (let i = 0; i < 2; i++) statuses.push((await request(f.app).get('/orders').set(bearer(viewer))).status)
        expect(statuses).to.deep.equal([200, 429])
        // Another user has a budget of its own.
        expect((await request(f.app).get('/orders').set(bearer(admin))).status).to.equal(200)

        const metrics = await f.gantry.metrics.metrics()
        expect(metrics).to.match(new RegExp(`gantry_ratelimit_decisions_total\\{rule="${name}",result="refused"\\} 1`))
        expect(metrics).to.match(new RegExp(`gantry_ratelimit_decisions_total\\{rule="${name}",result="admitted"\\} 3`))
        await f.services.rateLimits.remove(ctx, name)
      })

      it('checkRateLimit decides like the middleware, and its counts reach `gantry ratelimit list`', async () => {
        const name = ruleName('plain')
        await f.services.rateLimits.set(ctx, name, { match: 'POST /jobs', key: 'apiKey', limit: 1, window: '1m', burst: 1 })
        // A Gantry of its own, closed at the end: close() saves its counts.
        const other = await lib.createGantry({ cwd: f.root, env: 'development', logger: silent })
        const subject = { method: 'POST', path: '/jobs/', ip: '203.0.113.4', apiKey: 'k1' }
        const decisions = [await other.checkRateLimit(subject), await other.checkRateLimit(subject), await other.checkRateLimit({ ...subject, apiKey: 'k2' })]
        expect(decisions.map((d) => [d.allowed, d.rule])).to.deep.equal([
          [true, name],
          [false, name],
          [true, name],
        ])
        expect(decisions[1]?.retryAfterSeconds).to.be.a('number')
        await other.close()
        const listed = (await f.services.rateLimits.list(ctx)).data.find((r) => r.name === name)
        expect(listed?.counts).to.include({ admitted: 2, refused: 1 })
        await f.services.rateLimits.remove(ctx, name)
      })
    })

    describe('readiness', () => {
      it("Gantry's checks and the app's own: 200 while they pass, 503 when the app's fails or hangs", async () => {
        const pass = await request(f.app).get('/ready')
        expect(pass.status, pass.text).to.equal(200)
        expect(pass.headers['content-type']).to.match(/^application\/health\+json/)
        const body = JSON.parse(pass.text) as { status: string; checks: Record<string, { status: string; output?: string }[]> }
        expect(Object.keys(body.checks)).to.include.members(['database:responseTime', 'migrations:status', 'redis:responseTime', 'orders-queue:status'])
        expect(body.checks['orders-queue:status']?.[0]?.status).to.equal('pass')

        f.appCheck.fail = true
        const fail = await request(f.app).get('/ready')
        expect(fail.status).to.equal(503)
        const failed = JSON.parse(fail.text) as typeof body
        expect(failed.status).to.equal('fail')
        // The cause stays in the app: readiness is public.
        expect(failed.checks['orders-queue:status']?.[0]).to.include({ status: 'fail', output: 'unavailable (error)' })
        expect(failed.checks['database:responseTime']?.[0]?.status).to.equal('pass')

        f.appCheck.hang = true
        const started = performance.now()
        const hung = await request(f.app).get('/ready')
        expect(hung.status).to.equal(503)
        expect(performance.now() - started).to.be.within(900, 2000)
        f.appCheck.hang = false
        f.appCheck.fail = false
        expect((await request(f.app).get('/ready')).status).to.equal(200)
      })
    })

    it('errors(): a GantryError the app throws becomes problem+json', async () => {
      const { default: express } = await import('express')
      const outer = express()
      outer.get('/boom', () => {
        throw new lib.GantryError('USER_NOT_FOUND', 'No user like that.')
      })
      outer.use(f.gantry.errors())
      expectProblem(await request(outer).get('/boom'), 404, 'USER_NOT_FOUND')
    })
  })
}
