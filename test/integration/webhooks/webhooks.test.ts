import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { Webhook } from 'standardwebhooks'
import { createWebhookSender } from '../../../src/client/webhook-sender.js'
import type { ActorContext } from '../../../src/core/context.js'
import { parseDataKeys, sealedKeyId } from '../../../src/core/encryption/data-keys.js'
import { RETRY_SCHEDULE_MS } from '../../../src/core/webhooks/delivery.js'
import { AUDIT_EVENT_TYPES, TEST_EVENT_TYPE } from '../../../src/core/webhooks/event-types.js'
import { createEventOutbox } from '../../../src/core/webhooks/outbox.js'
import { createWorker, type Worker } from '../../../src/worker/worker.js'
import type { DataKeyRing } from '../../../src/core/encryption/data-keys.js'
import type { Resolve } from '../../../src/core/webhooks/targets.js'
import type { Dialect } from '../../../src/db/url.js'
import { createServices } from '../../../src/core/services.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

/** The data of an audited change's event, as far as these tests read it. */
interface AuditEventData {
  readonly actor: string
  readonly target: { type: string; id: string }
  readonly after: { id: number; email: string }
}

const KEY = Buffer.alloc(32, 7).toString('base64')
const DAY = 86_400_000

interface Received {
  readonly headers: IncomingMessage['headers']
  readonly body: string
  readonly path: string
}

