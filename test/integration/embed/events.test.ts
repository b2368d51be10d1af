/**
 * The app's own webhook events through the library: `gantry.events.emit()` inside the app's transaction
 * (sent if and only if it commits), delivered by the worker createGantry runs with `worker: true`, signed so
 * that `verifyWebhook` (the library's receiver side) accepts them.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { ctx, embedFixture, library, type EmbedFixture } from './fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { until } from '../../helpers/serve-process.js'

interface Delivery {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

describe('the library: events.emit() and the worker of createGantry({ worker: true }) (SQLite)', function () {
  let f: EmbedFixture
  let server: Server
  const received: Delivery[] = []
  let arrived: (() => void) | undefined
  /** Resolves once `n` deliveries have arrived in all. */
  const deliveries = (n: number): Promise<void> =>
    received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (arrived = () => received.length >= n && resolve()))

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(204).end()
        arrived?.()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    f = await embedFixture('sqlite', { redis: false, gantry: { worker: true } })
  })
  after(async () => {
    await f?.cleanup()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('sends an app event committed with the app’s transaction, never one rolled back, signed for verifyWebhook', async () => {
    const { port } = server.address() as AddressInfo
    const { secret } = await f.services.webhooks.create(ctx, { url: `http://127.0.0.1:${port}/hooks`, eventTypes: ['orders.*'] })
    const { knex } = await f.runtime.database()
    await f.gantry.events.emit('orders.created', { id: 1, total: 12.5 })
    await knex
      .transaction(async (trx) => {
        await f.gantry.events.emit('orders.cancelled', { id: 1 }, { trx })
        throw new Error('the app changed its mind')
      })
      .catch(() => undefined)
    await knex.transaction((trx) => f.gantry.events.emit('orders.paid', { id: 1 }, { trx }))
    await deliveries(2)
    const { verifyWebhook } = await library()
    const events = received.map((d) => {
      verifyWebhook(secret, d.headers, d.body)
      return JSON.parse(d.body) as { type: string; environment: string; data: unknown }
    })
    expect(events.map((e) => [e.type, e.data])).to.deep.equal([
      ['orders.created', { id: 1, total: 12.5 }],
      ['orders.paid', { id: 1 }],
    ])
    expect(events[0]!.environment).to.equal('development')
    // Nothing else is on its way: the rolled-back event never reached the outbox.
    expect(Number((await knex('gantry_webhook_messages').count({ n: '*' }))[0]?.n)).to.equal(2)
    // The app's /metrics counts them by endpoint and outcome (each outcome a series from the first), and shows the backlog.
    const [endpoint] = (await f.services.webhooks.list(ctx)).data
    // Counted once each delivery is recorded, just after the receiver answered: read when both are.
    const text = await until(async () => {
      const scraped = await f.gantry.metrics.metrics()
      return /gantry_webhook_attempt_duration_seconds_count 2\n/.test(scraped) ? scraped : undefined
    }, 'both deliveries counted')
    expect(text).to.include(`gantry_webhook_deliveries_total{endpoint="${endpoint!.id}",outcome="succeeded"} 2`)
    expect(text).to.include(`gantry_webhook_deliveries_total{endpoint="${endpoint!.id}",outcome="failed"} 0`)
    expect(text).to.match(/gantry_webhook_attempt_duration_seconds_count 2\n/)
    expect(text).to.match(/gantry_jobs_due 0\n/)
  })

  it('refuses an event type of Gantry’s own areas, a malformed one, and a payload that is not small JSON', async () => {
    for (const type of ['users.created', 'Orders Created', 'orders', 'webhooks.x']) {
      expect(await rejection(f.gantry.events.emit(type, {})), type).to.include({ code: 'INVALID_INPUT' })
    }
    expect(await rejection(f.gantry.events.emit('orders.big', { blob: 'x'.repeat(300 * 1024) }))).to.include({ code: 'INVALID_INPUT' })
    expect(await rejection(f.gantry.events.emit('orders.odd', { n: 1n }))).to.include({ code: 'INVALID_INPUT' })
  })
})
