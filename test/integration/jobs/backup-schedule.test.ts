/**
 * Scheduled backups (issue 23) on SQLite, PostgreSQL and MariaDB: two workers, each with its own runtime
 * (its own connection pool; one shared on SQLite) on one database, stepped with runOnce on one manual clock. Each slot gives
 * exactly one backup, however the workers race; slots missed while no worker ran give one backup when one
 * is back; after each backup retention keeps the newest of the last days and weeks and nothing else the
 * schedule made, while backups taken by hand, another environment's and a file that does not read stay.
 * A backup that fails (its folder cannot be made) is logged and warns in readiness, as an overdue slot does.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { expect } from 'chai'
import pino from 'pino'
import { backupContext } from '../../../src/backup-context.js'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { manualClock } from '../../../src/core/clock.js'
import { JOBS_TABLE } from '../../../src/core/jobs/job-queue.js'
import { listBackups, takeBackup } from '../../../src/db/backups.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import type { Dialect } from '../../../src/db/url.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { BACKUP_JOB, scheduledBackupCheck, scheduledBackups } from '../../../src/worker/backup-schedule.js'
import { createWorker, type Worker } from '../../../src/worker/worker.js'
import { createTestDatabase, requireDialect, type TestDatabase } from '../../helpers/services.js'

const DAY = 86_400_000
/** 03:00 UTC on `day` of January 2026 (the 5th is a Monday). */
const slot = (day: number): number => Date.UTC(2026, 0, day, 3)

/** A workspace whose production environment backs up nightly at 03:00 into `directory`, keeping 2 daily and 1 weekly. */
function workspaceFor(root: string, url: string, directory: string) {
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(
    join(root, 'gantry.config.json'),
    JSON.stringify({ environments: { production: { database: url, backups: { directory, schedule: '0 3 * * *', keep: { daily: 2, weekly: 1 } } } } }),
  )
  writeFileSync(join(root, '.env.production'), `GANTRY_AUTH_SECRET=${randomBytes(36).toString('base64url')}\n`)
  return loadWorkspace({ cwd: root })
}

/** A worker as start.ts composes one, on the test's clock, that only moves when stepped. */
async function backupWorker(runtime: Runtime, clock: ReturnType<typeof manualClock>, log: string[], errors: unknown[]): Promise<Worker> {
  const db = await runtime.database()
  const logger = pino({ level: 'info' }, { write: (line: string) => void log.push(line) })
  const backups = await scheduledBackups({ runtime, knex: db.knex, clock, logger, leaseMs: 60_000 })
  expect(backups, 'the dump tool is installed').to.not.equal(undefined)
  return createWorker({
    knex: db.knex,
    clock,
    handlers: { [BACKUP_JOB]: backups!.handler },
    beforeClaim: [backups!.tick],
    leaseMs: 60_000,
    pollMs: 60_000,
    concurrency: 2,
    retentionMs: 365 * DAY,
    onError: (err) => errors.push(err),
  })
}

