/**
 * What the HTTP edge adds to every answer and what it keeps out of the log: helmet headers on the API (and,
 * by design, not on health, served before helmet), the CORS allowlist, the request id, a 500 that says
 * nothing but its request id, `trust proxy` deciding whose address a rate limit counts, and no credential
 * in any log line.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import request from 'supertest'
import { GantryError } from '../../../src/core/errors.js'
import { listen } from '../../../src/server/listen.js'
import { problemTypeUri } from '../../../src/server/problem.js'
import { parseAnswers, sendBytes, type Answer } from '../../helpers/http-probes.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

const ALLOWED_ORIGIN = 'https://console.example.com'

/** Starts the app on a loopback port through gantry's own listener (supertest would bind one per request). */
async function listening(s: TestServer): Promise<Server> {
  return (await listen(s.app, s.lifecycle, { port: 0, host: '127.0.0.1', drainDelayMs: 0, shutdownTimeoutMs: 1000 })).server
}

async function stop(server: Server | undefined, s: TestServer | undefined): Promise<void> {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  await s?.cleanup()
}

/** Writes `text` on a bare socket and reads the answers until the server closes. */
async function exchange(server: Server, text: string): Promise<Answer[]> {
  return parseAnswers(await sendBytes((server.address() as AddressInfo).port, Buffer.from(text, 'latin1')))
}

