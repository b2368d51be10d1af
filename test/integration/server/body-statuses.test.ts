/**
 * The exact answer to each kind of hostile JSON input (the malformed corpus only asserts "no 5xx"): a body
 * over server.bodyLimit is 413, nesting deeper than 32 levels is 400, a NUL character anywhere in the
 * input is 400, and `__proto__` (like any unknown key) is refused with 400 without touching any prototype.
 */
import { request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import request from 'supertest'
import { USERS_TABLE } from '../../../src/core/users/users.repo.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'

const LOGIN = '/api/v1/auth/login'

interface Answer {
  status: number
  contentType: string
  body: { status?: number; code?: string; detail?: string; errors?: { path: string; message: string }[] }
}

/** A login body of exactly `bytes` bytes (the password padded; its own length rule makes the fit a 400). */
function loginBodyOf(bytes: number): string {
  const empty = JSON.stringify({ email: 'someone@example.com', password: '' })
  return JSON.stringify({ email: 'someone@example.com', password: 'x'.repeat(bytes - empty.length) })
}

/** Objects nested `levels` deep, the body itself being level 1: {"a":{"a":…{}}}. */
function nested(levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1)
}

describe('hostile JSON bodies: exact statuses', function () {
  let s: TestServer
  let small: TestServer
  let server: Server
  let admin: string
  before(async () => {
    s = await createTestServer('sqlite')
    small = await createTestServer('sqlite', { environment: { server: { bodyLimit: '2kb' } } })
    server = s.app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    admin = await s.token('admin')
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
    await s.cleanup()
    await small.cleanup()
  })

  const post = async (target: TestServer, path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await request(target.app)
      .post(path)
      .set({ 'content-type': 'application/json', ...headers })
      .send(body)
    return { status: res.status, contentType: String(res.headers['content-type']), body: JSON.parse(res.text) as Answer['body'] }
  }
  const expectProblem = (answer: Answer, status: number, code: string): void => {
    expect(answer.status, JSON.stringify(answer.body)).to.equal(status)
    expect(answer.contentType).to.match(/^application\/problem\+json/)
    expect(answer.body).to.include({ status, code })
  }

  describe('size', () => {
    it('a body over the default limit (100kb = 102400 bytes) is 413 problem+json; one at the limit is read', async () => {
      const over = await post(s, LOGIN, loginBodyOf(102_401))
      expectProblem(over, 413, 'PAYLOAD_TOO_LARGE')
      expect(over.body.detail).to.equal('The body is larger than the 102400-byte limit.')
      // At the limit the body is parsed and validated: its password is too long, a 400 naming the field.
      const at = await post(s, LOGIN, loginBodyOf(102_400))
      expectProblem(at, 400, 'INVALID_INPUT')
      expect(at.body.errors?.map((e) => e.path)).to.deep.equal(['password'])
    })

    it('also when the body comes chunked, without a Content-Length to refuse it by', async () => {
      const { port } = server.address() as AddressInfo
      const answer = await new Promise<Answer>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: LOGIN, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
          (res) => {
            let text = ''
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
            res.once('end', () =>
              resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: JSON.parse(text) as Answer['body'] }),
            )
          },
        )
        // The server may answer and close before the whole body is written: that is the point.
        req.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)))
        const body = loginBodyOf(150_000)
        for (let at = 0; at < body.length; at += 10_000) req.write(body.slice(at, at + 10_000))
        req.end()
      })
      expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE')
    })

    it('follows server.bodyLimit when the environment sets one (2kb here)', async () => {
      expectProblem(await post(small, LOGIN, loginBodyOf(2049)), 413, 'PAYLOAD_TOO_LARGE')
      expectProblem(await post(small, LOGIN, loginBodyOf(2048)), 401, 'INVALID_CREDENTIALS')
    })
  })

  describe('nesting', () => {
    it('32 levels pass the depth check (then fail validation); 33 are refused as too deep, before validation', async () => {
      const at = await post(s, LOGIN, nested(32))
      expectProblem(at, 400, 'INVALID_INPUT')
      expect(at.body.detail).to.not.match(/nests deeper/)
      expect(at.body.errors?.length).to.be.greaterThan(0)

      const over = await post(s, LOGIN, nested(33))
      expectProblem(over, 400, 'INVALID_INPUT')
      expect(over.body.detail).to.equal('The body nests deeper than 32 levels.')
      expect(over.body.errors).to.equal(undefined)
    })

    it('arrays count as levels too, and a pathologically deep body (50,000 levels) is a 400, not a crash', async () => {
      const over = await post(s, LOGIN, '['.repeat(33) + ']'.repeat(33))
      expectProblem(over, 400, 'INVALID_INPUT')
      expect(over.body.detail).to.equal('The body nests deeper than 32 levels.')
      const deep = await post(s, LOGIN, '['.repeat(50_000) + ']'.repeat(50_000))
      expectProblem(deep, 400, 'INVALID_INPUT')
      expect((await request(s.app).get('/api/health')).status).to.equal(200)
    })
  })

  describe('__proto__ and friends', () => {
    it('a __proto__, constructor or prototype key is an unknown field: 400 naming it, and no prototype changes', async () => {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const body = `{"email": "someone@example.com", "password": "long enough passphrase", ${JSON.stringify(key)}: {"admin": true, "role": "admin"}}`
        const answer = await post(s, LOGIN, body)
        expectProblem(answer, 400, 'INVALID_INPUT')
        expect(answer.body.detail, key).to.equal(`Unrecognized key: "${key}".`)
      }
      expect(({} as Record<string, unknown>).admin).to.equal(undefined)
      expect(Object.prototype).to.not.have.own.property('admin')
      expect(Object.prototype).to.not.have.own.property('role')
    })

    it('on an admin create, a __proto__ carrying a role creates nothing', async () => {
      const email = 'proto-smuggler@example.com'
      const body = `{"email": ${JSON.stringify(email)}, "role": "viewer", "password": "long enough passphrase", "__proto__": {"role": "admin"}}`
      const answer = await post(s, '/api/v1/admin/users', body, { authorization: `Bearer ${admin}` })
      expectProblem(answer, 400, 'INVALID_INPUT')
      expect(answer.body.detail).to.equal('Unrecognized key: "__proto__".')
      const db = await s.runtime.database()
      expect(await db.knex(USERS_TABLE).where({ email }).first()).to.equal(undefined)
    })
  })

  describe('NUL characters', () => {
    it('in a string value or a key of the body: 400, before validation', async () => {
      for (const body of [
        JSON.stringify({ email: 'some\u0000one@example.com', password: 'long enough passphrase' }),
        '{"email": "someone@example.com", "password": "long enough passphrase", "x\\u0000": 1}',
        JSON.stringify({ email: 'someone@example.com', password: 'long enough\u0000passphrase' }),
      ]) {
        const answer = await post(s, LOGIN, body)
        expectProblem(answer, 400, 'INVALID_INPUT')
        expect(answer.body.detail, body).to.equal('The body holds a NUL character (U+0000), which no field accepts.')
      }
    })

    it('in the query or a path parameter: 400 too', async () => {
      const query = await request(s.app).get('/api/v1/admin/users?cursor=%00').set('authorization', `Bearer ${admin}`)
      expect(query.status).to.equal(400)
      expect(query.headers['content-type']).to.match(/^application\/problem\+json/)
      expect(query.body).to.include({ code: 'INVALID_INPUT', detail: 'The query holds a NUL character (U+0000), which no field accepts.' })
      const path = await request(s.app).get('/api/v1/admin/users/some%00one@example.com').set('authorization', `Bearer ${admin}`)
      expect(path.status).to.equal(400)
      expect(path.body).to.include({ code: 'INVALID_INPUT', detail: 'The path holds a NUL character (U+0000), which no field accepts.' })
    })
  })
})
