/**
 * GET /api/health/ready against real dependencies in real trouble: DESIGN.md's check-to-status mapping
 * (database unreachable → fail; an edited migration or a held migration lock → warn; Redis unreachable → warn
 * is in test/e2e/serve-faults.test.ts, against the built server) and
 * the bound on every check, so a database that hangs makes readiness fail fast instead of hanging the probe.
 * Faults go through a TCP proxy or a closed port of the test's own; the shared services are never touched.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import request from 'supertest'
import { createRunKnex } from '../../../src/db/migrator/clients.js'
import { workspaceMigrator } from '../../../src/db/migrator/index.js'
import { withLock } from '../../../src/db/migrator/lock.js'
import { enqueueJobs } from '../../../src/core/jobs/job-queue.js'
import { parseHealth, type CheckEntry, type HealthStatus } from '../../helpers/health-report.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'
import { createTestDatabase, requireDialect, type TestDatabase } from '../../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js'

interface Ready {
  status: number
  health: HealthStatus
  checks: Readonly<Record<string, CheckEntry>>
  ms: number
}

/** Past the migration check's 2 s cache (the test server's clock is manual), then one readiness probe. */
async function ready(s: TestServer): Promise<Ready> {
  s.clock.advance(2001)
  const started = performance.now()
  const res = await request(s.app).get('/api/health/ready')
  const ms = performance.now() - started
  expect(res.headers['content-type']).to.match(/^application\/health\+json/)
  const { status: health, checks } = parseHealth(res.text)
  return { status: res.status, health, checks, ms }
}

describe('readiness: GET /api/health/ready', function () {
  this.timeout(60_000)
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const server = async (...args: Parameters<typeof createTestServer>): Promise<TestServer> => {
    const s = await createTestServer(...args)
    cleanups.push(() => s.cleanup())
    return s
  }

  it('an applied migration edited afterwards warns (200), naming it; put back, it passes again', async () => {
    const s = await server('sqlite')
    const { workspace } = s.runtime
    writeFileSync(join(workspace.root, 'package.json'), JSON.stringify({ type: 'module' }))
    mkdirSync(workspace.migrations.directory, { recursive: true })
    const file = join(workspace.migrations.directory, '20260101000000_widgets.js')
    const original =
      'export async function up(knex) { await knex.schema.createTable("widgets", (t) => t.increments()) }\nexport async function down(knex) { await knex.schema.dropTable("widgets") }\n'
    writeFileSync(file, original)
    await workspaceMigrator(await s.runtime.database(), workspace.migrations, { actor: 'test' }).latest()
    expect((await ready(s)).checks['migrations:status']).to.include({ status: 'pass' })

    writeFileSync(file, original.replace('t.increments()', 't.increments(); t.string("name")'))
    const edited = await ready(s)
    expect(edited.status).to.equal(200)
    expect(edited.health).to.equal('warn')
    expect(edited.checks['migrations:status']?.status).to.equal('warn')
    expect(edited.checks['migrations:status']?.output).to.include('20260101000000_widgets').and.include('modified')
    expect(edited.checks['database:responseTime']?.status).to.equal('pass')

    writeFileSync(file, original)
    expect(await ready(s)).to.deep.include({ status: 200, health: 'pass' })
  })

  it('a background job due for longer than webhooks.maxDueAge (no worker keeps up) warns (200), saying how many and how long; done, it passes', async () => {
    const s = await server('sqlite')
    const { knex } = await s.runtime.database()
    expect((await ready(s)).checks['jobs:backlog']).to.include({ status: 'pass' })
    await enqueueJobs(
      knex,
      [
        { type: 'webhook.deliver', payload: {} },
        { type: 'webhook.deliver', payload: {} },
      ],
      s.clock.now(),
    )
    s.clock.advance(5 * 60_000 - 2001) // ready() adds 2001 ms: exactly the bound, not past it
    expect((await ready(s)).checks['jobs:backlog']).to.include({ status: 'pass' })
    s.clock.advance(1)
    const late = await ready(s)
    expect(late).to.deep.include({ status: 200, health: 'warn' })
    expect(late.checks['jobs:backlog']?.output).to.equal(
      '2 background jobs due, the oldest waiting 302 s: is a worker running (gantry serve or gantry worker)?',
    )
    await knex('gantry_jobs').update({ status: 'succeeded', run_at: null, finished_at: s.clock.now() })
    expect(await ready(s)).to.deep.include({ status: 200, health: 'pass' })
  })

  for (const dialect of ['sqlite', 'mysql'] as const) {
    it(`on ${dialect}: a held migration lock warns (200), naming its holder; released, it passes`, async function () {
      await requireDialect(this, dialect)
      const s = await server(dialect)
      const db = await s.runtime.database()
      // The migrator's own lock (GET_LOCK on MariaDB, SQLite's write transaction), held until released.
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      let taken!: () => void
      const held = new Promise<void>((resolve) => (taken = resolve))
      const run = await createRunKnex(db)
      cleanups.push(() => run.destroy())
      const holding = withLock(db, run.knex, { timeoutSeconds: 5, actor: 'lock-holder-test' }, async () => {
        taken()
        await released
      })
      cleanups.push(async () => {
        release()
        await holding
      })
      await held

      const locked = await ready(s)
      expect(locked.status).to.equal(200)
      expect(locked.health).to.equal('warn')
      expect(locked.checks['migrations:status']?.status).to.equal('warn')
      expect(locked.checks['migrations:status']?.output).to.match(new RegExp(`holds the lock \\(.+ pid ${process.pid}\\)`))

      release()
      await holding
      expect(await ready(s)).to.deep.include({ status: 200, health: 'pass' })
    })
  }

  describe('the database behind a proxy of the test', () => {
    let db: TestDatabase
    let proxy: TcpProxy
    let s: TestServer
    beforeEach(async function () {
      await requireDialect(this, 'mysql')
      db = await createTestDatabase('mysql')
      cleanups.push(() => db.drop())
      proxy = await startTcpProxy(db.url)
      s = await server('mysql', { environment: { database: proxy.via(db.url) } })
      // Before the server's cleanup: closing its pool waits for queries the silenced proxy holds.
      cleanups.push(() => proxy.stop())
      expect(await ready(s)).to.deep.include({ status: 200, health: 'pass' })
    })

    it('accepting and never answering: 503 fail within 1.5 s (each check bounded to 1 s); liveness still 200', async () => {
      proxy.silence()
      for (let probe = 0; probe < 2; probe++) {
        const hung = await ready(s)
        expect(hung.status).to.equal(503)
        expect(hung.health).to.equal('fail')
        expect(hung.checks['database:responseTime']).to.include({ status: 'fail', output: 'no answer within 1000 ms' })
        expect(hung.checks['migrations:status']).to.include({ status: 'fail', output: 'no answer within 1000 ms' })
        expect(hung.checks['redis:responseTime']?.status).to.equal('pass')
        expect(hung.ms).to.be.within(950, 1500)
      }
      const live = await request(s.app).get('/api/health')
      expect(live.status).to.equal(200)
    })

    it('unreachable (the proxy stopped): 503 fail, without waiting out the bound', async () => {
      await proxy.stop()
      const down = await ready(s)
      expect(down.status).to.equal(503)
      expect(down.health).to.equal('fail')
      expect(down.checks['database:responseTime']).to.include({ status: 'fail' })
      expect(down.checks['database:responseTime']?.output).to.match(/^unavailable \(DB_[A-Z_]+\)$/)
      expect(down.checks['migrations:status']?.status).to.equal('fail')
      expect(down.ms).to.be.below(1500)
    })
  })
})
