/**
 * The HTTP client against a server of the test's own: timeouts, retries only where they are safe,
 * Retry-After honoured (sleeps recorded, never slept), error mapping to one-line GantryErrors, lenient
 * parsing, the 401 refresh, streams both ways, and the proxy from the environment.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { expect } from 'chai'
import { z } from 'zod'
import { cliHint } from '../../../src/cli/hints.js'
import { createApiClient, type ApiClient, type ClientOptions } from '../../../src/client/index.js'
import { GantryError } from '../../../src/core/errors.js'
import { json, problem, reset, silent, startFaultServer, type FaultServer } from '../../helpers/fault-server.js'

const SECRET = 'Bearer secret-access-token-do-not-print'
const SHORT_TIMEOUT = { timeoutMs: 300 }

async function failure(promise: Promise<unknown>): Promise<GantryError> {
  try {
    await promise
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    const e = err as GantryError
    expect(e.message, 'one line').to.not.include('\n')
    expect(`${e.message} ${e.hint} ${JSON.stringify(e.details)} ${String(e.cause)}`).to.not.include('secret-access-token')
    return e
  }
  throw new Error('expected a failure')
}

describe('HTTP client against a faulty server', function () {
  let server: FaultServer
  let sleeps: number[]
  // A generous timeout, so that a loaded machine never turns an answer into a timeout; the tests of timeouts
  // (a silent server) pass SHORT_TIMEOUT.
  const client = (options: Partial<ClientOptions> = {}): Promise<ApiClient> =>
    createApiClient({ baseUrl: `${server.url}/`, timeoutMs: 10_000, retries: 3, sleep: async (ms) => void sleeps.push(ms), ...options })
  const thing = z.object({ ok: z.boolean() })

  before(async () => {
    server = await startFaultServer()
  })
  beforeEach(() => {
    sleeps = []
  })
  after(() => server.close())

  describe('timeouts and network failures', () => {
    it('a server slow past the timeout: GET tried 1 + retries times, then SERVER_UNREACHABLE with the reason', async () => {
      server.script(silent)
      const started = Date.now()
      const err = await failure((await client(SHORT_TIMEOUT)).request({ method: 'GET', path: '/api/health', schema: thing }))
      expect(err.code).to.equal('SERVER_UNREACHABLE')
      expect(err.exit).to.equal(3)
      expect(err.message).to.equal(`Cannot reach ${server.url}/api/health (GET): no answer within 300 ms (4 attempts).`)
      expect(server.received).to.have.length(4)
      expect(sleeps).to.have.length(3)
      expect(Date.now() - started).to.be.below(3000)
    })

    it('a POST that timed out is not retried (it may have been done)', async () => {
      server.script(silent)
      const err = await failure((await client(SHORT_TIMEOUT)).request({ method: 'POST', path: '/api/v1/admin/users', body: { email: 'a@x' } }))
      expect(err.code).to.equal('SERVER_UNREACHABLE')
      expect(server.received).to.have.length(1)
      expect(sleeps).to.deep.equal([])
    })

    it('a POST marked idempotent is retried', async () => {
      server.script(silent, json(200, { ok: true }))
      const body = await (await client(SHORT_TIMEOUT)).request({ method: 'POST', path: '/x', idempotent: true, schema: thing })
      expect(body).to.deep.equal({ ok: true })
      expect(server.received).to.have.length(2)
    })

    it('reset connections are retried on GET, then reported', async () => {
      server.script(reset, reset, json(200, { ok: true }))
      expect(await (await client()).request({ method: 'GET', path: '/a', schema: thing })).to.deep.equal({ ok: true })
      expect(sleeps).to.have.length(2)
      server.script(reset)
      const err = await failure((await client({ retries: 1 })).request({ method: 'GET', path: '/a', schema: thing }))
      expect(err.message).to.match(/^Cannot reach http:\/\/127\.0\.0\.1:\d+\/a \(GET\): connection (reset|closed before an answer) \(2 attempts\)\.$/)
    })

    it('a server that is down: connection refused, naming the URL', async () => {
      const closed = createServer()
      closed.listen(0, '127.0.0.1')
      await once(closed, 'listening')
      const { port } = closed.address() as AddressInfo
      closed.close()
      await once(closed, 'close')
      const api = await createApiClient({
        baseUrl: `http://127.0.0.1:${port}`,
        retries: 2,
        sleep: async (ms) => void sleeps.push(ms),
        credentials: { authorization: async () => SECRET },
      })
      const err = await failure(api.request({ method: 'GET', path: '/api/health' }))
      expect(err.code).to.equal('SERVER_UNREACHABLE')
      expect(err.message).to.equal(`Cannot reach http://127.0.0.1:${port}/api/health (GET): connection refused (3 attempts).`)
      // The CLI words the next step (src/cli/hints.ts): the client's error names no flag of its own.
      expect(cliHint(err)).to.include('gantry health --url')
    })

    it('a host that does not resolve', async () => {
      const api = await createApiClient({ baseUrl: 'http://gantry-test.invalid:3000', retries: 0, timeoutMs: 2000 })
      const err = await failure(api.request({ method: 'GET', path: '/api/health' }))
      expect(err.code).to.equal('SERVER_UNREACHABLE')
      expect(err.message).to.match(
        /^Cannot reach http:\/\/gantry-test\.invalid:3000\/api\/health \(GET\): (host not found|DNS lookup failed|no answer within 2 s)\.$/,
      )
    })
  })

  describe('retries on answers', () => {
    it('5xx then recovering: a GET is retried with jittered exponential backoff', async () => {
      server.script(problem(503, 'NOT_READY', 'x'), json(502, { html: true }), json(504, {}), json(200, { ok: true }))
      expect(await (await client()).request({ method: 'GET', path: '/r', schema: thing })).to.deep.equal({ ok: true })
      expect(server.received).to.have.length(4)
      expect(sleeps).to.have.length(3)
      sleeps.forEach((ms, i) => expect(ms).to.be.within(0, 200 * 2 ** i - 1))
    })

    it('a POST answered 502 is not retried', async () => {
      server.script(json(502, {}), json(200, { ok: true }))
      const err = await failure((await client()).request({ method: 'POST', path: '/r', schema: thing }))
      expect(err.code).to.equal('SERVER_ERROR')
      expect(server.received).to.have.length(1)
    })

    it('a 500 is not retried, even on GET', async () => {
      server.script(problem(500, 'INTERNAL', 'Something went wrong on the server.', { requestId: 'req-9' }), json(200, { ok: true }))
      const err = await failure((await client()).request({ method: 'GET', path: '/r' }))
      expect(err.code).to.equal('SERVER_ERROR')
      expect(err.details?.requestId).to.equal('req-9')
      expect(server.received).to.have.length(1)
    })

    it('429 with Retry-After: any request, even a POST, is retried after exactly that wait', async () => {
      server.script(
        problem(429, 'RATE_LIMITED', 'Too many requests.', {}, { 'retry-after': '2' }),
        problem(503, 'MAINTENANCE', 'Down.', {}, { 'retry-after': '1' }),
        json(201, { ok: true }),
      )
      expect(await (await client()).request({ method: 'POST', path: '/r', body: { a: 1 }, schema: thing })).to.deep.equal({ ok: true })
      expect(sleeps).to.deep.equal([2000, 1000])
      expect(server.received.map((r) => r.body)).to.deep.equal(['{"a":1}', '{"a":1}', '{"a":1}'])
      // One request id for one logical request, across its attempts.
      expect(new Set(server.received.map((r) => r.headers['x-request-id'])).size).to.equal(1)
    })

    it('a Retry-After beyond 30 s is not waited for: the error says when to come back', async () => {
      server.script(problem(503, 'MAINTENANCE', 'The service is in maintenance.', { requestId: 'm-1' }, { 'retry-after': '3600' }))
      const err = await failure((await client()).request({ method: 'GET', path: '/r' }))
      expect(err.code).to.equal('MAINTENANCE')
      expect(err.details).to.deep.equal({ retryAfter: '3600' })
      expect(sleeps).to.deep.equal([])
    })

    it('gives up after `retries` and reports the last answer', async () => {
      server.script(problem(429, 'RATE_LIMITED', 'Too many requests.', {}, { 'retry-after': '1' }))
      const err = await failure((await client({ retries: 2 })).request({ method: 'GET', path: '/r' }))
      expect(err.code).to.equal('RATE_LIMITED')
      expect(err.exit).to.equal(3)
      expect(server.received).to.have.length(3)
      expect(sleeps).to.deep.equal([1000, 1000])
    })

    it('an accepted status is an answer, not retried: health 503 as a report', async () => {
      server.script(json(503, { status: 'fail', extra: 1 }, { 'content-type': 'application/health+json' }))
      const answer = await (
        await client()
      ).requestWithStatus({ method: 'GET', path: '/api/health/ready', schema: z.object({ status: z.string() }), accept: [503] })
      expect(answer.status).to.equal(503)
      expect(answer.body).to.deep.equal({ status: 'fail' })
      expect(answer.headers['content-type']).to.equal('application/health+json')
      expect(server.received).to.have.length(1)
    })
  })

  describe('answers', () => {
    it('problem+json with a known code is that error, with the server message and hint', async () => {
      server.script(problem(404, 'USER_NOT_FOUND', 'No user with email a@x.', { requestId: 'abc', hint: 'Try another.' }))
      const err = await failure((await client()).request({ method: 'GET', path: '/api/v1/admin/users/a%40x' }))
      expect(err).to.include({ code: 'USER_NOT_FOUND', exit: 1, message: 'No user with email a@x.', hint: 'Try another.' })
      expect(err.details).to.equal(undefined)
    })

    it('an unknown code is mapped by status', async () => {
      server.script(problem(409, 'FUTURE_CONFLICT', 'Something new.\nOn two lines.'))
      const err = await failure((await client()).request({ method: 'PUT', path: '/z' }))
      expect(err.code).to.equal('INVALID_INPUT')
      expect(err.message).to.equal(`PUT ${server.url}/z was answered 409 Conflict (FUTURE_CONFLICT): Something new. On two lines.`)
    })

    it('a proxy page instead of JSON: SERVER_ERROR in one line', async () => {
      server.script((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\n<h1>Welcome</h1>\n</html>'))
      const err = await failure((await client()).request({ method: 'GET', path: '/api/health', schema: thing }))
      expect(err.code).to.equal('SERVER_ERROR')
      expect(err.message).to.equal(`The answer to GET ${server.url}/api/health is not JSON (text/html).`)
    })

    it('parses leniently: unknown fields, nested ones too, are dropped', async () => {
      const schema = z.object({ data: z.array(z.object({ email: z.string(), role: z.object({ name: z.string() }) })), nextCursor: z.string().nullable() })
      server.script(json(200, { data: [{ email: 'a@x', role: { name: 'viewer', color: 'red' }, mfa: true }], nextCursor: null, total: 1 }))
      expect(await (await client()).request({ method: 'GET', path: '/u', schema })).to.deep.equal({
        data: [{ email: 'a@x', role: { name: 'viewer' } }],
        nextCursor: null,
      })
      server.script(json(200, { data: [{ email: 7 }], nextCursor: null }))
      const err = await failure((await client()).request({ method: 'GET', path: '/u', schema }))
      expect(err.code).to.equal('SERVER_ERROR')
      expect(err.message).to.match(/^The answer to GET http:\/\/127\.0\.0\.1:\d+\/u does not match what this CLI expects: data\.0\.email: .+\(and 1 more\)\.$/)
    })

    it('sends JSON, the query (undefined dropped), and no body for 204', async () => {
      server.script((_q, res) => res.writeHead(204).end())
      const answer = await (
        await client()
      ).request({ method: 'PATCH', path: '/p', query: { limit: 5, cursor: undefined, all: true, q: 'a b&c' }, body: { x: 1 } })
      expect(answer).to.equal(undefined)
      const [got] = server.received
      expect(got?.url).to.equal('/p?limit=5&all=true&q=a+b%26c')
      expect(got?.headers['content-type']).to.equal('application/json')
      expect(got?.body).to.equal('{"x":1}')
    })

    it('a redirect is reported, not followed', async () => {
      server.script((_q, res) => res.writeHead(301, { location: 'https://elsewhere.example/api' }).end())
      const err = await failure((await client()).request({ method: 'POST', path: '/r' }))
      expect(err.code).to.equal('SERVER_ERROR')
      expect(err.message).to.include('redirected to https://elsewhere.example/api')
    })
  })

  describe('credentials', () => {
    it("sends the source's Authorization; none with authenticate:false; never in an error", async () => {
      server.script(json(200, { ok: true }))
      const api = await client({ credentials: { authorization: async () => SECRET } })
      await api.request({ method: 'GET', path: '/a', schema: thing })
      await api.request({ method: 'POST', path: '/api/v1/auth/refresh', authenticate: false, schema: thing })
      expect(server.received.map((r) => r.headers.authorization)).to.deep.equal([SECRET, undefined])
      server.script(problem(403, 'FORBIDDEN', 'Missing users:write.'))
      await failure(api.request({ method: 'GET', path: '/a' }))
    })

    it('after a 401 the source refreshes once and the request is retried once with the new token', async () => {
      let token = 'Bearer old'
      let refreshes = 0
      const api = await client({
        credentials: {
          authorization: async () => token,
          rejected: async () => {
            refreshes++
            token = 'Bearer new'
            return true
          },
        },
      })
      server.script(problem(401, 'TOKEN_INVALID', 'The access token is invalid or expired.'), json(200, { ok: true }))
      expect(await api.request({ method: 'POST', path: '/a', schema: thing })).to.deep.equal({ ok: true })
      expect(server.received.map((r) => r.headers.authorization)).to.deep.equal(['Bearer old', 'Bearer new'])
      server.script(problem(401, 'TOKEN_INVALID', 'The access token is invalid or expired.'))
      const err = await failure(api.request({ method: 'GET', path: '/a' }))
      expect(err.code).to.equal('TOKEN_INVALID')
      expect(server.received).to.have.length(2)
      expect(refreshes).to.equal(2)
      expect(sleeps).to.deep.equal([])
    })
  })

  describe('streams', () => {
    it('upload streams the body once with its content type, never retried', async () => {
      server.script((_q, res, body) => json(200, { ok: true, bytes: body.length })(_q, res, body, 0))
      const lines = Array.from({ length: 2000 }, (_, i) => `{"email":"u${i}@x"}\n`)
      const answer = await (
        await client()
      ).upload({ method: 'POST', path: '/import', stream: Readable.from(lines), contentType: 'application/x-ndjson', schema: z.object({ bytes: z.number() }) })
      expect(answer).to.deep.equal({ bytes: lines.join('').length })
      expect(server.received[0]?.headers['content-type']).to.equal('application/x-ndjson')
      expect(server.received[0]?.headers['transfer-encoding']).to.equal('chunked')
      server.script(problem(503, 'MAINTENANCE', 'Down.', {}, { 'retry-after': '1' }))
      const err = await failure(
        (await client()).upload({ method: 'PUT', path: '/import', stream: Readable.from(['a']), contentType: 'text/csv', schema: thing }),
      )
      expect(err.code).to.equal('MAINTENANCE')
      expect(server.received).to.have.length(1)
      expect(sleeps).to.deep.equal([])
    })

    it('download yields text chunks as they come', async () => {
      server.script((_q, res) => {
        res.writeHead(200, { 'content-type': 'text/csv' })
        res.write('email\n')
        setTimeout(() => res.end('a@x\nb@x é\n'), 30)
      })
      const chunks: string[] = []
      for await (const chunk of (await client()).download({ method: 'GET', path: '/export', query: { format: 'csv' } })) chunks.push(chunk)
      expect(chunks.length).to.be.at.least(2)
      expect(chunks.join('')).to.equal('email\na@x\nb@x é\n')
    })

    it('download: an error answer is mapped; a cut stream is an error, never a clean end', async () => {
      server.script(problem(403, 'FORBIDDEN', 'Missing users:read.'))
      const denied = async () => {
        for await (const _ of (await client()).download({ method: 'GET', path: '/export' })) void _
      }
      expect((await failure(denied())).code).to.equal('FORBIDDEN')
      server.script((req, res) => {
        res.writeHead(200, { 'content-type': 'text/csv' })
        res.write('email\n')
        setTimeout(() => req.socket.destroy(), 30)
      })
      const got: string[] = []
      const cut = async () => {
        for await (const chunk of (await client()).download({ method: 'GET', path: '/export' })) got.push(chunk)
      }
      const err = await failure(cut())
      expect(err.code).to.equal('SERVER_UNREACHABLE')
      expect(err.message).to.include('broke off')
      expect(got.join('')).to.equal('email\n')
    })
  })

  describe('proxy from the environment', () => {
    let proxy: Server
    let proxied: string[]
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy }
    before(async () => {
      proxied = []
      proxy = createServer((req, res) => {
        proxied.push(req.url ?? '')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      })
      proxy.listen(0, '127.0.0.1')
      await once(proxy, 'listening')
    })
    afterEach(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
    })
    after(() => proxy.close())

    it('HTTP_PROXY is used, NO_PROXY is honoured', async () => {
      for (const key of Object.keys(saved)) delete process.env[key]
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      const api = await createApiClient({ baseUrl: 'http://gantry.internal.test:3000', retries: 0 })
      expect(await api.request({ method: 'GET', path: '/api/health', schema: thing })).to.deep.equal({ ok: true })
      expect(proxied).to.deep.equal(['http://gantry.internal.test:3000/api/health'])
      process.env.NO_PROXY = '127.0.0.1'
      server.script(json(200, { ok: true }))
      await (await client()).request({ method: 'GET', path: '/direct', schema: thing })
      expect(server.received).to.have.length(1)
      expect(proxied).to.have.length(1)
    })
  })
})
