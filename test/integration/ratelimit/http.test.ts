/**
 * Rate-limit rules over HTTP, set through /api/v1/admin/rate-limits and enforced by the same app: who may
 * change them, and where each key is checked — ip and global rules at the edge (before authentication),
 * user and apiKey rules once the caller is known. The clock is manual, so budgets refill only when a test
 * says; each test uses rules and paths of its own. Reloads are refresh(), not the 1 s poll.
 */
import { expect } from 'chai'
import request, { type Response } from 'supertest'
import { localContext } from '../../../src/core/context.js'
import type { Dialect } from '../../../src/db/url.js'
import { createTestServer, USERS, type TestServer } from '../../helpers/server.js'
import { requireDialect } from '../../helpers/services.js'

const BASE = '/api/v1/admin/rate-limits'
const local = localContext('local:test@host')

/** A refusal: 429 problem+json RATE_LIMITED naming the rule, with Retry-After and the RateLimit fields. */
function expectRefused(res: Response, rule: string, retryAfter: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(429)
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
  expect(res.body).to.deep.include({ status: 429, code: 'RATE_LIMITED' })
  expect(res.headers['retry-after']).to.equal(retryAfter)
  expect(res.headers['ratelimit-policy']).to.include(`"${rule}";`)
  expect(res.headers.ratelimit).to.include(`"${rule}";r=0;t=${retryAfter}`)
}

