/**
 * The members of RFC 9457 problem details on real answers of the running app, one of each status a client
 * meets — the app's own refusals and the HTTP parser's (431, 417), answered by gantry's listener: `type`
 * (one per code, the code's row in the README table), `title` (the catalog's, for people, never the code),
 * `status`, `detail`, `instance` (the answer's X-Request-Id as a URN) and `requestId`.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import request from 'supertest'
import { GantryError, type ErrorCode } from '../../../src/core/errors.js'
import { listen } from '../../../src/server/listen.js'
import { problemTypeUri } from '../../../src/server/problem.js'
import { local } from '../../helpers/admin-fixture.js'
import { parseAnswers, sendBytes } from '../../helpers/http-probes.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'

/** An answer as the matrix reads it: status, headers and the parsed body. */
interface Answered {
  readonly status: number
  readonly headers: Readonly<Record<string, unknown>>
  readonly body: Record<string, unknown>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('problem details: every member on every kind of refusal', function () {
  let s: TestServer
  let server: Server
  let viewer: string

  before(async () => {
    s = await createTestServer('sqlite')
    server = (await listen(s.app, s.lifecycle, { port: 0, host: '127.0.0.1', drainDelayMs: 0, shutdownTimeoutMs: 1000 })).server
    viewer = await s.token('viewer')
    // A rule of one request a minute on a path no other case calls: its second request is refused.
    await s.services.rateLimits.set(local, 'sample-problem', { match: '* /sample/problem', limit: 1, window: '1m', burst: 1 })
    await s.rateLimits.refresh()
  })
  after(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await s?.cleanup()
  })

  const http = async (send: () => request.Test): Promise<Answered> => {
    const res = await send()
    expect(res.headers['content-type'], res.text).to.match(/^application\/problem\+json/)
    return { status: res.status, headers: res.headers, body: JSON.parse(res.text) as Record<string, unknown> }
  }
  /** Bytes on a bare socket: what Node's parser refuses never reaches supertest's well-formed requests. */
  const raw = async (text: string): Promise<Answered> => {
    const [answer, ...more] = parseAnswers(await sendBytes((server.address() as AddressInfo).port, Buffer.from(text, 'latin1')))
    expect(more).to.deep.equal([])
    expect(answer!.headers['content-type']).to.equal('application/problem+json')
    return { status: answer!.status, headers: answer!.headers, body: JSON.parse(answer!.body) as Record<string, unknown> }
  }
  const login = '/api/v1/auth/login'

  const cases: readonly [number, ErrorCode, () => Promise<Answered>][] = [
    [400, 'INVALID_INPUT', () => http(() => request(server).post(login).send({}))],
    [401, 'UNAUTHENTICATED', () => http(() => request(server).get('/api/v1/admin/users'))],
    [403, 'FORBIDDEN', () => http(() => request(server).delete('/api/v1/admin/maintenance').set('Authorization', `Bearer ${viewer}`))],
    [404, 'ROUTE_NOT_FOUND', () => http(() => request(server).get('/api/v1/widgets'))],
    [405, 'METHOD_NOT_ALLOWED', () => http(() => request(server).get(login))],
    [
      413,
      'PAYLOAD_TOO_LARGE',
      () =>
        http(() =>
          request(server)
            .post(login)
            .send({ email: 'a@example.com', password: 'x'.repeat(200_000) }),
        ),
    ],
    [415, 'UNSUPPORTED_MEDIA_TYPE', () => http(() => request(server).post(login).set('Content-Type', 'text/plain').send('email=x'))],
    [
      429,
      'RATE_LIMITED',
      async () => {
        await request(server).get('/sample/problem').expect(404)
        return http(() => request(server).get('/sample/problem'))
      },
    ],
    [
      503,
      'MAINTENANCE',
      async () => {
        await s.services.maintenance.on(local, { retryAfter: 60 })
        s.clock.advance(1001)
        try {
          return await http(() => request(server).get('/api/v1/widgets'))
        } finally {
          await s.services.maintenance.off(local)
          s.clock.advance(1001)
        }
      },
    ],
    [431, 'HEADERS_TOO_LARGE', () => raw(`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)],
    [
      417,
      'EXPECTATION_FAILED',
      () => raw('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'),
    ],
  ]

  const types = new Map<string, ErrorCode>()
  for (const [status, code, answer] of cases) {
    it(`${status} ${code}: type, title, status, detail, instance and requestId, the instance the answer's X-Request-Id`, async () => {
      const { status: answered, headers, body } = await answer()
      expect(answered, JSON.stringify(body)).to.equal(status)
      expect(body).to.include({ code, status, type: problemTypeUri(code), title: new GantryError(code, '').title })
      expect(body.title).to.not.equal(code)
      expect(body.detail).to.be.a('string').and.not.equal('')
      const id = headers['x-request-id']
      expect(id, 'X-Request-Id').to.be.a('string').and.match(UUID)
      expect(body.requestId).to.equal(id)
      expect(body.instance).to.equal(`urn:uuid:${String(id)}`)
      expect(types.get(String(body.type)) ?? code, `${code} shares its type`).to.equal(code)
      types.set(String(body.type), code)
    })
  }

  it('every code above answered with a type of its own', () => {
    expect(types.size).to.equal(cases.length)
  })

  it("each type, resolved against the URL answered, is a page this server serves with the code's row", async () => {
    for (const [type, code] of types) {
      const resolved = new URL(type, `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/auth/login`)
      const page = await request(server).get(resolved.pathname).expect(200)
      expect(page.headers['content-type']).to.match(/^text\/html/)
      expect(page.text, type).to.include(`<tr id="${resolved.hash.slice(1)}"><td><code>${code}</code></td><td>${new GantryError(code, '').title}</td>`)
    }
  })

  it("a caller's own request id is the instance too, as urn:gantry:request:, before the app (417) as after it (404)", async () => {
    const after = await request(server).get('/api/v1/widgets').set('X-Request-Id', 'trace-7').expect(404)
    expect(after.body).to.include({ requestId: 'trace-7', instance: 'urn:gantry:request:trace-7' })
    const before = await raw('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-8\r\nExpect: teapot\r\nContent-Length: 0\r\n\r\n')
    expect(before.headers['x-request-id']).to.equal('trace-8')
    expect(before.body).to.include({ status: 417, requestId: 'trace-8', instance: 'urn:gantry:request:trace-8' })
    expect(before.body.hint).to.be.a('string')
  })
})