/** A receiver on 127.0.0.1 that records every request and answers as `reply` says. */
async function receiver(): Promise<{
  url: string
  received: Received[]
  reply: (req: IncomingMessage, res: ServerResponse, n: number) => void
  setReply(fn: (req: IncomingMessage, res: ServerResponse, n: number) => void): void
  close(): Promise<void>
}> {
  const received: Received[] = []
  let reply = (_req: IncomingMessage, res: ServerResponse, _n: number): void => void res.writeHead(204).end()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' })
      reply(req, res, received.length)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    reply,
    setReply(fn) {
      reply = fn
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Services over a migrated database of `dialect` that send for real, sealing secrets under `keys()`. */
interface WebhookFixture {
  readonly f: IdentityFixture
  readonly sender: ReturnType<typeof createWebhookSender>
  cleanup(): Promise<void>
}

async function webhookFixture(
  dialect: Dialect,
  options: { keys?: () => DataKeyRing | undefined; allowPrivateTargets?: boolean; attemptTimeoutMs?: number; resolve?: Resolve } = {},
): Promise<WebhookFixture> {
  const allowPrivateTargets = options.allowPrivateTargets ?? true
  const sender = createWebhookSender({ allowPrivateTargets, resolve: options.resolve })
  const ring = parseDataKeys(KEY)
  const f = await identityFixture(dialect, {
    webhooks: {
      keys: options.keys ?? (() => ring),
      send: sender.send,
      settings: { attemptTimeoutMs: options.attemptTimeoutMs ?? 2000, disableAfterMs: DAY, allowPrivateTargets, retentionMs: 30 * DAY },
      userAgent: 'Gantry-Webhooks/test',
    },
  })
  // Signatures carry the clock's time, and the outside verifier checks it against the real one.
  f.clock.set(Date.now())
  return {
    f,
    sender,
    async cleanup() {
      sender.close()
      await f.cleanup()
    },
  }
}

/** A worker over `f`'s database that runs `handler` (default: `f`'s deliveries) when stepped; an error fails the test. */
function deliveryWorker(f: IdentityFixture, handler = f.services.deliverWebhook()): Worker & { drain(): Promise<void> } {
  const worker = createWorker({
    knex: f.db.knex,
    clock: f.clock,
    handlers: { 'webhook.deliver': handler },
    leaseMs: 60_000,
    pollMs: 1000,
    concurrency: 8,
    retentionMs: 7 * DAY,
    onError: (err) => {
      throw err
    },
  })
  return Object.assign(worker, {
    /** Runs the worker until nothing is due now. */
    async drain() {
      while ((await worker.runOnce()) > 0);
    },
  })
}

for (const dialect of DIALECTS) {
  describe(`webhooks on ${dialect}`, function () {
    let w: WebhookFixture
    let f: IdentityFixture
    let r: Awaited<ReturnType<typeof receiver>>
    let worker: ReturnType<typeof deliveryWorker>
    const settings = { attemptTimeoutMs: 500 }

    beforeEach(async function () {
      await requireDialect(this, dialect)
      w = await webhookFixture(dialect, settings)
      f = w.f
      r = await receiver()
      worker = deliveryWorker(f)
    })
    afterEach(async () => {
      await worker?.stop()
      await r?.close()
      await w?.cleanup()
    })

    const drain = (): Promise<void> => worker.drain()

    it('an audited change reaches a subscribed endpoint in a body that Standard Webhooks verifies; the secret is shown once and stored sealed', async () => {
      const { endpoint, secret } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.*'], description: 'CRM sync' })
      expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/)
      expect(endpoint).to.include({ url: r.url, enabled: true, createdBy: 'local:test@host', description: 'CRM sync' })
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      await f.services.roles.create(f.ctx, { name: 'support', permissions: ['users:read'] }) // not subscribed
      await drain()
      expect(r.received).to.have.length(1)
      const [got] = r.received
      const payload = new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>) as {
        type: string
        environment: string
        data: AuditEventData
      }
      expect(payload.type).to.equal('users.created')
      expect(payload.environment).to.equal('development')
      expect(payload.data).to.include({ actor: 'local:test@host' })
      expect(payload.data.target).to.deep.equal({ type: 'user', id: String(payload.data.after.id) })
      expect(payload.data.after.email).to.equal('ada@example.com')
      expect(got!.headers['user-agent']).to.equal('Gantry-Webhooks/test')
      expect(got!.headers['webhook-id']).to.match(/^msg_/)

      // The secret is nowhere in clear: not in the endpoint row, not in the audit log.
      const dump = JSON.stringify([await f.db.knex('gantry_webhook_endpoints').select('*'), await f.db.knex('gantry_audit_log').select('*')])
      expect(dump).not.to.include(secret)
      expect(dump).not.to.include(secret.slice('whsec_'.length))
      const page = await f.services.webhooks.deliveries(f.ctx, endpoint.id)
      expect(page.data.map((d) => [d.eventType, d.status, d.attempts, d.lastStatus])).to.deep.equal([['users.created', 'succeeded', 1, 204]])
    })

    it('an event is written in its change’s transaction: a change rolled back sends nothing', async () => {
      await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['*'] })
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      await rejection(f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })) // a duplicate: rolled back
      await drain()
      // `*` hears of its own creation too. (Deliveries run side by side: they arrive in any order.)
      expect(r.received.map((x) => (JSON.parse(x.body) as { type: string }).type).sort()).to.deep.equal(['users.created', 'webhooks.created'])
    })

    it('retries on the schedule with jitter, honours Retry-After, keeps one webhook-id, and records each attempt', async () => {
      const { endpoint } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.created'] })
      r.setReply((_req, res, n) => {
        // An HTML error page: every line break is kept as an escape four characters long, and the column still holds it.
        if (n === 1) res.writeHead(500, { 'content-type': 'text/plain' }).end('boom \u001b[31mred\u001b[0m' + '<p>\r\n'.repeat(400))
        else if (n === 2) res.writeHead(429, { 'retry-after': '600' }).end()
        else res.writeHead(200).end('ok')
      })
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      await drain()
      let [d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'pending', attempts: 1, lastStatus: 500 })
      expect(d!.lastAttempt?.responseExcerpt?.startsWith('boom \\x1B[31mred\\x1B[0m<p>\\x0D\\x0A<p>')).to.equal(true)
      expect(d!.lastAttempt?.responseExcerpt).to.have.length(1100)
      // Pending, with its next attempt queued: a redelivery now would send it twice.
      expect(await rejection(f.services.webhooks.redeliver(f.ctx, String(d!.id)))).to.include({ code: 'DELIVERY_PENDING' })
      const wait1 = Date.parse(d!.nextAttemptAt!) - f.clock.now()
      expect(wait1).to.be.within(RETRY_SCHEDULE_MS[1]! * 0.9, RETRY_SCHEDULE_MS[1]! * 1.1)
      f.clock.advance(wait1 - 1)
      await drain()
      expect(r.received).to.have.length(1) // not yet due
      f.clock.advance(1)
      await drain()
      ;[d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'pending', attempts: 2, lastStatus: 429 })
      // The schedule says ~5 min; the receiver asked for 10.
      expect(Date.parse(d!.nextAttemptAt!) - f.clock.now()).to.equal(600_000)
      f.clock.advance(600_000)
      await drain()
      ;[d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'succeeded', attempts: 3, lastStatus: 200, nextAttemptAt: null })
      expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).to.equal(1)
      expect((await f.services.webhooks.get(f.ctx, endpoint.id)).failingSince).to.equal(null)
    })

    it('gives up after the last attempt of the schedule; redeliver and replay send it again with the same webhook-id', async () => {
      const { endpoint } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.created'] })
      r.setReply((_req, res) => void res.writeHead(503).end())
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      for (let i = 0; i < RETRY_SCHEDULE_MS.length; i++) {
        await drain()
        f.clock.advance(RETRY_SCHEDULE_MS[i + 1] === undefined ? 0 : RETRY_SCHEDULE_MS[i + 1]! * 1.1)
      }
      let [d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'failed', attempts: RETRY_SCHEDULE_MS.length, lastStatus: 503 })
      // Failing for longer than disableAfter (a day) switched the endpoint off: back on, then resend.
      expect((await f.services.webhooks.get(f.ctx, endpoint.id)).enabled).to.equal(false)
      await f.services.webhooks.enable(f.ctx, endpoint.id)
      r.setReply((_req, res) => void res.writeHead(200).end())
      await f.services.webhooks.redeliver(f.ctx, String(d!.id))
      await drain()
      ;[d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'succeeded' })
      expect(d!.lastAttempt?.trigger).to.equal('manual')
      expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).to.equal(1)
      expect(await f.services.webhooks.replay(f.ctx, endpoint.id, { since: '30d' })).to.deep.equal({ requeued: 0 })
    })

    it('an attempt that hangs past the timeout or answers with a redirect is a failure; the redirect is not followed', async () => {
      const { endpoint } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.created'] })
      r.setReply((req, res, n) => {
        if (n === 1) return // never answers
        if (req.url === '/elsewhere') res.writeHead(200).end()
        else res.writeHead(302, { location: '/elsewhere' }).end()
      })
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      await drain()
      let [d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d!.lastError).to.equal(`no answer within ${settings.attemptTimeoutMs} ms`)
      expect(d!.lastAttempt?.statusCode).to.equal(null)
      f.clock.advance(RETRY_SCHEDULE_MS[1]! * 1.1)
      await drain()
      ;[d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'pending', lastStatus: 302 })
      expect(d!.lastError).to.match(/redirect .* not followed/)
      expect(r.received.map((x) => x.path)).to.deep.equal(['/hooks', '/hooks'])
    })

    it('during a rotation both secrets sign; each alone verifies under Standard Webhooks, and the old one stops after the grace period', async () => {
      const { endpoint, secret: first } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['roles.*'] })
      const { secret: second, endpoint: rotated } = await f.services.webhooks.rotateSecret(f.ctx, endpoint.id, { grace: '2s' })
      expect(second).not.to.equal(first)
      expect(rotated.previousSecretUntil).to.equal(new Date(f.clock.now() + 2000).toISOString())
      await f.services.roles.create(f.ctx, { name: 'support', permissions: ['users:read'] })
      await drain()
      const [during] = r.received
      expect(String(during!.headers['webhook-signature']).split(' ')).to.have.length(2)
      for (const s of [first, second]) new Webhook(s).verify(during!.body, during!.headers as Record<string, string>)
      f.clock.advance(2000) // the outside verifier allows 5 minutes either side of the real clock
      await f.services.roles.update(f.ctx, 'support', { grant: ['audit:read'] })
      await drain()
      const after = r.received[1]!
      expect(String(after.headers['webhook-signature']).split(' ')).to.have.length(1)
      new Webhook(second).verify(after.body, after.headers as Record<string, string>)
      expect(() => new Webhook(first).verify(after.body, after.headers as Record<string, string>)).to.throw()
    })

    it('sends nothing its creator can no longer read: a creator disabled (or demoted) after subscribing makes deliveries skipped', async () => {
      await f.services.users.create(f.ctx, { email: 'boss@example.com', role: 'admin', password: STRONG }) // the last admin cannot be demoted
      const { user } = await f.services.users.create(f.ctx, { email: 'hooks@example.com', role: 'admin', password: STRONG })
      const creator: ActorContext = { actor: `user:${user.id}`, permissions: ['*'] }
      const { endpoint } = await f.services.webhooks.create(creator, { url: r.url, eventTypes: ['users.*'] })
      await f.services.users.create(f.ctx, { email: 'one@example.com', password: STRONG })
      await drain()
      await f.services.users.update(f.ctx, 'hooks@example.com', { role: 'viewer' }) // *:read: still reads users
      await f.services.users.create(f.ctx, { email: 'two@example.com', password: STRONG })
      await drain()
      await f.services.users.disable(f.ctx, 'hooks@example.com')
      f.clock.advance(1000) // what a creator may read is trusted for 1 s at most, as every token's rights are
      await f.services.users.create(f.ctx, { email: 'three@example.com', password: STRONG })
      await drain()
      const sent = r.received.map((x) => (JSON.parse(x.body) as { type: string; data: { target: { id: string } } }).type)
      expect(sent.sort()).to.deep.equal(['users.created', 'users.created', 'users.updated']) // side by side: any order
      const skipped = (await f.services.webhooks.deliveries(f.ctx, endpoint.id, { status: 'skipped' })).data
      expect(skipped.map((d) => d.eventType)).to.deep.equal(['users.created', 'users.disabled'])
      expect(skipped[0]!.lastError).to.equal(`user:${user.id}, who created the endpoint, no longer holds users:read`)
    })

    it('refuses to subscribe to events the actor cannot read, and URLs and event types that are not well formed', async () => {
      const viewer: ActorContext = { actor: 'user:99', permissions: ['webhooks:write', 'roles:read'] }
      const refused = await rejection(f.services.webhooks.create(viewer, { url: r.url, eventTypes: ['roles.*', 'users.created'] }))
      expect(refused).to.include({ code: 'FORBIDDEN' })
      expect(refused.message).to.include('users:read')
      expect(await rejection(f.services.webhooks.create({ ...viewer, permissions: ['roles:read'] }, { url: r.url, eventTypes: ['roles.*'] }))).to.include({
        code: 'FORBIDDEN',
      })
      expect(await rejection(f.services.webhooks.create(f.ctx, { url: 'ftp://example.com/x', eventTypes: ['*'] }))).to.include({ code: 'INVALID_INPUT' })
      expect(await rejection(f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['Users created'] }))).to.include({ code: 'INVALID_INPUT' })
    })

    it('keeps delivery history for the retention period: then a message goes with its deliveries and attempts, unless one is still pending', async () => {
      const { endpoint } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.*'] })
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      await drain()
      r.setReply((_req, res) => void res.writeHead(500).end())
      await f.services.users.create(f.ctx, { email: 'bob@example.com', password: STRONG }) // fails: retried, still pending
      await drain()
      const count = async (table: string) => Number((await f.db.knex(table).count({ n: '*' }))[0]?.n)
      const prune = () => Promise.all(f.services.housekeeping.map((clean) => clean(f.clock.now())))
      await prune()
      expect(await count('gantry_webhook_messages')).to.equal(2) // users.created twice (webhooks.created has no subscriber: never written)
      f.clock.advance(30 * DAY - 1)
      await prune()
      expect(await count('gantry_webhook_messages')).to.equal(2) // not older than the retention yet
      f.clock.advance(2)
      await prune()
      expect((await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data.map((d) => [d.eventType, d.status])).to.deep.equal([['users.created', 'pending']])
      expect(await count('gantry_webhook_attempts')).to.equal(1)
    })

    it('a secret this process cannot open (no data key) fails the attempt on the schedule, never leaving the delivery stuck', async () => {
      const { endpoint } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.*'] })
      // The services of a process without GANTRY_ENCRYPTION_KEY, over the same database.
      const keyless = deliveryWorker(f, createServices({ knex: f.db.knex, clock: f.clock, rateLimitRoutes: BUILTIN_RULE_ROUTES }).deliverWebhook())
      await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
      await keyless.drain()
      const [d] = (await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data
      expect(d).to.include({ status: 'pending', attempts: 1, lastStatus: null })
      expect(d!.lastError).to.match(/^not signed: .*GANTRY_ENCRYPTION_KEY/)
      expect(r.received).to.have.length(0)
      f.clock.advance(RETRY_SCHEDULE_MS[1]! * 1.1)
      await drain() // a worker that has the key
      expect((await f.services.webhooks.deliveries(f.ctx, endpoint.id)).data[0]).to.include({ status: 'succeeded', attempts: 2 })
    })

    it('an endpoint failing for longer than disableAfter is switched off, audited, and the other endpoints hear of it', async () => {
      const failing = await receiver()
      failing.setReply((_req, res) => void res.writeHead(500).end())
      try {
        const { endpoint: bad } = await f.services.webhooks.create(f.ctx, { url: failing.url, eventTypes: ['users.*'] })
        await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['webhooks.*'] })
        await f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG })
        await drain()
        expect((await f.services.webhooks.get(f.ctx, bad.id)).failingSince).to.equal(new Date(f.clock.now()).toISOString())
        for (const wait of RETRY_SCHEDULE_MS.slice(1)) {
          f.clock.advance(wait * 1.1)
          await drain()
        }
        const off = await f.services.webhooks.get(f.ctx, bad.id)
        expect(off.enabled).to.equal(false)
        expect(off.disabledReason).to.match(/^failing since /)
        const audit = (await f.services.audit.list(f.ctx, { action: 'webhooks.disable' })).data
        expect(audit.map((e) => [e.actor, e.targetId])).to.deep.equal([['system:webhooks', bad.id]])
        const heard = r.received.map((x) => JSON.parse(x.body) as { type: string; data: { target: { id: string } } })
        expect(heard.map((e) => [e.type, e.data.target.id])).to.deep.include(['webhooks.disabled', bad.id])
      } finally {
        await failing.close()
      }
    })
  })
}

