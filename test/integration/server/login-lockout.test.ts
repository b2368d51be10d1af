/**
 * A locked account over HTTP: its right password gets, byte for byte, the answer of a wrong password and
 * of an unknown email, so the lockout is neither an existence nor a password oracle; `/metrics` (public)
 * does not tell it either. The lockout itself still holds, shows and ends with unlock.
 */
import { expect } from 'chai'
import request from 'supertest'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

describe('login during a lockout (HTTP)', function () {
  let s: TestServer
  before(async () => {
    s = await createTestServer('sqlite', { environment: { auth: { lockout: { maxFailures: 2, minutes: 15 } } } })
  })
  after(async () => {
    await s?.cleanup()
  })

  /** The raw answer to a login, under one request id (the body carries it). */
  const login = async (email: string, password: string) => {
    const res = await request(s.app).post('/api/v1/auth/login').set('X-Request-Id', 'same-request-id').send({ email, password })
    return { status: res.status, contentType: res.headers['content-type'], wwwAuthenticate: res.headers['www-authenticate'], body: res.text }
  }

  it('answers the right password exactly as a wrong one and as an unknown email; unlock ends the lockout', async () => {
    const admin = await s.token('admin')
    const metrics = async () => (await request(s.app).get('/metrics')).text
    await login(USERS.operator, 'not the right passphrase 1')
    await login(USERS.operator, 'not the right passphrase 2')
    const shown = await request(s.app).get(`/api/v1/admin/users/${USERS.operator}`).set('Authorization', `Bearer ${admin}`)
    expect(shown.body.lockedUntil).to.be.a('string')

    const wrong = await login(USERS.operator, 'not the right passphrase 3')
    const right = await login(USERS.operator, PASSWORD)
    const unknown = await login('nobody@example.com', PASSWORD)
    expect(wrong.status).to.equal(401)
    expect(JSON.parse(wrong.body)).to.include({ code: 'INVALID_CREDENTIALS', detail: 'Wrong email or password.' })
    expect(right).to.deep.equal(wrong)
    expect(unknown).to.deep.equal(wrong)
    expect(await metrics())
      .to.match(/gantry_logins_total\{outcome="invalid"\} 5\n/)
      .and.not.match(/outcome="locked"/)

    const unlocked = await request(s.app).post(`/api/v1/admin/users/${USERS.operator}/unlock`).set('Authorization', `Bearer ${admin}`)
    expect(unlocked.body.lockedUntil).to.equal(null)
    expect((await login(USERS.operator, PASSWORD)).status).to.equal(200)
  })
})