for (const dialect of ['sqlite', 'mysql'] as const satisfies readonly Dialect[]) {
  describe(`rate-limit rules over HTTP on ${dialect}`, function () {
    let s: TestServer
    const tokens: Record<string, string> = {}
    const auth = (role: keyof typeof USERS) => ({ Authorization: `Bearer ${tokens[role]}` })

    before(async function () {
      await requireDialect(this, dialect)
      s = await createTestServer(dialect)
      for (const role of Object.keys(USERS) as (keyof typeof USERS)[]) tokens[role] = await s.token(role)
    })
    after(async () => {
      await s?.cleanup()
    })

    it('an operator changes rules and overrides (ratelimits:write); a viewer only reads', async () => {
      const rule = { match: 'GET /api/v1/nothing-here/*', limit: 5, window: '1m' }
      const viewer = [
        await request(s.app).put(`${BASE}/rules/by-viewer`).set(auth('viewer')).send(rule),
        await request(s.app).delete(`${BASE}/rules/by-viewer`).set(auth('viewer')),
        await request(s.app).post(`${BASE}/apply`).set(auth('viewer')).send({ rules: [], prune: true }),
        await request(s.app).put(`${BASE}/overrides`).set(auth('viewer')).send({ subject: 'ip:192.0.2.1', block: true }),
        await request(s.app).delete(`${BASE}/overrides`).set(auth('viewer')).query({ subject: 'ip:192.0.2.1' }),
      ]
      for (const res of viewer) {
        expect(res.status).to.equal(403)
        expect(res.body).to.deep.include({ code: 'FORBIDDEN' })
      }
      expect((await request(s.app).get(BASE).set(auth('viewer'))).status).to.equal(200)
      expect((await request(s.app).get(`${BASE}/export`).set(auth('viewer'))).body).to.deep.equal({ rules: [] })
      expect((await request(s.app).post(`${BASE}/test`).set(auth('viewer')).send({ path: '/api/v1/nothing-here/x' })).status).to.equal(200)

      const put = await request(s.app).put(`${BASE}/rules/by-operator`).set(auth('operator')).send(rule)
      expect(put.status, JSON.stringify(put.body)).to.equal(200)
      expect(put.body).to.deep.include({ name: 'by-operator', match: 'GET /api/v1/nothing-here/*', burst: 5, source: 'database' })
      const blocked = await request(s.app).put(`${BASE}/overrides`).set(auth('operator')).send({ subject: 'ip:192.0.2.1', rule: 'by-operator', block: true })
      expect(blocked.status).to.equal(200)
      const listed = await request(s.app).get(BASE).set(auth('viewer'))
      expect(listed.body.data.map((r: { name: string }) => r.name)).to.deep.equal([
        'login-ip',
        'login-account',
        'oauth-token-ip',
        'oauth-token-client',
        'by-operator',
      ])
      expect(listed.body.overrides.map((o: { subject: string }) => o.subject)).to.deep.equal(['ip:192.0.2.1'])
      const tested = await request(s.app).post(`${BASE}/test`).set(auth('viewer')).send({ path: '/api/v1/nothing-here/x', ip: '192.0.2.1' })
      expect(tested.body).to.deep.include({ allowed: false, decidedBy: 'by-operator' })
      expect(tested.body.steps.find((step: { rule: string }) => step.rule === 'by-operator')).to.deep.include({ override: 'blocked', wouldAdmit: false })
      expect((await request(s.app).delete(`${BASE}/rules/by-operator`).set(auth('operator'))).status).to.equal(200)
      // Its overrides went with it.
      expect((await request(s.app).get(BASE).set(auth('viewer'))).body.overrides).to.deep.equal([])
      expect((await request(s.app).delete(`${BASE}/rules/by-operator`).set(auth('operator'))).body).to.deep.include({
        status: 404,
        code: 'RATELIMIT_RULE_NOT_FOUND',
      })
    })

    it('a rule keyed on `user` is checked after authentication: each user has a budget of their own', async () => {
      const res = await request(s.app)
        .put(`${BASE}/rules/per-user`)
        .set(auth('admin'))
        .send({ match: 'GET /api/v1/auth/me', key: 'user', limit: 2, window: '1m' })
      expect(res.status).to.equal(200)
      await s.rateLimits.refresh()
      const me = (role: keyof typeof USERS) => request(s.app).get('/api/v1/auth/me').set(auth(role))
      const first = await me('viewer')
      expect(first.status).to.equal(200)
      expect(first.headers['ratelimit-policy']).to.equal('"per-user";q=2;w=60')
      expect(first.headers.ratelimit).to.equal('"per-user";r=1;t=30')
      expect((await me('viewer')).status).to.equal(200)
      expectRefused(await me('viewer'), 'per-user', '30')
      // Another user, from the same address: a budget of their own.
      for (let i = 0; i < 2; i++) expect((await me('operator')).status).to.equal(200)
      expectRefused(await me('operator'), 'per-user', '30')
      // No user, no user rule: an anonymous caller is answered by authentication.
      const anonymous = await request(s.app).get('/api/v1/auth/me')
      expect(anonymous.status).to.equal(401)
      expect(anonymous.headers.ratelimit).to.equal(undefined)

      // A block of one user by email; the others keep their budget.
      await request(s.app)
        .put(`${BASE}/overrides`)
        .set(auth('admin'))
        .send({ subject: `user:${USERS.admin}`, rule: 'per-user', block: true })
        .expect(200)
      await s.rateLimits.refresh()
      const blocked = await me('admin')
      expect(blocked.status).to.equal(429)
      expect(blocked.headers['retry-after']).to.equal('3600')
      s.clock.advance(30_000)
      expect((await me('viewer')).status).to.equal(200)
      await request(s.app).delete(`${BASE}/rules/per-user`).set(auth('admin')).expect(200)
      await s.rateLimits.refresh()
      expect((await me('admin')).status).to.equal(200)
    })

    it('a rule keyed on `apiKey` counts each key by its id, not its owner', async () => {
      const key = async (name: string) => {
        const created = await s.services.apikeys.create(local, { name, owner: USERS.viewer })
        return { id: created.apiKey.id, headers: { 'X-API-Key': created.key } }
      }
      const [one, two] = [await key('rl-one'), await key('rl-two')]
      await request(s.app)
        .put(`${BASE}/rules/per-key`)
        .set(auth('admin'))
        .send({ match: 'GET /api/v1/auth/me', key: 'apiKey', limit: 1, window: '1m' })
        .expect(200)
      await s.rateLimits.refresh()
      const me = (headers: Record<string, string>) => request(s.app).get('/api/v1/auth/me').set(headers)
      expect((await me(one.headers)).status).to.equal(200)
      expectRefused(await me(one.headers), 'per-key', '60')
      expect((await me(two.headers)).status).to.equal(200)
      // The owner with a token has no key: the rule does not apply.
      for (let i = 0; i < 3; i++) expect((await me(auth('viewer'))).status).to.equal(200)
      // An override by key id: that key gets its own figures (the key's spent budget carries over into them,
      // as GCRA keeps one TAT per key: a burst of 200 at 100/min covers the minute already spent).
      await request(s.app)
        .put(`${BASE}/overrides`)
        .set(auth('admin'))
        .send({ subject: `apikey:${one.id}`, rule: 'per-key', limit: 100, window: '1m', burst: 200 })
        .expect(200)
      await s.rateLimits.refresh()
      for (let i = 0; i < 5; i++) expect((await me(one.headers)).status).to.equal(200)
      expectRefused(await me(two.headers), 'per-key', '60')
      await request(s.app).delete(`${BASE}/rules/per-key`).set(auth('admin')).expect(200)
      await s.rateLimits.refresh()
    })

    it('an answer lists every enforced rule it met, edge and caller alike; the refusing one sets Retry-After', async () => {
      await s.services.rateLimits.set(local, 'combo-ip', { match: 'GET /api/v1/admin/roles', limit: 10, window: '1m' })
      await s.services.rateLimits.set(local, 'combo-user', { match: 'GET /api/v1/admin/roles', key: 'user', limit: 1, window: '1m' })
      await s.rateLimits.refresh()
      const roles = () => request(s.app).get('/api/v1/admin/roles').set(auth('viewer'))
      const ok = await roles()
      expect(ok.status).to.equal(200)
      expect(ok.headers['ratelimit-policy']).to.equal('"combo-ip";q=10;w=60, "combo-user";q=1;w=60')
      expect(ok.headers.ratelimit).to.equal('"combo-ip";r=9;t=6, "combo-user";r=0;t=60')
      const refused = await roles()
      expectRefused(refused, 'combo-user', '60')
      expect(refused.headers.ratelimit).to.equal('"combo-ip";r=8;t=12, "combo-user";r=0;t=60')
      await s.services.rateLimits.apply(local, { rules: [], prune: true })
      await s.rateLimits.refresh()
    })

    it('ip rules still run before authentication: an unauthenticated flood gets 429 before any 401', async () => {
      await request(s.app).put(`${BASE}/rules/admin-by-ip`).set(auth('admin')).send({ match: '* /api/v1/admin/users*', limit: 3, window: '1m' }).expect(200)
      await s.rateLimits.refresh()
      const statuses: number[] = []
      let last: Response | undefined
      for (let i = 0; i < 5; i++) {
        last = await request(s.app).get('/api/v1/admin/users').set('Authorization', 'Bearer not-a-token')
        statuses.push(last.status)
        expect(last.headers['ratelimit-policy']).to.equal('"admin-by-ip";q=3;w=60')
      }
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429])
      expectRefused(last as Response, 'admin-by-ip', '20')
      // The same address with valid credentials is refused too: the budget is the address's.
      expect((await request(s.app).get('/api/v1/admin/users').set(auth('admin'))).status).to.equal(429)
      // A path the rule does not cover, and health, are not counted.
      expect((await request(s.app).get('/api/v1/auth/me').set(auth('admin'))).status).to.equal(200)
      s.clock.advance(20_000)
      expect((await request(s.app).get('/api/v1/admin/users').set(auth('admin'))).status).to.equal(200)
      await s.services.rateLimits.remove(local, 'admin-by-ip')
      await s.rateLimits.refresh()
    })
  })
}