for (const dialect of ['sqlite', 'postgres', 'mysql'] as Dialect[]) {
  describe(`scheduled backups on ${dialect}: two workers, one database`, function () {
    this.timeout(120_000)
    let root: string
    let testDb: TestDatabase
    let runtimes: Runtime[] = []
    let workers: Worker[] = []
    const clock = manualClock(Date.UTC(2026, 0, 5, 1))
    const log: string[] = []
    const errors: unknown[] = []

    before(async function () {
      await requireDialect(this, dialect)
      root = mkdtempSync(join(tmpdir(), 'gantry-schedule-'))
      testDb = await createTestDatabase(dialect)
      const workspace = workspaceFor(root, testDb.url, join(root, 'backups'))
      // SQLite's drivers are synchronous: a second pool in this process waiting out the first's write lock
      // would block the very event loop that lock's holder needs to commit. Its two workers share one
      // runtime here, as they would share the file across processes.
      const pools = dialect === 'sqlite' ? 1 : 2
      runtimes = await Promise.all(
        Array.from({ length: pools }, () => openRuntime({ workspace, environment: resolveEnvironment(workspace, 'production', {}) })),
      )
      await createMigrator({
        db: await runtimes[0]!.database(),
        appDirectory: workspace.migrations.directory,
        appTable: workspace.migrations.tableName,
        actor: 'test',
      }).latest()
      workers = await Promise.all([runtimes[0]!, runtimes.at(-1)!].map((r) => backupWorker(r, clock, log, errors)))
    })

    after(async () => {
      await Promise.all(workers.map((w) => w.stop()))
      await Promise.all(runtimes.map((r) => r.close()))
      await testDb?.drop()
      if (root) rmSync(root, { recursive: true, force: true })
    })

    const knex = () => runtimes[0]!.database().then((db) => db.knex)
    /** Both workers pass once at the same time, then once more (the second pass must find nothing). */
    const stepBoth = async (): Promise<number> => {
      const ran = (await Promise.all(workers.map((w) => w.runOnce()))).reduce((a, b) => a + b, 0)
      expect((await Promise.all(workers.map((w) => w.runOnce()))).reduce((a, b) => a + b, 0)).to.equal(0)
      return ran
    }
    /** The slots the backup jobs were enqueued for, in order. */
    const jobSlots = async (): Promise<string[]> =>
      (
        (await (await knex())(JOBS_TABLE).where({ type: BACKUP_JOB }).orderBy('id').select('payload', 'status')) as Array<{ payload: string; status: string }>
      ).map((r) => `${new Date((JSON.parse(r.payload) as { slot: number }).slot).toISOString()} ${r.status}`)
    /** Days (UTC) of production's scheduled backups in the folder, newest first. */
    const scheduledDays = async (): Promise<string[]> =>
      (await listBackups(join(root, 'backups')))
        .filter((b) => b.manifest?.trigger === 'schedule' && b.manifest.environment === 'production')
        .map((b) => b.manifest!.startedAt.slice(0, 10))

    it('before any worker took the schedule up, readiness warns; the first pass only sets the first slot', async () => {
      const environment = runtimes[0]!.environment
      expect((await scheduledBackupCheck(await knex(), environment, clock.now())).status).to.equal('warn')
      expect(await stepBoth()).to.equal(0)
      expect(await scheduledBackupCheck(await knex(), environment, clock.now())).to.deep.equal({ status: 'ok', message: 'next due 2026-01-05T03:00:00.000Z' })
    })

    it('each of four nightly slots gives exactly one backup, whichever worker takes it; retention keeps the last two days', async () => {
      for (let day = 5; day <= 8; day++) {
        clock.set(slot(day) + 30_000)
        expect(await stepBoth(), `slot of the ${day}th`).to.equal(1)
        if (day === 5) {
          // Kept whatever the schedule's retention decides: a backup taken by hand, one of another environment, a file that does not read.
          const context = { ...(await backupContext(runtimes[0]!)), clock }
          clock.advance(60_000)
          await takeBackup(context, { trigger: 'manual' })
          clock.advance(60_000)
          await takeBackup({ ...context, environment: { ...context.environment, name: 'staging' } }, { trigger: 'schedule' })
          writeFileSync(join(root, 'backups', 'torn.gantry-backup'), 'not a backup')
        }
      }
      expect(await jobSlots()).to.deep.equal([5, 6, 7, 8].map((d) => `${new Date(slot(d)).toISOString()} succeeded`))
      expect(await scheduledDays()).to.deep.equal(['2026-01-08', '2026-01-07'])
      const names = readdirSync(join(root, 'backups')).sort()
      expect(names.filter((n) => n.startsWith('staging-'))).to.have.length(1)
      expect(names).to.include('torn.gantry-backup')
      const manual = (await listBackups(join(root, 'backups'))).filter((b) => b.manifest?.trigger === 'manual')
      expect(manual.map((b) => b.manifest!.startedAt.slice(0, 10))).to.deep.equal(['2026-01-05'])
      // Each scheduled backup is audited as the schedule's, once per slot.
      const audited = (await (await knex())('gantry_audit_log').where({ action: 'db.backup', actor: 'system:backups' }).count({ n: '*' })) as Array<{
        n: number | string
      }>
      expect(Number(audited[0]!.n)).to.equal(4)
      expect(errors).to.deep.equal([])
    })

    it('four slots missed while no worker ran: one backup when the workers are back, then the schedule goes on from now', async () => {
      clock.set(slot(12) + 30 * 60_000)
      expect(await stepBoth()).to.equal(1)
      expect((await jobSlots()).at(-1)).to.equal(`${new Date(slot(9)).toISOString()} succeeded`)
      expect(await jobSlots()).to.have.length(5)
      // The missed days leave no gap in the days kept: the last two that have a backup.
      expect(await scheduledDays()).to.deep.equal(['2026-01-12', '2026-01-08'])
      const environment = runtimes[0]!.environment
      expect((await scheduledBackupCheck(await knex(), environment, clock.now())).message).to.match(
        /^last at 2026-01-12T03:30:\d\d.\d+Z; next due 2026-01-13T03:00:00.000Z$/,
      )
      clock.set(slot(13) - 1)
      expect(await stepBoth()).to.equal(0)
      clock.set(slot(13))
      expect(await stepBoth()).to.equal(1)
      expect(await scheduledDays()).to.deep.equal(['2026-01-13', '2026-01-12'])
    })
  })
}

