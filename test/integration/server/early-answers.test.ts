/**
 * What the hot paths skip, and what they must keep. Liveness is answered by the node:http listener before
 * Express (liveness.ts): the same answer as the Express route, the request id, the metrics count and,
 * while draining, Connection: close. Admin operations validate their input once, in the service: the edge
 * hands body and query on as sent, and still refuses unknown fields and bad targets as it always did.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import request from 'supertest'
import { listen } from '../../../src/server/listen.js'
import { metricSum } from '../../helpers/metrics-text.js'
import { parseAnswers, sendBytes } from '../../helpers/http-probes.js'
import { createTestServer, USERS, type TestServer } from '../../helpers/server.js'

describe('answers before Express and validation once', function () {
  let s: TestServer
  let server: Server
  let admin: string

  before(async () => {
    s = await createTestServer('sqlite')
    server = (await listen(s.app, s.lifecycle, { port: 0, host: '127.0.0.1', drainDelayMs: 0, shutdownTimeoutMs: 1000 })).server
    admin = await s.token('admin')
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
    await s.cleanup()
  })

  describe('GET /api/health before Express', () => {
    it('answers as the Express route does: status, media type, length and body', async () => {
      const early = await request(server).get('/api/health').expect(200)
      // The app alone (no listener in front) serves the route through Express.
      const routed = await request(s.app).get('/api/health').expect(200)
      for (const res of [early, routed]) {
        expect(res.headers['content-type']).to.equal('application/health+json; charset=utf-8')
        expect(Number(res.headers['content-length'])).to.equal(Buffer.byteLength(res.text))
        const body = JSON.parse(res.text) as Record<string, unknown>
        expect(body).to.include({ status: 'pass', version: '0.0.0-test' })
        expect(Object.keys(body)).to.deep.equal(['status', 'version', 'uptimeSeconds'])
        expect(body.uptimeSeconds).to.be.a('number')
      }
      expect(Object.keys(early.headers).sort()).to.deep.equal(Object.keys(routed.headers).sort())
      // HEAD, a query string and a trailing slash go to the Express route: the same answer.
      expect((await request(server).head('/api/health').expect(200)).headers['content-type']).to.equal('application/health+json; charset=utf-8')
      expect(JSON.parse((await request(server).get('/api/health?probe=1').expect(200)).text)).to.include({ status: 'pass' })
      expect(JSON.parse((await request(server).get('/api/health/').expect(200)).text)).to.include({ status: 'pass' })
      await request(server).post('/api/health').expect(405)
    })

    it('echoes a plain X-Request-Id and makes one otherwise', async () => {
      expect((await request(server).get('/api/health').set('X-Request-Id', 'probe-7').expect(200)).headers['x-request-id']).to.equal('probe-7')
      expect((await request(server).get('/api/health').set('X-Request-Id', 'a b').expect(200)).headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/)
    })

    it('is counted under its route template', async () => {
      const count = async () =>
        metricSum((await request(server).get('/metrics').expect(200)).text, 'gantry_http_requests_total', {
          route: '/api/health',
          method: 'GET',
          status: '200',
        })
      const before = await count()
      for (let i = 0; i < 3; i++) await request(server).get('/api/health').expect(200)
      expect((await count()) - before).to.equal(3)
    })
  })

  describe('admin input, validated once by the service', () => {
    it('reaches the service as sent, and the service parses it', async () => {
      const users = s.services.users as { list: (...args: unknown[]) => Promise<unknown> }
      const original = users.list
      const seen: unknown[] = []
      users.list = (ctx, input) => {
        seen.push(input)
        return original(ctx, input)
      }
      try {
        const page = await request(server).get('/api/v1/admin/users?limit=2').set('Authorization', `Bearer ${admin}`).expect(200)
        expect(page.body.data).to.have.length(2)
      } finally {
        users.list = original
      }
      // The text of the query string: the edge no longer parses it into numbers and defaults first.
      expect(seen).to.deep.equal([{ limit: '2' }])
    })

    it('still refuses unknown fields, bad values and bad targets at once, as before', async () => {
      const auth = { Authorization: `Bearer ${admin}` }
      const typo = await request(server).get('/api/v1/admin/users?limt=2').set(auth).expect(400)
      expect(typo.body).to.include({ code: 'INVALID_INPUT', detail: 'Unrecognized key: "limt".' })
      const range = await request(server).get('/api/v1/admin/users?limit=0').set(auth).expect(400)
      expect(range.body.code).to.equal('INVALID_INPUT')
      expect(range.body.detail).to.match(/^limit: /)
      const body = await request(server).post('/api/v1/admin/users').set(auth).send({ email: 'new@example.com', nmae: 'x' }).expect(400)
      expect(body.body.detail).to.equal('Unrecognized key: "nmae".')
      // A bad target and a bad body at once: the body is named first, as the edge always did.
      const both = await request(server).patch('/api/v1/admin/users/not-an-email').set(auth).send({ role: 42 }).expect(400)
      expect(both.body.detail).to.match(/^role: /)
      const target = await request(server).patch('/api/v1/admin/users/not-an-email').set(auth).send({ name: 'x' }).expect(400)
      expect(target.body.detail).to.match(/^email: /)
      await request(server)
        .get(`/api/v1/admin/users/${encodeURIComponent(USERS.viewer)}`)
        .set(auth)
        .expect(200)
    })
  })

  // Last: a drain cannot be undone.
  describe('draining', () => {
    const raw = async (text: string) => parseAnswers(await sendBytes((server.address() as AddressInfo).port, Buffer.from(text, 'latin1')))

    it('asks the client to close its connection while draining; readiness fails', async () => {
      const [open] = await raw('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n')
      expect(open?.headers.connection).to.equal('keep-alive')
      s.lifecycle.beginDrain()
      const [closing] = await raw('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n')
      expect(closing).to.deep.include({ status: 200 })
      expect(closing?.headers.connection).to.equal('close')
      expect((await request(server).get('/api/health/ready')).status).to.equal(503)
    })
  })
})
