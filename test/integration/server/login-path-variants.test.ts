/**
 * Spellings of the login path over real HTTP (the path sent byte for byte, as a client or proxy might):
 * every spelling the router sends to the login handler spends the one per-account budget, so none buys
 * fresh attempts; every other spelling never reaches the handler, so it checks no password and spends
 * nothing. Either way no spelling gets a password checked past the login rule.
 */
import { request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { USERS_TABLE } from '../../../src/core/users/users.repo.js'
import { createTestServer, USERS, type TestServer } from '../../helpers/server.js'

const WRONG = 'not the right passphrase'
/** Spellings Express routes to POST /api/v1/auth/login (it matches case-insensitively, one trailing slash allowed). */
const ROUTED = ['/API/v1/auth/login/', '/api/v1/auth/LOGIN', '/Api/V1/Auth/Login/?next=/x', '/api/v1/auth/login?x=1']
/** Spellings it does not route there (the rate limiter would fold them onto the login path; the router does not). */
const UNROUTED = [
  '//api/v1//auth/login',
  '/api/v1/auth/%6Cogin',
  '/api/v1/./auth/login',
  '/api/v1/auth/../auth/login',
  '/api/v1/auth/login//',
  '/api/v1/auth/login%2F',
  '/api/v1/auth%2Flogin',
]

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: { code?: string; detail?: string }
}

describe('login path variants over HTTP', function () {
  let s: TestServer
  let server: Server
  let port: number
  before(async () => {
    // Lockout after 20 failures: the account rule (5 at once) is what stops an attempt here, not the lockout.
    // Behind a trusted proxy each test logs in from its own address, so the address rule never interferes.
    s = await createTestServer('sqlite', { environment: { auth: { lockout: { maxFailures: 20 } }, server: { trustProxy: 'loopback' } } })
    server = s.app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
    await s.cleanup()
  })

  /** POST a login to `path` exactly as written (no client-side normalisation). */
  const login = (path: string, email: string, from: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json', 'x-forwarded-for': from } },
        (res) => {
          let text = ''
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
          res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Answer['body'] }))
        },
      )
      req.once('error', reject)
      req.end(JSON.stringify({ email, password: WRONG }))
    })
  const failures = async (email: string): Promise<number> => {
    const row = (await (await s.runtime.database()).knex(USERS_TABLE).where({ email }).first('failed_logins')) as { failed_logins: number | string }
    return Number(row.failed_logins)
  }

  it('every spelling the router sends to login spends the one account budget: past it, each is 429 from the account rule', async () => {
    const account = USERS.viewer
    const from = '203.0.113.10'
    // The budget (burst 5) spent across the spellings: each of them reached the handler and checked the password.
    for (let i = 0; i < 5; i++) {
      const answer = await login(ROUTED[i % ROUTED.length]!, account, from)
      expect(answer.status, ROUTED[i % ROUTED.length]).to.equal(401)
      expect(answer.body.code).to.equal('INVALID_CREDENTIALS')
    }
    expect(await failures(account)).to.equal(5)

    for (const path of ['/api/v1/auth/login', ...ROUTED]) {
      const answer = await login(path, account, from)
      expect(answer.status, path).to.equal(429)
      expect(answer.headers['content-type'], path).to.match(/^application\/problem\+json/)
      expect(answer.body.code, path).to.equal('RATE_LIMITED')
      expect(answer.headers.ratelimit, path).to.include('"login-account";r=0')
      expect(Number(answer.headers['retry-after']), path).to.be.greaterThan(0)
    }
    // Refused before the password check: not one more failure counted.
    expect(await failures(account)).to.equal(5)
  })

  it('every other spelling is 404 and never reaches login: no password checked, no budget spent', async () => {
    const account = USERS.operator
    const from = '203.0.113.11'
    for (const path of UNROUTED) {
      const answer = await login(path, account, from)
      expect(answer.status, path).to.equal(404)
      expect(answer.body.code, path).to.equal('ROUTE_NOT_FOUND')
      expect(String(answer.headers.ratelimit ?? ''), `${path}: no login rule ran`).to.not.include('login')
    }
    expect(await failures(account)).to.equal(0)

    // The whole budget is still there for the real path.
    for (let i = 0; i < 5; i++) expect((await login('/api/v1/auth/login', account, from)).status).to.equal(401)
    expect((await login('/api/v1/auth/login', account, from)).status).to.equal(429)
    expect(await failures(account)).to.equal(5)
  })
})