describe('a scheduled backup that fails (SQLite)', function () {
  let root: string
  let testDb: TestDatabase
  let runtime: Runtime
  let worker: Worker

  afterEach(async () => {
    await worker?.stop()
    await runtime?.close()
    await testDb?.drop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('is logged, recorded as failed (not retried), and warns in readiness until a later slot succeeds; a slot no worker takes warns as overdue', async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-schedule-'))
    testDb = await createTestDatabase('sqlite')
    // The backups folder cannot be made: a file is in its way.
    const blocker = join(root, 'blocked')
    writeFileSync(blocker, '')
    const workspace = workspaceFor(root, testDb.url, join(blocker, 'backups'))
    runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'production', {}) })
    const db = await runtime.database()
    await createMigrator({ db, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName, actor: 'test' }).latest()
    const clock = manualClock(slot(5) - 60_000)
    const log: string[] = []
    const errors: unknown[] = []
    worker = await backupWorker(runtime, clock, log, errors)
    await worker.runOnce()
    clock.set(slot(5))
    expect(await worker.runOnce()).to.equal(1)
    const job = (await db.knex(JOBS_TABLE).where({ type: BACKUP_JOB }).first('status', 'last_error')) as { status: string; last_error: string }
    expect(job.status).to.equal('failed')
    expect(job.last_error).to.match(/ENOTDIR|EEXIST|not a directory/i)
    const failed = log.map((l) => JSON.parse(l) as { msg: string; level: number }).filter((l) => l.msg === 'scheduled backup failed')
    expect(failed).to.have.length(1)
    expect(failed[0]!.level).to.equal(50)
    const check = await scheduledBackupCheck(db.knex, runtime.environment, clock.now())
    expect(check.status).to.equal('warn')
    expect(check.message).to.equal("the last scheduled backup (2026-01-05T03:00:00.000Z) failed; see the worker's log")
    // Public: the readiness message names no path.
    expect(check.message).to.not.include(basename(root))
    // The next slot passes with no worker running: overdue an hour after it.
    await db.knex('gantry_settings').where({ key: 'backups:last-scheduled' }).delete()
    clock.set(slot(6) + 61 * 60_000)
    const overdue = await scheduledBackupCheck(db.knex, runtime.environment, clock.now())
    expect(overdue).to.deep.equal({
      status: 'warn',
      message: 'the scheduled backup due at 2026-01-06T03:00:00.000Z has not started: is a worker with the dump tool running?',
    })
    expect(errors).to.deep.equal([])
  })
})