describe('the HTTP edge', function () {
  let s: TestServer
  let server: Server
  let admin: string

  before(async () => {
    s = await createTestServer('sqlite', { environment: { server: { corsOrigins: [ALLOWED_ORIGIN] } } })
    server = await listening(s)
    admin = await s.token('admin')
  })
  after(() => stop(server, s))

  describe('security headers', () => {
    const HELMET = [
      'content-security-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-permitted-cross-domain-policies',
      'origin-agent-cluster',
    ]

    it('puts helmet headers on API answers, successes and errors alike', async () => {
      for (const [what, res] of [
        ['me', await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(200)],
        ['401', await request(server).get('/api/v1/admin/users').expect(401)],
        ['login', await request(server).post('/api/v1/auth/login').send({ email: USERS.viewer, password: 'wrong' }).expect(401)],
        ['404', await request(server).get('/no/such/route').expect(404)],
      ] as const) {
        for (const header of HELMET) expect(res.headers[header], `${what}: ${header}`).to.be.a('string')
        expect(res.headers['x-content-type-options']).to.equal('nosniff')
        expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN')
        expect(res.headers['x-powered-by']).to.equal(undefined)
      }
    })

    it('leaves them off health, metrics and the OpenAPI document, which are served before helmet for speed', async () => {
      for (const path of ['/api/health', '/api/health/ready', '/metrics', '/api/openapi.json']) {
        const res = await request(server).get(path).expect(200)
        for (const header of HELMET) expect(res.headers[header], `${path}: ${header}`).to.equal(undefined)
        expect(res.headers['x-powered-by'], path).to.equal(undefined)
        expect(res.headers['x-request-id'], path).to.be.a('string')
      }
    })
  })

  describe('CORS', () => {
    it('answers an allowed origin, and exposes the request id and rate-limit fields to it', async () => {
      const res = await request(server).get('/api/v1/auth/me').set('Origin', ALLOWED_ORIGIN).set('Authorization', `Bearer ${admin}`).expect(200)
      expect(res.headers['access-control-allow-origin']).to.equal(ALLOWED_ORIGIN)
      expect(res.headers.vary).to.match(/\bOrigin\b/)
      expect(res.headers['access-control-expose-headers']).to.include('X-Request-Id').and.include('RateLimit').and.include('Retry-After')
      const preflight = await request(server)
        .options('/api/v1/admin/users')
        .set('Origin', ALLOWED_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type')
        .expect(204)
      expect(preflight.headers['access-control-allow-origin']).to.equal(ALLOWED_ORIGIN)
      expect(preflight.headers['access-control-allow-methods']).to.include('POST')
    })

    it('gives any other origin nothing to read', async () => {
      for (const origin of ['https://evil.example.com', 'https://console.example.com.evil.example', 'http://console.example.com', 'null']) {
        const res = await request(server).get('/api/v1/auth/me').set('Origin', origin).set('Authorization', `Bearer ${admin}`)
        expect(res.headers['access-control-allow-origin'], origin).to.equal(undefined)
        const preflight = await request(server).options('/api/v1/admin/users').set('Origin', origin).set('Access-Control-Request-Method', 'DELETE')
        expect(preflight.status, origin).to.be.below(500)
        expect(preflight.headers['access-control-allow-origin'], origin).to.equal(undefined)
      }
    })
  })

  describe('X-Request-Id', () => {
    const logLineOf = (id: string) => s.logs.find((line) => (line.req as { id?: string } | undefined)?.id === id)

    it('keeps a plain id, echoes it and logs the request under it', async () => {
      const id = 'deploy-42.check:7_a'
      const res = await request(server).get('/api/v1/auth/me').set('X-Request-Id', id).set('Authorization', `Bearer ${admin}`).expect(200)
      expect(res.headers['x-request-id']).to.equal(id)
      const line = logLineOf(id)
      expect(line, 'log line').to.not.equal(undefined)
      expect(line!.req).to.deep.equal({ id, method: 'GET', path: '/api/v1/auth/me' })
      expect((line!.res as { status: number }).status).to.equal(200)
      // Errors carry it in their body too.
      const failed = await request(server).get('/api/v1/admin/users').set('X-Request-Id', 'probe-1').expect(401)
      expect(failed.headers['x-request-id']).to.equal('probe-1')
      expect(failed.body.requestId).to.equal('probe-1')
    })

    it('replaces an id that is too long or not plain with one of its own', async () => {
      for (const given of ['x'.repeat(200), 'a b', 'a\tb', 'id<script>', 'é', 'a,b', '../../etc', '']) {
        const res = await request(server).get('/api/v1/auth/me').set('X-Request-Id', given).set('Authorization', `Bearer ${admin}`).expect(200)
        const id = String(res.headers['x-request-id'])
        expect(id, JSON.stringify(given)).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
        expect(logLineOf(id), 'logged under the new id').to.not.equal(undefined)
      }
      expect(s.logs.some((line) => JSON.stringify(line).includes('x'.repeat(200)))).to.equal(false)
    })

    it('never sees an id with a line break: the HTTP parser refuses the request first', async () => {
      const [answer, ...more] = await exchange(server, 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\r\n b\r\nConnection: close\r\n\r\n')
      expect(more).to.deep.equal([])
      expect(answer).to.deep.include({ status: 400 })
      expect(answer!.headers['content-type']).to.equal('application/problem+json')
      expect(JSON.parse(answer!.body)).to.include({ status: 400, code: 'INVALID_INPUT' })
    })

    it('answers oversized headers with 431 problem+json, not a bare status line', async () => {
      const [answer] = await exchange(server, `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(answer).to.deep.include({ status: 431 })
      expect(JSON.parse(answer!.body)).to.include({ status: 431, code: 'HEADERS_TOO_LARGE', type: problemTypeUri('HEADERS_TOO_LARGE') })
    })

    it('answers what Node itself would refuse with a bare status line — HTTP/1.1 without Host, an unknown Expect — as problem+json', async () => {
      for (const [text, status, code] of [
        ['GET /api/health HTTP/1.1\r\n\r\n', 400, 'INVALID_INPUT'],
        [
          'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
          417,
          'EXPECTATION_FAILED',
        ],
      ] as const) {
        const [answer, ...more] = await exchange(server, text)
        expect(more, text).to.deep.equal([])
        expect(answer, text).to.deep.include({ status })
        expect(answer!.headers['content-type'], text).to.equal('application/problem+json')
        expect(answer!.headers.connection, text).to.equal('close')
        expect(JSON.parse(answer!.body), text).to.include({ status, code, type: problemTypeUri(code) })
      }
      // HTTP/1.0 needs no Host, and 100-continue is still served.
      expect((await exchange(server, 'GET /api/health HTTP/1.0\r\n\r\n'))[0]).to.deep.include({ status: 200 })
      const body = JSON.stringify({ email: USERS.viewer, password: PASSWORD })
      const continued = await exchange(
        server,
        `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
      expect(continued.map((a) => a.status)).to.deep.equal([100, 200])
    })
  })

  describe('an unexpected failure', () => {
    it('answers 500 with the request id and nothing else; the log has the cause under the same id', async () => {
      const users = s.services.users as { get: (...args: unknown[]) => Promise<unknown> }
      const original = users.get
      users.get = async () => {
        throw Object.assign(new Error('SQLITE_ERROR: no such column: password_hash in SELECT * FROM gantry_users'), {
          sql: 'select * from gantry_users',
          code: 'SQLITE_ERROR',
        })
      }
      try {
        const res = await request(server)
          .get(`/api/v1/admin/users/${encodeURIComponent(USERS.viewer)}`)
          .set('Authorization', `Bearer ${admin}`)
          .set('X-Request-Id', 'boom-1')
          .expect(500)
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
        expect(res.body).to.deep.equal({
          type: problemTypeUri('INTERNAL'),
          title: 'Internal error',
          status: 500,
          detail: 'Something went wrong on the server.',
          instance: 'urn:gantry:request:boom-1',
          code: 'INTERNAL',
          hint: 'Quote request id boom-1 to the operator; the server log has the cause.',
          requestId: 'boom-1',
        })
        const logged = s.logs.find((line) => line.msg === 'request failed' && line.requestId === 'boom-1')
        expect(logged, 'error log line').to.not.equal(undefined)
        expect(logged!.level).to.equal(50)
        expect(JSON.stringify(logged!.err)).to.include('no such column')
      } finally {
        users.get = original
      }
    })

    it('hides the message of a server-side catalog error too (it names hosts, files and drivers), keeping a 503 its code', async () => {
      const users = s.services.users as { get: (...args: unknown[]) => Promise<unknown> }
      const original = users.get
      try {
        users.get = async () => {
          throw new GantryError('DB_UNREACHABLE', 'Cannot connect to MariaDB at db.internal:3306: connection refused.')
        }
        const unavailable = await request(server)
          .get(`/api/v1/admin/users/${encodeURIComponent(USERS.viewer)}`)
          .set('Authorization', `Bearer ${admin}`)
          .expect(503)
        expect(unavailable.body.code).to.equal('DB_UNREACHABLE')
        expect(unavailable.text).to.not.include('db.internal')
        expect(unavailable.body.hint).to.include(unavailable.headers['x-request-id'])
        users.get = async () => {
          throw new GantryError('DB_QUERY_FAILED', 'Writing the users failed (ER_LOCK_DEADLOCK).')
        }
        const failed = await request(server)
          .get(`/api/v1/admin/users/${encodeURIComponent(USERS.viewer)}`)
          .set('Authorization', `Bearer ${admin}`)
          .expect(500)
        expect(failed.body.code).to.equal('INTERNAL')
        expect(failed.text).to.not.include('ER_LOCK_DEADLOCK')
      } finally {
        users.get = original
      }
    })
  })

  it('never logs a credential: no password, token, refresh token, API key or Authorization header', async () => {
    const wrongPassword = 'a wrong but secret passphrase'
    const logins = [
      await request(server).post('/api/v1/auth/login').send({ email: USERS.operator, password: PASSWORD }).expect(200),
      await request(server).post('/api/v1/auth/login').send({ email: USERS.viewer, password: wrongPassword }).expect(401),
    ]
    const { accessToken, refreshToken } = logins[0]!.body as { accessToken: string; refreshToken: string }
    const refreshed = await request(server).post('/api/v1/auth/refresh').send({ refreshToken }).expect(200)
    const created = await request(server)
      .post('/api/v1/admin/api-keys')
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'logs', owner: USERS.admin })
      .expect(201)
    const apiKey = (created.body as { key: string }).key
    const newPassword = 'another long passphrase 9'
    await request(server)
      .post('/api/v1/admin/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ email: 'logged@example.com', password: newPassword })
      .expect(201)
    await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${accessToken}`).expect(200)
    await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${apiKey}`).expect(200)
    await request(server).get('/api/v1/auth/me').set('X-API-Key', apiKey).expect(200)
    await request(server).get(`/api/v1/auth/me?access_token=${accessToken}`).set('X-API-Key', apiKey).expect(200)
    await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${accessToken}x`).expect(401)
    await request(server).post('/api/v1/auth/logout').send({ refreshToken: refreshed.body.refreshToken }).expect(200)
    // A failure that is logged with its cause, on a request that carries credentials.
    const users = s.services.users as { get: (...args: unknown[]) => Promise<unknown> }
    const original = users.get
    users.get = async () => {
      throw new Error('boom')
    }
    try {
      await request(server)
        .get(`/api/v1/admin/users/${encodeURIComponent(USERS.viewer)}`)
        .set('Authorization', `Bearer ${admin}`)
        .set('X-API-Key', apiKey)
        .set('Cookie', `session=${accessToken}`)
        .expect(500)
    } finally {
      users.get = original
    }

    const log = s.logs.map((line) => JSON.stringify(line)).join('\n')
    expect(s.logs.length).to.be.greaterThan(10)
    const secrets = {
      PASSWORD,
      wrongPassword,
      newPassword,
      accessToken,
      admin,
      refreshToken,
      refreshed: refreshed.body.refreshToken as string,
      apiKey,
      apiKeySecret: apiKey.slice(-30),
    }
    for (const [name, secret] of Object.entries(secrets)) expect(log.includes(secret), `${name} in the log`).to.equal(false)
    expect(log).to.not.match(/authorization|x-api-key|cookie|bearer/i)
  })
})

describe('the rate-limit key and trust proxy', function () {
  // Two at once, then one per 30 s: the third request in a row is refused unless it counts elsewhere.
  const rateLimits = { default: { limit: 2, window: '1m', burst: 2 } }
  let s: TestServer | undefined
  let server: Server | undefined
  afterEach(async () => {
    await stop(server, s)
    s = undefined
    server = undefined
  })
  const from = (forwardedFor: string) => request(server!).get('/api/v1/auth/login').set('X-Forwarded-For', forwardedFor)

  it('without trust proxy (the default), a spoofed X-Forwarded-For does not buy a new budget', async () => {
    s = await createTestServer('sqlite', { environment: { rateLimits } })
    server = await listening(s)
    const first = await from('203.0.113.1').expect(405)
    expect(first.headers['ratelimit-policy']).to.be.a('string')
    await from('203.0.113.2').expect(405)
    const refused = await from('203.0.113.3').expect(429)
    expect(refused.headers['content-type']).to.match(/^application\/problem\+json/)
    expect(Number(refused.headers['retry-after'])).to.be.greaterThan(0)
    expect(refused.body.code).to.equal('RATE_LIMITED')
  })

  it('with trust proxy set to loopback, each forwarded client has its own budget', async () => {
    s = await createTestServer('sqlite', { environment: { rateLimits, server: { trustProxy: 'loopback' } } })
    server = await listening(s)
    await from('203.0.113.1').expect(405)
    await from('203.0.113.2').expect(405)
    await from('203.0.113.3').expect(405)
    await from('203.0.113.1').expect(405)
    await from('203.0.113.1').expect(429)
    // Only the last hop the proxy appended counts: a client's own prefix changes nothing.
    await from('198.51.100.7, 203.0.113.1').expect(429)
    await from('203.0.113.2').expect(405)
  })
})
