/**
 * The server over a database whose Gantry migrations have not run: the auth and admin routes answer what
 * the local CLI says (GANTRY_SCHEMA_MISSING, the command that creates the tables) as a 503 problem, with no
 * SQL and no driver text; the driver's error goes to the log. Each dialect words "no such table" its own way.
 */
import { expect } from 'chai'
import request, { type Response, type Test } from 'supertest'
import { generateApiKey } from '../../../src/core/apikeys/apikey-format.js'
import { PASSWORD, USERS, createTestServer, type TestServer } from '../../helpers/server.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { expectProblem } from '../../helpers/admin-fixture.js'

/** What each dialect's "no such table" and its SQL look like: none of it may reach the caller. */
const DRIVER_TEXT = /select|from `|no such table|doesn't exist|does not exist|relation|SQLITE|ER_NO_SUCH|42P01/i

for (const dialect of DIALECTS) {
  describe(`server over a database without Gantry's tables (${dialect}): 503 GANTRY_SCHEMA_MISSING, the next step, no driver text`, function () {
    this.timeout(30_000)
    let s: TestServer
    before(async function () {
      await requireDialect(this, dialect)
      s = await createTestServer(dialect, { migrated: false })
    })
    after(async () => {
      await s?.cleanup()
    })

    // A well-formed key (its check is valid) gets past the format check to the lookup, which needs the tables.
    const apiKey = generateApiKey('development').key
    const calls: readonly [string, () => Test][] = [
      ['POST /api/v1/auth/login', () => request(s.app).post('/api/v1/auth/login').send({ email: USERS.admin, password: PASSWORD })],
      [
        'POST /api/v1/auth/refresh',
        () =>
          request(s.app)
            .post('/api/v1/auth/refresh')
            .send({ refreshToken: `grt_${'a'.repeat(32)}` }),
      ],
      ['GET /api/v1/auth/me with an API key', () => request(s.app).get('/api/v1/auth/me').set('X-API-Key', apiKey)],
      ['GET /api/v1/admin/users with an API key', () => request(s.app).get('/api/v1/admin/users').set('X-API-Key', apiKey)],
    ]
    for (const [name, call] of calls) {
      it(`${name}: 503, the code, the environment's migrate command; the cause only in the log`, async () => {
        const res: Response = await call()
        expect(res.status, res.text).to.equal(503)
        expectProblem(res, 'GANTRY_SCHEMA_MISSING')
        expect(res.body.detail).to.match(/^The database of environment "development" has no table gantry_\w+: Gantry's migrations have not run there\.$/)
        expect(res.body.hint).to.equal("Run `gantry migrate latest -e development` to create Gantry's tables.")
        expect(res.text).not.to.match(DRIVER_TEXT)
        const logged = s.logs.find((line) => line.msg === 'request failed' && line.requestId === res.body.requestId)
        expect(JSON.stringify(logged?.err), 'the driver error, for the operator').to.match(DRIVER_TEXT)
      })
    }

    it('health answers 200 and readiness 503 (pending migrations), as before', async () => {
      expect((await request(s.app).get('/api/health')).status).to.equal(200)
      expect((await request(s.app).get('/api/health/ready')).status).to.equal(503)
    })
  })
}