describe('webhook targets when private addresses are not allowed', function () {
  let w: WebhookFixture | undefined
  let r: Awaited<ReturnType<typeof receiver>>
  afterEach(async () => {
    await r?.close()
    await w?.cleanup()
  })

  it('a private IP literal is refused at creation; a name that resolves to loopback (DNS rebinding) is refused at connect time and reaches nobody', async () => {
    r = await receiver()
    const port = new URL(r.url).port
    // A public-looking name that "resolves" to the receiver on loopback, as a rebinding DNS server would answer.
    w = await webhookFixture('sqlite', { allowPrivateTargets: false, resolve: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) })
    const { f } = w
    const literal = await rejection(f.services.webhooks.create(f.ctx, { url: `http://10.1.2.3:${port}/x`, eventTypes: ['users.*'] }))
    expect(literal).to.include({ code: 'INVALID_INPUT' })
    expect(literal.message).to.include('private')
    const { endpoint } = await f.services.webhooks.create(f.ctx, { url: `http://hooks.example.com:${port}/x`, eventTypes: ['users.*'] })
    const result = await f.services.webhooks.test(f.ctx, endpoint.id)
    expect(result.ok).to.equal(false)
    expect(result.statusCode).to.equal(null)
    expect(result.error).to.include('loopback')
    expect(r.received).to.have.length(0)
  })
})

