/**
 * Webhook delivery throughput on PostgreSQL, in process (issue 21): a batch of events emitted through the
 * app-events service (one transaction each, to an endpoint subscribed to them), then delivered by Gantry's
 * job worker(s) — claim with SKIP LOCKED, check the creator's permission, open the sealed secret, sign,
 * POST, record the attempt and the delivery — to a receiver in this process that answers 204 at once.
 * Against a reference loop that does only the floor of that work: claims the same jobs the same way, reads
 * each message's body, POSTs it with the same HTTP client and agent settings (axios, keep-alive), and marks
 * the job done. One worker against one loop, three against three; the figure is events delivered per
 * second (target >= 0.8x). The same run times each `emit` inside its transaction: p99 < 1 ms.
 */
import { Buffer } from 'node:buffer'
import { Agent, createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { mkdirSync, rmSync } from 'node:fs'
import { gantryModules } from './users-list.mjs'

const PG_URL = process.env.GANTRY_BENCH_PG_URL ?? process.env.GANTRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DB_NAME = 'gantry_bench_webhooks'
const CONCURRENCY = 16

/** The built modules users-list.mjs loads, and the worker, the job queue, the sender and the data keys. */
async function modules(root) {
  const load = (path) => import(pathToFileURL(join(root, 'dist', 'src', path)).href)
  const [base, ...extra] = await Promise.all([
    gantryModules(root),
    load('worker/worker.js'),
    load('core/jobs/job-queue.js'),
    load('client/webhook-sender.js'),
    load('core/encryption/data-keys.js'),
  ])
  return Object.assign({}, base, ...extra)
}

/** A fresh database of its own on the PostgreSQL server. */
async function freshDatabase(m, root) {
  const server = await m.openDatabase(PG_URL, root)
  try {
    await server.knex.raw(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`)
    await server.knex.raw(`CREATE DATABASE "${DB_NAME}"`)
  } finally {
    await server.close()
  }
  const url = new URL(PG_URL)
  url.pathname = `/${DB_NAME}`
  return url.toString()
}

/** A receiver that answers 204 at once and counts; `until(n)` resolves when n have arrived since the last reset. */
async function receiver() {
  let count = 0
  let waiting
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(204).end()
      count += 1
      if (waiting && count >= waiting.n) waiting.resolve()
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    reset: () => (count = 0),
    until: (n) => (count >= n ? Promise.resolve() : new Promise((resolve) => (waiting = { n, resolve }))),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  }
}

/** The reference loop: claim due jobs like the worker, read the body, POST it with axios, mark the job done. */
function referenceLoop(m, knex, axios, agent, url, stopped) {
  const owner = `reference-${Math.random().toString(36).slice(2)}`
  return (async () => {
    while (!stopped()) {
      const jobs = await m.claimJobs(knex, { owner, now: Date.now(), leaseMs: 60_000, limit: CONCURRENCY, types: ['webhook.deliver'] })
      if (jobs.length === 0) {
        await sleep(5)
        continue
      }
      const bodies = await knex('gantry_webhook_messages')
        .select('id', 'body')
        .whereIn(
          'id',
          jobs.map((j) => j.payload.messageId),
        )
      const byId = new Map(bodies.map((b) => [b.id, b.body]))
      await Promise.all(
        jobs.map(async (job) => {
          await axios.post(url, byId.get(job.payload.messageId), {
            httpAgent: agent,
            proxy: false,
            maxRedirects: 0,
            headers: { 'content-type': 'application/json', 'webhook-id': job.payload.messageId },
            transformRequest: [(d) => d],
            validateStatus: () => true,
          })
          await m.finishJob(knex, job, owner, { status: 'succeeded' }, Date.now())
        }),
      )
    }
  })()
}

function deliveryBenchmark(workers) {
  return {
    name: `webhooks-delivery-postgres-${workers}w`,
    group: 'webhooks',
    description: `Webhook events delivered per second on PostgreSQL by ${workers} Gantry job worker(s) in process (claim, permission check, signing, attempt and delivery records) to a receiver answering 204, vs ${workers} reference loop(s) that claim the same jobs and POST their bodies with the same client (target: >= 0.8x); p99 of one emit inside its transaction < 1 ms.`,
    unit: 'events/s',
    target: { ratio: 0.8, comparison: '>=', checks: [{ label: 'emit p99', metric: 'emitP99Ms', comparison: '<', limit: 1, unit: 'ms' }] },
    whenMissed:
      'Counted, not guessed: a Gantry delivery of a healthy endpoint costs seven round trips to the database — the delivery and the endpoint read (at once), then one ' +
      'transaction (BEGIN, the attempt row, the job finished under its lease, the delivery row, COMMIT) — where the reference spends about 1.4 per event (its claim ' +
      'transaction and one read of the bodies per batch of 16, one UPDATE per job). Per event that is ~1.2 ms against ~0.5 ms here (2026-12-04, 2 cores shared ' +
      'with PostgreSQL and the receiver); three workers gain little for either side because the same two cores serve the database. Already in: opened secrets ' +
      'kept per sealed value, a slot refilled as soon as it frees, no endpoint lock on a success. What would reach 0.8: work per claimed batch instead of per ' +
      'job — one read of the batch’s deliveries and endpoints, one transaction writing its attempts (one multi-row INSERT), its deliveries and its jobs. ' +
      'The emit p99 (3.1–3.2 ms; p50 0.5 ms) is four statements in the app’s transaction — the subscribed endpoints read, then the message, its deliveries and ' +
      'their jobs written — one transaction per event with PostgreSQL on the same two cores; what would reach 1 ms: one row per event at emit (the message ' +
      'and a fan-out job), the deliveries written by the worker.',
    pairs: { full: 6, quick: 3 },
    minPairs: 3,
    // --quick is a smoke run: three pairs, their median read, no warm-up pass.
    warmup: { full: 1, quick: 0 },
    async setup({ root, quick }) {
      const events = quick ? 500 : 2000
      const m = await modules(root)
      let url
      try {
        url = await freshDatabase(m, root)
      } catch (err) {
        throw Object.assign(new Error(`PostgreSQL unreachable at ${PG_URL}: ${String(err.message).split('\n')[0]}`), { notMeasurable: true })
      }
      const work = join(root, 'bench', '.work', 'webhooks')
      rmSync(work, { recursive: true, force: true })
      mkdirSync(work, { recursive: true })
      const db = await m.openDatabase(url, root)
      await m.createMigrator({ db, appDirectory: join(work, 'migrations'), appTable: 'knex_migrations', actor: 'bench' }).latest()
      const { default: axios } = await import(pathToFileURL(join(root, 'node_modules', 'axios', 'index.js')).href)
      const sender = m.createWebhookSender({ allowPrivateTargets: true })
      const keys = m.parseDataKeys(Buffer.alloc(32, 3).toString('base64'))
      const services = m.createServices({
        knex: db.knex,
        clock: m.systemClock,
        rateLimitRoutes: m.BUILTIN_RULE_ROUTES,
        webhooks: {
          keys: () => keys,
          send: sender.send,
          settings: { attemptTimeoutMs: 15_000, disableAfterMs: 5 * 86_400_000, allowPrivateTargets: true, retentionMs: 30 * 86_400_000 },
          userAgent: 'Gantry-Webhooks/bench',
        },
      })
      const ctx = m.localContext('local:bench@bench')
      const hooks = await receiver()
      await services.webhooks.create(ctx, { url: hooks.url, eventTypes: ['orders.*'] })
      const agent = new Agent({ keepAlive: true })
      const emitTimes = []

      /** Emits the batch, one transaction each, timing each emit inside its transaction. */
      const queue = async () => {
        await db.knex('gantry_jobs').delete()
        hooks.reset()
        for (let i = 0; i < events; i++) {
          await db.knex.transaction(async (trx) => {
            const start = process.hrtime.bigint()
            await services.events.emit('orders.created', { id: i, total: 12.5 }, { trx })
            emitTimes.push(Number(process.hrtime.bigint() - start) / 1e6)
          })
        }
      }
      const timed = async (deliver) => {
        await queue()
        const start = process.hrtime.bigint()
        await deliver()
        return Math.round(events / (Number(process.hrtime.bigint() - start) / 1e9))
      }
      const subject = {
        label: `${workers} Gantry worker(s), ${events} events`,
        run: () =>
          timed(async () => {
            const pool = Array.from({ length: workers }, () =>
              m.createWorker({
                knex: db.knex,
                clock: m.systemClock,
                handlers: { 'webhook.deliver': services.deliverWebhook() },
                leaseMs: 60_000,
                pollMs: 5,
                concurrency: CONCURRENCY,
                retentionMs: 86_400_000,
                onError: (err) => console.error(err),
              }),
            )
            for (const w of pool) w.start()
            await hooks.until(events)
            await Promise.all(pool.map((w) => w.stop()))
          }),
      }
      const reference = {
        label: `${workers} reference loop(s), ${events} events`,
        run: () =>
          timed(async () => {
            let done = false
            const loops = Array.from({ length: workers }, () => referenceLoop(m, db.knex, axios, agent, hooks.url, () => done))
            await hooks.until(events)
            done = true
            await Promise.all(loops)
          }),
      }
      return {
        subject,
        reference,
        details: () => {
          const sorted = [...emitTimes].sort((a, b) => a - b)
          const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000) / 1000
          return { events, workers, emits: sorted.length, emitP50Ms: at(0.5), emitP99Ms: at(0.99) }
        },
        cleanup: async () => {
          sender.close()
          agent.destroy()
          await hooks.close()
          await db.close()
          rmSync(work, { recursive: true, force: true })
        },
      }
    },
  }
}

export default [deliveryBenchmark(1), deliveryBenchmark(3)]
