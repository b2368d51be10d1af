/**
 * GET /api/v1/admin/traffic over the real app on a manual clock: every answer the app gives is counted in
 * its minute (health's early answer aside), a 429 from a rate-limit rule as refused too, minutes roll over
 * as the clock moves, and the route needs `ratelimits:read`: a caller without it gets 403, no caller 401.
 */
import type { Server } from 'node:http'
import { expect } from 'chai'
import request from 'supertest'
import { z } from 'zod'
import { listen } from '../../../src/server/listen.js'
import type { TrafficSnapshot } from '../../../src/server/traffic.js'
import { local } from '../../helpers/admin-fixture.js'
import { createTestServer, PASSWORD, type TestServer } from '../../helpers/server.js'

const MINUTE = 60_000
const TRAFFIC = '/api/v1/admin/traffic'

describe('GET /api/v1/admin/traffic', function () {
  let s: TestServer
  let server: Server
  let admin: string

  /** The snapshot as an admin reads it (the read itself is counted only once it is answered). */
  const traffic = async (token = admin): Promise<TrafficSnapshot> =>
    (
      await request(server)
        .get(TRAFFIC)
        .set('Authorization', `Bearer ${token}`)
        .expect(200)
        .expect('Content-Type', /^application\/json/)
    ).body as TrafficSnapshot
  const current = (snapshot: TrafficSnapshot) => snapshot.minutes.at(-1)!

  before(async () => {
    s = await createTestServer('sqlite')
    // The listener `gantry serve` uses, so GET /api/health is answered before Express as in production.
    server = (await listen(s.app, s.lifecycle, { port: 0, host: '127.0.0.1', drainDelayMs: 0, shutdownTimeoutMs: 1000 })).server
  })
  after(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await s?.cleanup()
  })
  // Each test starts at the start of a minute of its own, so its counts are the only ones in it.
  beforeEach(async () => {
    s.clock.advance(MINUTE - (s.clock.now() % MINUTE))
    admin = await s.token('admin')
  })

  it("answers this instance's last 60 minutes, oldest first, the current one last", async () => {
    const snapshot = await traffic()
    expect(snapshot.instance).to.be.a('string').and.match(/:\d+$/)
    expect(snapshot.windowMinutes).to.equal(60)
    expect(snapshot.minutes).to.have.length(60)
    expect(current(snapshot)).to.deep.equal({ at: new Date(s.clock.now()).toISOString(), requests: 0, refused: 0 })
    expect(Date.parse(snapshot.minutes[0]!.at)).to.equal(s.clock.now() - 59 * MINUTE)
  })

  it('counts every answer of the app in its minute, errors and the metrics scrape included, early health answers not', async () => {
    await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(200)
    await request(server).get('/api/v1/auth/me').expect(401)
    await request(server).get('/no/such/route').expect(404)
    await request(server).get('/metrics').expect(200)
    await request(server).get('/api/health/ready').expect(200)
    // Answered before Express (liveness.answerEarly): not counted.
    await request(server).get('/api/health').expect(200)
    expect(current(await traffic())).to.include({ requests: 5, refused: 0 })
    // The next minute starts from zero; the last one keeps its counts, the read above among them.
    s.clock.advance(MINUTE)
    const later = await traffic()
    expect(current(later)).to.include({ requests: 0, refused: 0 })
    expect(later.minutes.at(-2)).to.include({ requests: 6, refused: 0 })
  })

  it('counts a 429 from a rate-limit rule as refused', async () => {
    await s.services.rateLimits.set(local, 'traffic-me', { match: 'GET /api/v1/auth/me', limit: 1, window: '1h', burst: 1 })
    await s.rateLimits.refresh()
    try {
      await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(200)
      const refused = await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(429)
      expect(refused.body).to.include({ code: 'RATE_LIMITED' })
      expect(current(await traffic())).to.include({ requests: 2, refused: 1 })
    } finally {
      await s.services.rateLimits.remove(local, 'traffic-me')
      await s.rateLimits.refresh()
    }
  })

  it('needs ratelimits:read: a viewer (*:read) may read it, a role without it gets 403, no credentials 401', async () => {
    await traffic(await s.token('viewer'))
    await s.services.roles.create(local, { name: 'traffic-support', permissions: ['users:read'] })
    await s.services.users.create(local, { email: 'support@example.com', role: 'traffic-support', password: PASSWORD })
    const support = (await s.services.sessions.login('support@example.com', PASSWORD, local)).accessToken
    const forbidden = await request(server).get(TRAFFIC).set('Authorization', `Bearer ${support}`).expect(403)
    expect(forbidden.headers['content-type']).to.match(/^application\/problem\+json/)
    expect(forbidden.body).to.include({ status: 403, code: 'FORBIDDEN', required: 'ratelimits:read' })
    const anonymous = await request(server).get(TRAFFIC).expect(401)
    expect(anonymous.headers['content-type']).to.match(/^application\/problem\+json/)
    expect(anonymous.body).to.include({ status: 401, code: 'UNAUTHENTICATED' })
    expect(anonymous.headers['www-authenticate']).to.match(/^Bearer /)
    // The refusals are answers too: the viewer's read, the 403 and the 401.
    expect(current(await traffic())).to.include({ requests: 3, refused: 0 })
  })

  it('is described in the OpenAPI document: its permission, its tag, and an answer its schema accepts', async () => {
    type Operation = { 'x-permission'?: string; tags: string[]; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }
    const doc = (await request(server).get('/api/openapi.json').expect(200)).body as { paths: Record<string, Record<string, Operation>> }
    const op = doc.paths[TRAFFIC]?.get
    expect(op?.['x-permission']).to.equal('ratelimits:read')
    expect(op?.tags).to.deep.equal(['rate-limits'])
    expect(op?.responses).to.include.keys('200', '401', '403', '429')
    // Read back from the document's JSON Schema, as a client would, not from the route table.
    const schema = z.fromJSONSchema(op!.responses['200']!.content!['application/json']!.schema)
    await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(200)
    const snapshot = await traffic()
    expect(current(snapshot).requests).to.be.greaterThan(0)
    expect(schema.safeParse(snapshot).error?.issues ?? []).to.deep.equal([])
    expect(schema.safeParse({ ...snapshot, minutes: [{ at: snapshot.minutes[0]!.at, requests: 1.5, refused: 0 }] }).success).to.equal(false)
  })
})