describe('webhook signatures of every event type (SQLite)', function () {
  let w: WebhookFixture | undefined
  let worker: ReturnType<typeof deliveryWorker> | undefined
  let r: Awaited<ReturnType<typeof receiver>>
  afterEach(async () => {
    await worker?.stop()
    await r?.close()
    await w?.cleanup()
  })

  it('every type Gantry sends, each body as the outbox writes it, verifies under Standard Webhooks before and during a secret rotation', async () => {
    r = await receiver()
    w = await webhookFixture('sqlite')
    const { f } = w
    const drain = (worker = deliveryWorker(f)).drain
    const { endpoint, secret: first } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['*'] })
    const types = [...new Set(Object.values(AUDIT_EVENT_TYPES)), TEST_EVENT_TYPE]
    const outbox = createEventOutbox({ environmentName: 'development' })
    const send = async () => {
      await drain() // the endpoint's own events (created, secret rotated) first
      r.received.length = 0
      await f.db.knex.transaction((trx) =>
        outbox.write(
          trx,
          types.map((type) => ({ type, data: { actor: 'local:test@host', target: { type: 'x', id: 'é\u2028"' }, before: null, after: { type } } })),
          f.clock.now(),
        ),
      )
      await drain()
      expect(r.received.map((x) => (JSON.parse(x.body) as { type: string }).type).sort()).to.deep.equal([...types].sort())
    }
    await send()
    for (const got of r.received) new Webhook(first).verify(got.body, got.headers as Record<string, string>)
    const { secret: second } = await f.services.webhooks.rotateSecret(f.ctx, endpoint.id, { grace: '1h' })
    await send()
    for (const got of r.received) for (const s of [first, second]) new Webhook(s).verify(got.body, got.headers as Record<string, string>)
  })
})

