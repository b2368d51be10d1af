/**
 * Maintenance mode through the admin API: once on, every route but health, auth, admin and metrics
 * answers 503 problem+json with Retry-After; off again, they answer as before.
 */
import { expect } from 'chai'
import request from 'supertest'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { adminFixture, expectProblem, local, type AdminFixture } from '../../helpers/admin-fixture.js'

for (const dialect of DIALECTS) {
  describe(`maintenance mode over HTTP on ${dialect}`, function () {
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

    it('on: other routes answer 503 with Retry-After; health, auth, admin and metrics still answer; off: back', async () => {
      const admin = await f.headers('admin')
      const on = await request(server.app).put('/api/v1/admin/maintenance').set(admin).send({ retryAfter: 300, message: 'Back at 14:10 UTC' })
      expect(on.status).to.equal(200)

      const closed = await request(server.app).get('/api/v1/widgets')
      expect(closed.status).to.equal(503)
      expectProblem(closed, 'MAINTENANCE')
      expect(closed.headers['retry-after']).to.equal('300')
      expect(closed.body.detail).to.equal('Back at 14:10 UTC')

      const open: [string, Promise<{ status: number }>][] = [
        ['health', request(server.app).get('/api/health')],
        ['metrics', request(server.app).get('/metrics')],
        ['login', request(server.app).post('/api/v1/auth/login').send({ email: USERS.viewer, password: PASSWORD })],
        ['me', request(server.app).get('/api/v1/auth/me').set(admin)],
        ['admin users', request(server.app).get('/api/v1/admin/users').set(admin)],
        [
          'admin maintenance',
          request(server.app)
            .get('/api/v1/admin/maintenance')
            .set(await f.headers('viewer')),
        ],
      ]
      for (const [name, res] of open) expect((await res).status, name).to.equal(200)

      const off = await request(server.app).delete('/api/v1/admin/maintenance').set(admin)
      expect(off.body).to.include({ enabled: false })
      server.clock.advance(1001)
      const back = await request(server.app).get('/api/v1/widgets')
      expect(back.status).to.equal(404)
      expectProblem(back, 'ROUTE_NOT_FOUND')
    })

    it('the OpenAPI document and the JWKS route stay served too, like health', async () => {
      await server.services.maintenance.on(local, { retryAfter: 60 })
      server.clock.advance(1001)
      try {
        expect((await request(server.app).get('/api/v1/widgets')).status).to.equal(503)
        const openapi = await request(server.app).get('/api/openapi.json')
        expect(openapi.status).to.equal(200)
        expect(openapi.body.openapi).to.match(/^3\.1\./)
        // Under HS256 there are no keys to publish: its own 404, not the maintenance 503.
        const jwks = await request(server.app).get('/.well-known/jwks.json')
        expect(jwks.status).to.equal(404)
        expectProblem(jwks, 'ROUTE_NOT_FOUND')
      } finally {
        await server.services.maintenance.off(local)
        server.clock.advance(1001)
      }
    })

    it('turned on from the CLI side (the services), the server answers 503 within a second', async () => {
      await server.services.maintenance.on(local, { retryAfter: 60 })
      server.clock.advance(1001)
      const closed = await request(server.app).get('/api/v1/widgets')
      expect(closed.status).to.equal(503)
      expect(closed.headers['retry-after']).to.equal('60')
      await server.services.maintenance.off(local)
      server.clock.advance(1001)
      expect((await request(server.app).get('/api/v1/widgets')).status).to.equal(404)
    })

    it('an operator turns it on and off; a viewer only reads it', async () => {
      const viewer = await request(server.app)
        .put('/api/v1/admin/maintenance')
        .set(await f.headers('viewer'))
        .send({})
      expect(viewer.status).to.equal(403)
      expectProblem(viewer, 'FORBIDDEN')
      const operator = await f.headers('operator')
      expect((await request(server.app).put('/api/v1/admin/maintenance').set(operator).send({})).body).to.include({ enabled: true, retryAfter: 120 })
      expect((await request(server.app).delete('/api/v1/admin/maintenance').set(operator)).body).to.include({ enabled: false })
      const audit = await server.services.audit.list(local, { action: 'maintenance.off', limit: 1 })
      expect(audit.data[0]?.actor).to.match(/^user:\d+$/)
    })
  })
}
