/**
 * The session routes over HTTP: login, refresh (rotation and reuse), logout, me; and login throttling,
 * which answers before the password hash runs.
 */
import { expect } from 'chai'
import request from 'supertest'
import { USERS_TABLE } from '../../../src/core/users/users.repo.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { adminFixture, expectProblem, type AdminFixture } from '../../helpers/admin-fixture.js'

const WRONG = 'not the right passphrase'

for (const dialect of DIALECTS) {
  describe(`auth routes on ${dialect}`, function () {
    let server: TestServer
    let f: AdminFixture
    before(async function () {
      await requireDialect(this, dialect)
      // Lockout after 10 failures, so the throttle (5 at once per account) is what stops the 6th attempt.
      server = await createTestServer(dialect, { environment: { auth: { lockout: { maxFailures: 10 } } } })
      f = adminFixture(server)
    })
    after(async () => {
      await server?.cleanup()
    })

    const login = (email: string, password: string) => request(server.app).post('/api/v1/auth/login').send({ email, password })
    const refresh = (refreshToken: string) => request(server.app).post('/api/v1/auth/refresh').send({ refreshToken })
    const me = (headers: Record<string, string>) => request(server.app).get('/api/v1/auth/me').set(headers)
    const failures = async (email: string): Promise<number> => {
      const row = (await (await server.runtime.database()).knex(USERS_TABLE).where({ email }).first('failed_logins')) as { failed_logins: number | string }
      return Number(row.failed_logins)
    }
    /** The audit entries of refused logins of `email`'s account: [actor, ip, reason]. */
    const refusedLogins = async (email: string): Promise<Array<[string, string, string]>> => {
      const knex = (await server.runtime.database()).knex
      const user = (await knex(USERS_TABLE).where({ email }).first('id')) as { id: number }
      const rows = (await knex('gantry_audit_log')
        .where({ action: 'sessions.login-failed', target_id: String(user.id) })
        .orderBy('id')) as Array<Record<string, string>>
      return rows.map((r) => [r.actor, r.ip, (JSON.parse(r.after as string) as { reason: string }).reason] as [string, string, string])
    }

    it('logs in: an access token, a refresh token and when the access token expires', async () => {
      const res = await login(USERS.operator, PASSWORD)
      expect(res.status).to.equal(200)
      expect(res.body).to.have.keys('accessToken', 'refreshToken', 'expiresAt')
      expect(Date.parse(res.body.expiresAt)).to.be.greaterThan(server.clock.now())
      expect((await me({ Authorization: `Bearer ${res.body.accessToken}` })).status).to.equal(200)
      expect(JSON.stringify(server.logs)).to.not.include(PASSWORD).and.not.include(res.body.refreshToken)
    })

    it('a wrong password and an unknown email get the same answer', async () => {
      const wrong = await login('Admin@Example.com', WRONG)
      const unknown = await login('nobody@example.com', WRONG)
      for (const res of [wrong, unknown]) {
        expect(res.status).to.equal(401)
        expectProblem(res, 'INVALID_CREDENTIALS')
      }
      // Each answer names its own occurrence (requestId, instance); the rest is the same.
      const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined, instance: undefined })
      expect(strip(wrong.body)).to.deep.equal(strip(unknown.body))
    })

    it('refuses malformed login input, naming the fields', async () => {
      const res = await request(server.app).post('/api/v1/auth/login').send({ email: USERS.viewer, remember: true })
      expect(res.status).to.equal(400)
      expectProblem(res, 'INVALID_INPUT', ['password', 'remember'])
    })

    it('refresh rotates; the predecessor is refused without harm for 10 s, after which its reuse ends the family', async () => {
      const first = (await login(USERS.viewer, PASSWORD)).body as { refreshToken: string }
      const second = await refresh(first.refreshToken)
      expect(second.status).to.equal(200)
      expect(second.body.refreshToken).to.not.equal(first.refreshToken)
      // A lost answer or a racing client: refused, nothing revoked.
      expect((await refresh(first.refreshToken)).status).to.equal(401)
      const third = await refresh(second.body.refreshToken as string)
      expect(third.status).to.equal(200)
      // Past the window, reuse of a rotated token is theft: the whole family ends.
      server.clock.advance(11_000)
      const reused = await refresh(second.body.refreshToken as string)
      expect(reused.status).to.equal(401)
      expectProblem(reused, 'TOKEN_INVALID')
      expect((await refresh(third.body.refreshToken as string)).status).to.equal(401)
    })

    it('logout ends the session of a refresh token; an unknown token ends none', async () => {
      const session = (await login(USERS.viewer, PASSWORD)).body as { refreshToken: string }
      const out = await request(server.app).post('/api/v1/auth/logout').send({ refreshToken: session.refreshToken })
      expect(out.status).to.equal(200)
      expect(out.body.revoked).to.be.at.least(1)
      expect((await refresh(session.refreshToken)).status).to.equal(401)
      expect((await request(server.app).post('/api/v1/auth/logout').send({ refreshToken: 'grt_unknown' })).body).to.deep.equal({ revoked: 0 })
    })

    it('me describes a token and an API key (narrowed to its scopes); no credentials is 401', async () => {
      const byToken = await me(await f.headers('viewer'))
      expect(byToken.status).to.equal(200)
      expect(byToken.body).to.deep.include({ apiKeyId: null, permissions: ['*:read'] })
      expect(byToken.body.user.email).to.equal(USERS.viewer)
      expect(byToken.body.actor).to.equal(`user:${byToken.body.user.id}`)
      const key = await f.apiKey(['audit:read'], USERS.operator)
      const byKey = await me({ Authorization: `Bearer ${key.key}` })
      expect(byKey.body).to.deep.include({ actor: `apikey:${key.id}`, apiKeyId: key.id, permissions: ['audit:read'] })
      expect(byKey.body.user.email).to.equal(USERS.operator)
      const refused: Record<string, string>[] = [
        {},
        { Authorization: 'Basic abc' },
        { Authorization: 'Bearer not-a-token' },
        { 'X-API-Key': 'gk_development_x' },
      ]
      for (const headers of refused) {
        const res = await me(headers)
        expect(res.status, JSON.stringify(headers)).to.equal(401)
        expectProblem(res)
      }
    })

    it('throttles logins per account before the password is checked, then per address', async () => {
      const target = await f.user('throttled')
      for (let i = 0; i < 5; i++) expect((await login(target, WRONG)).status).to.equal(401)
      expect(await failures(target)).to.equal(5)

      // The 6th at once (in any letter case) is refused by the account rule before any hash or count.
      const throttled = await login(target.toUpperCase(), WRONG)
      expect(throttled.status).to.equal(429)
      // Each refusal is audited with the client's address; the throttled attempt never reached the check.
      const address = (await refusedLogins(target))[0]?.[1]
      expect(address).to.match(/127\.0\.0\.1$/)
      expect(await refusedLogins(target)).to.deep.equal(Array.from({ length: 5 }, () => ['anonymous', address, 'wrong-password']))
      expectProblem(throttled, 'RATE_LIMITED')
      expect(throttled.headers['retry-after']).to.equal('90') // 15 min / 10 logins
      expect(throttled.headers['ratelimit-policy']).to.include('"login-account";q=10;w=900')
      expect(throttled.headers.ratelimit).to.include('"login-account";r=0')
      expect(await failures(target)).to.equal(5)

      // Another account from the same address still logs in ...
      expect((await login(USERS.operator, PASSWORD)).status).to.equal(200)
      // ... until the address has had its 20 at once (7 so far, plus earlier tests' logins).
      let res = await login('someone-0@example.com', WRONG)
      for (let i = 1; res.status === 401 && i < 25; i++) res = await login(`someone-${i}@example.com`, WRONG)
      expect(res.status).to.equal(429)
      expect(res.headers.ratelimit).to.include('"login-ip";r=0')
      expect(Number(res.headers['retry-after'])).to.be.greaterThan(0)

      // Budgets come back with time: one login per 9 s for the address, per 90 s for the account.
      server.clock.advance(90_000)
      expect((await login(target, WRONG)).status).to.equal(401)
      expect(await failures(target)).to.equal(6)
    })
  })
}