describe('replacing the data key that seals webhook secrets (SQLite)', function () {
  let w: WebhookFixture | undefined
  let r: Awaited<ReturnType<typeof receiver>>
  afterEach(async () => {
    await r?.close()
    await w?.cleanup()
  })

  it('new key first, old after it: secrets sealed under the old one are sealed again under the new, and still sign once the old key is gone', async () => {
    r = await receiver()
    const oldKey = Buffer.alloc(32, 1).toString('base64')
    const newKey = Buffer.alloc(32, 2).toString('base64')
    let ring = parseDataKeys(oldKey)
    w = await webhookFixture('sqlite', { keys: () => ring })
    const { f } = w
    const { endpoint, secret } = await f.services.webhooks.create(f.ctx, { url: r.url, eventTypes: ['users.*'] })
    await f.services.webhooks.rotateSecret(f.ctx, endpoint.id, { grace: '1h' }) // a previous secret to carry over too
    ring = parseDataKeys(`${newKey},${oldKey}`)
    const sealedUnder = async () => {
      const row = await f.db.knex('gantry_webhook_endpoints').first('secret', 'previous_secret')
      return [sealedKeyId(row.secret as string), sealedKeyId(row.previous_secret as string)]
    }
    const oldId = parseDataKeys(oldKey)!.current.id
    expect(await sealedUnder()).to.deep.equal([oldId, oldId])
    expect(await f.services.webhooks.resealSecrets(f.ctx)).to.deep.equal({ keyId: ring!.current.id, resealed: 1, endpoints: 1 })
    expect(await sealedUnder()).to.deep.equal([ring!.current.id, ring!.current.id])
    expect(await f.services.webhooks.resealSecrets(f.ctx)).to.deep.equal({ keyId: ring!.current.id, resealed: 0, endpoints: 1 })
    ring = parseDataKeys(newKey)
    const result = await f.services.webhooks.test(f.ctx, endpoint.id)
    expect(result.ok).to.equal(true)
    // The previous secret (the one shown at creation) still signs during the grace period: it came through the change of key too.
    new Webhook(secret).verify(r.received[0]!.body, r.received[0]!.headers as Record<string, string>)
    const audit = (await f.services.audit.list(f.ctx, { action: 'keys.rotate-encryption' })).data
    expect(audit.map((e) => e.targetId)).to.deep.equal([ring!.current.id, ring!.current.id])
    expect(await rejection(f.services.webhooks.resealSecrets({ actor: 'user:5', permissions: ['*:read', 'webhooks:write'] }))).to.include({
      code: 'FORBIDDEN',
    })
  })
})
