/**
 * What the admin API does to sessions already out there: disabling a user, setting their password or
 * revoking their sessions ends refresh tokens at once and access tokens within the session cache's second.
 */
import { expect } from 'chai'
import request from 'supertest'
import { createTestServer, USERS, type TestServer } from '../../helpers/server.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { adminFixture, expectProblem, local, type AdminFixture } from '../../helpers/admin-fixture.js'

const PASSWORD = 'a user passphrase of length'

for (const dialect of DIALECTS) {
  describe(`admin API and live sessions on ${dialect}`, function () {
    let server: TestServer
    let f: AdminFixture
    before(async function () {
      await requireDialect(this, dialect)
      server = await createTestServer(dialect)
      f = adminFixture(server)
    })
    after(async () => {
      await server?.cleanup()
    })

    /** A fresh user logged in over HTTP: its email and tokens. */
    async function loggedIn(prefix: string): Promise<{ email: string; accessToken: string; refreshToken: string }> {
      const email = await f.user(prefix)
      await server.services.users.setPassword(local, email, { password: PASSWORD })
      const login = await request(server.app).post('/api/v1/auth/login').send({ email, password: PASSWORD })
      expect(login.status).to.equal(200)
      return { email, ...login.body }
    }
    const me = (token: string) => request(server.app).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`)
    const refresh = (refreshToken: string) => request(server.app).post('/api/v1/auth/refresh').send({ refreshToken })
    const admin = async (method: 'post' | 'delete', path: string, body?: object) => {
      const agent = request(server.app)
      const req = agent[method](`/api/v1/admin${path}`).set(await f.headers('admin'))
      return body ? req.send(body) : req
    }

    it("a disabled user's access token stops within 1 s, its refresh token at once", async () => {
      const session = await loggedIn('disabled')
      expect((await me(session.accessToken)).status).to.equal(200) // the user's state is now cached
      expect((await admin('post', `/users/${session.email}/disable`)).status).to.equal(200)
      const refused = await refresh(session.refreshToken)
      expect(refused.status).to.equal(401)
      expectProblem(refused, 'TOKEN_INVALID')
      server.clock.advance(1001)
      const after = await me(session.accessToken)
      expect(after.status).to.equal(401)
      expectProblem(after, 'TOKEN_INVALID')
      // Enabling does not bring the old session back.
      expect((await admin('post', `/users/${session.email}/enable`)).status).to.equal(200)
      server.clock.advance(1001)
      expect((await me(session.accessToken)).status).to.equal(401)
    })

    it("revoking a user's sessions ends every refresh token at once and access tokens within 1 s", async () => {
      const first = await loggedIn('revoked')
      const second = await request(server.app).post('/api/v1/auth/login').send({ email: first.email, password: PASSWORD })
      expect((await me(first.accessToken)).status).to.equal(200)
      const revoked = await admin('delete', `/users/${first.email}/sessions`)
      expect(revoked.status).to.equal(200)
      expect(revoked.body).to.deep.equal({ user: first.email, refreshTokensRevoked: 2 })
      for (const token of [first.refreshToken, second.body.refreshToken as string]) expect((await refresh(token)).status).to.equal(401)
      server.clock.advance(1001)
      expect((await me(first.accessToken)).status).to.equal(401)
      expect((await me(second.body.accessToken as string)).status).to.equal(401)
      // A new login works again.
      expect((await request(server.app).post('/api/v1/auth/login').send({ email: first.email, password: PASSWORD })).status).to.equal(200)
    })

    it('setting a password ends the sessions too; the new password logs in', async () => {
      const session = await loggedIn('repassword')
      const set = await admin('post', `/users/${session.email}/password`, { password: 'a brand new passphrase' })
      expect(set.status).to.equal(200)
      expect(set.body).to.have.keys('user')
      expect((await refresh(session.refreshToken)).status).to.equal(401)
      server.clock.advance(1001)
      expect((await me(session.accessToken)).status).to.equal(401)
      const login = await request(server.app).post('/api/v1/auth/login').send({ email: session.email, password: 'a brand new passphrase' })
      expect(login.status).to.equal(200)
    })

    it('a script token stops with its user: disabled within 1 s', async () => {
      const email = await f.user('script')
      const issued = await admin('post', `/users/${email}/tokens`, { ttl: '10m' })
      expect(issued.status).to.equal(201)
      expect((await me(issued.body.token as string)).status).to.equal(200)
      await server.services.users.disable(local, email)
      server.clock.advance(1001)
      expect((await me(issued.body.token as string)).status).to.equal(401)
    })

    it("an API key stops with its owner's role: scopes narrow to what the owner holds now", async () => {
      const email = await f.user('keyowner', 'operator')
      const { key } = await f.apiKey(['users:read', 'apikeys:write'], email)
      const scoped = await request(server.app).get('/api/v1/auth/me').set('X-API-Key', key)
      expect(scoped.body.permissions).to.deep.equal(['users:read', 'apikeys:write'])
      await server.services.users.update(local, email, { role: 'viewer' })
      const narrowed = await request(server.app).post('/api/v1/admin/api-keys').set('X-API-Key', key).send({ name: 'x', owner: USERS.viewer })
      expect(narrowed.status).to.equal(403)
      expectProblem(narrowed, 'FORBIDDEN')
    })

    it('under HS256 the signing-key routes say EdDSA is needed', async () => {
      for (const [method, path] of [
        ['get', '/signing-keys'],
        ['post', '/signing-keys/rotate'],
      ] as const) {
        const agent = request(server.app)
        const res = await agent[method](`/api/v1/admin${path}`).set(await f.headers('admin'))
        expect(res.status).to.equal(400)
        expectProblem(res, 'INVALID_INPUT')
        expect(res.body.hint).to.include('"algorithm": "EdDSA"')
      }
    })
  })
}
