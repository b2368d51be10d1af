/**
 * Reliability, 'nothing lost': `gantry db backup` taken while `gantry serve` is under write load (issue 23),
 * on SQLite, MariaDB and PostgreSQL (at full scale private servers of its own, with SEED_USERS users first, so
 * that dumps take a while). CLIENTS clients write through the server's HTTP API
 * (test/helpers/acknowledged-writes.ts: users, their API keys, logins and refreshes — rows that reference
 * each other — and revocations), remembering when each write was acknowledged; meanwhile the built CLI takes
 * BACKUPS backups, as an operator would. Each backup is then restored with `gantry db restore --force` into
 * a fresh database of its own (the same environment, pointed elsewhere by DATABASE_URL: nothing is
 * scrubbed) and checked there: every table's row count is the manifest's (the audit log's plus the
 * restore's own entry); the foreign keys are the source's and no row breaks one; no write is torn (a row
 * without its audit entry, a rotated token without its successor …); the copy takes new rows (its id
 * counters restored); and every write acknowledged before the manifest's `startedAt` is there as
 * acknowledged. That bound is safe on every dialect: takeBackup reads the clock before the dump's snapshot
 * opens (on PostgreSQL the one Gantry exports for pg_dump; on MariaDB --single-transaction's; on SQLite
 * VACUUM INTO's read transaction), and an answer comes after its commit. The figure is the number of
 * backups with data lost: a backup or restore that failed, or any check above that did not hold. The load
 * must meanwhile see only the answers it expects, and the server log no error.
 */
import { expect } from 'chai'
import { backupResultSchema, type BackupManifest } from '../../src/core/backups/backup.schema.js'
import { systemClock } from '../../src/core/clock.js'
import { localContext } from '../../src/core/context.js'
import { createServices } from '../../src/core/services.js'
import { openDatabase } from '../../src/db/connect.js'
import { tableRowCounts } from '../../src/db/dump-tools.js'
import type { Dialect } from '../../src/db/url.js'
import { BUILTIN_RULE_ROUTES } from '../../src/server/builtin-routes.js'
import { missingWrites, newRowsRefused, startWriteLoad, tornWrites, type Ack } from '../helpers/acknowledged-writes.js'
import { parseJson, runGantry } from '../helpers/cli.js'
import { dialectDatabases } from '../helpers/dialect-databases.js'
import { danglingReferences, foreignKeys, type ForeignKey } from '../helpers/foreign-keys.js'
import { atScale, FULL_SCALE, record } from '../helpers/scorecard.js'
import { ADMIN, createServeWorkspace, killLeftovers, listeningUrl, postJson, startServe, stopServe, type ServeWorkspace } from '../helpers/serve-process.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../helpers/services.js'

/** Concurrent writing clients: each write is one or two argon2 hashes, on a machine of 2 shared cores. */
const CLIENTS = 3
const BACKUPS = atScale(5, 1)
/**
 * Writes acknowledged before the first backup is launched, and after each backup before the next (or the end):
 * more than CLIENTS after, so that some were sent after the backup ended (see `sentAfter` in verify()).
 */
const WRITES_BEFORE = atScale(40, 5)
const WRITES_AFTER = atScale(40, CLIENTS + 2)
/**
 * Users inserted in bulk before the load (full scale): a database whose dump takes a while, so that writes
 * land while the dump runs, not only while the CLI starts.
 */
const SEED_USERS = atScale(100_000, 0)
const NAMES: Record<Dialect, string> = atScale(
  { sqlite: 'SQLite', mysql: 'private MariaDB', postgres: 'private PostgreSQL' },
  { sqlite: 'SQLite', mysql: 'MariaDB', postgres: 'PostgreSQL' },
)

/** Where a run's databases (the served one and each restore's) are made. */
interface Databases {
  create(dialect: Dialect): Promise<TestDatabase>
  stop(): Promise<void>
}

/**
 * At full scale, on private servers of this scenario's own (docs/reliability.md). Reduced, databases of its own
 * on the shared services, which nothing here pauses or kills: starting a private MariaDB and PostgreSQL
 * would cost more than the scenario itself under `npm test`.
 */
const databases = (): Databases => atScale<Databases>(dialectDatabases(), { create: createTestDatabase, stop: async () => undefined })

/** One backup as the CLI took it, with the wall-clock times around it. */
interface TakenBackup {
  readonly dialect: Dialect
  readonly launchedAt: number
  readonly exitedAt: number
  /** Writes acknowledged while the command ran (from launch to exit): it ran under load. */
  readonly ackedWhileRunning: number
  readonly file?: string
  readonly manifest?: BackupManifest
  /** Why there is no backup (the command's exit and stderr). */
  readonly failure?: string
}

/** What the restored copy of one backup showed. */
interface Verdict {
  readonly dialect: Dialect
  readonly file: string | undefined
  /** Writes acknowledged before the manifest's startedAt, all of which the copy must hold. */
  readonly ackedBefore: number
  readonly problems: readonly string[]
  readonly figures: Readonly<Record<string, number>>
}

interface DialectRun {
  readonly backups: readonly TakenBackup[]
  readonly verdicts: readonly Verdict[]
  readonly acks: number
  readonly requests: number
  readonly unexpected: readonly string[]
  readonly serverErrors: readonly string[]
  /** The source's foreign keys, which each copy must have and keep. */
  readonly foreignKeys: number
  readonly wallMs: number
  /** Wall time of each phase: the server up with its admin, the load with its backups, the restores with their checks. */
  readonly phasesMs: Readonly<Record<'setup' | 'load' | 'verify', number>>
}

async function adminToken(url: string): Promise<string> {
  const login = await postJson(`${url}/api/v1/auth/login`, ADMIN)
  expect(login.status, login.body).to.equal(200)
  return (JSON.parse(login.body) as { accessToken: string }).accessToken
}

/** ADMIN, created as a local operator's `gantry users create` would, and SEED_USERS users inserted in bulk. */
async function prepare(url: string, root: string): Promise<void> {
  const db = await openDatabase(url, root)
  try {
    const services = createServices({ knex: db.knex, clock: systemClock, rateLimitRoutes: BUILTIN_RULE_ROUTES })
    await services.users.create(localContext('local:test@host'), { email: ADMIN.email, role: 'admin', password: ADMIN.password })
    const now = Date.now()
    const seeded = Array.from({ length: SEED_USERS }, (_, i) => ({
      email: `seed-${i}@example.com`,
      name: `Seeded user ${i}`,
      role: 'viewer',
      created_at: now,
      updated_at: now,
    }))
    // 200 a statement: SQLite takes at most 500 terms in a compound select.
    await db.knex.batchInsert('gantry_users', seeded, 200)
  } finally {
    await db.close()
  }
}

/** `gantry db backup --json` in the workspace, timed, with the writes acknowledged meanwhile. */
async function takeBackup(ws: ServeWorkspace, dialect: Dialect, acks: readonly Ack[]): Promise<TakenBackup> {
  const launchedAt = Date.now()
  const before = acks.length
  const run = await ws.gantry(['db', 'backup', '--json'])
  const exitedAt = Date.now()
  const base = { dialect, launchedAt, exitedAt, ackedWhileRunning: acks.length - before }
  if (run.code !== 0) return { ...base, failure: `exit ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}` }
  const result = backupResultSchema.parse(parseJson(run))
  return { ...base, file: result.file, manifest: result.manifest }
}

/** Restores `backup` into a fresh database and checks the copy against its manifest, the source's keys and the acknowledged writes. */
async function verify(dbs: Databases, ws: ServeWorkspace, backup: TakenBackup, acks: readonly Ack[], sourceKeys: readonly ForeignKey[]): Promise<Verdict> {
  const { dialect, file, manifest } = backup
  if (!file || !manifest) return { dialect, file, ackedBefore: 0, problems: [`backup failed: ${backup.failure ?? 'no result'}`], figures: {} }
  const startedAt = Date.parse(manifest.startedAt)
  const before = acks.filter((a) => a.at < startedAt)
  const finishedAt = Date.parse(manifest.finishedAt)
  const figures = {
    launchToStartMs: startedAt - backup.launchedAt,
    /** Writes sent and answered while the dump ran (between the manifest's startedAt and finishedAt). */
    ackedWhileDumping: acks.filter((a) => a.sentAt >= startedAt && a.at <= finishedAt).length,
    dumpMs: finishedAt - startedAt,
    ackedWhileRunning: backup.ackedWhileRunning,
    rows: Object.values(manifest.rowCounts).reduce((a, b) => a + b, 0),
  }
  const scratch = await dbs.create(dialect)
  try {
    const restore = await runGantry(['db', 'restore', file, '--force', '--json'], { cwd: ws.root, env: { DATABASE_URL: scratch.url } })
    if (restore.code !== 0)
      return { dialect, file, ackedBefore: before.length, problems: [`restore exited ${restore.code}: ${restore.stderr.trim().slice(-500)}`], figures }
    const copy = await openDatabase(scratch.url, ws.root)
    try {
      const k = copy.knex
      const problems: string[] = []
      const counts = await tableRowCounts(copy)
      // The restore's own entry joins the audit log (the source never restored: the backup holds none).
      const [restoreEntries] = (await k('gantry_audit_log').where({ action: 'db.restore' }).count({ n: '*' })) as Array<{ n: number | string }>
      const expected: Record<string, number> = {
        ...manifest.rowCounts,
        gantry_audit_log: (manifest.rowCounts.gantry_audit_log ?? 0) + Number(restoreEntries?.n ?? 0),
      }
      for (const table of new Set([...Object.keys(expected), ...Object.keys(counts)]))
        if (counts[table] !== expected[table])
          problems.push(`row count of ${table}: ${counts[table] ?? 'no table'} restored, ${expected[table] ?? 'none'} expected`)
      const keys = await foreignKeys(k, dialect)
      if (JSON.stringify(keys) !== JSON.stringify(sourceKeys))
        problems.push(`foreign keys restored: ${JSON.stringify(keys)}; the source's: ${JSON.stringify(sourceKeys)}`)
      for (const d of await danglingReferences(k, keys)) problems.push(`${d.rows} row(s) of ${d.table}.${d.column} reference no ${d.parent}.${d.parentColumn}`)
      const missing = await missingWrites(k, before)
      problems.push(...missing.slice(0, 10).map((m) => `acknowledged before the backup began: ${m}`))
      if (missing.length > 10) problems.push(`… ${missing.length - 10} more writes acknowledged before the backup began missing`)
      const torn = await tornWrites(k)
      problems.push(...torn.slice(0, 10).map((t) => `torn write: ${t}`))
      const refused = await newRowsRefused(k)
      if (refused !== undefined) problems.push(`the copy refuses new rows: ${refused}`)
      // The other side, which shows the check can see a missing write: one sent after the backup command
      // exited committed after its snapshot, so the copy must lack it.
      const sentAfter = acks.filter((a) => a.sentAt > backup.exitedAt)
      const present = sentAfter.length - (await missingWrites(k, sentAfter)).length
      if (present > 0) problems.push(`${present} of ${sentAfter.length} writes sent after the backup command exited are in the copy`)
      return {
        dialect,
        file,
        ackedBefore: before.length,
        problems,
        figures: { ...figures, missing: missing.length, torn: torn.length, sentAfter: sentAfter.length },
      }
    } finally {
      await copy.close()
    }
  } finally {
    await scratch.drop()
  }
}

/**
 * The workspace's development environment (what `gantry init` makes) on `db`: one `gantry init` serves every
 * dialect, each pointed at its database by DATABASE_URL.
 */
function onDatabase(ws: ServeWorkspace, db: TestDatabase): ServeWorkspace {
  const env = { DATABASE_URL: db.url }
  return { ...ws, env, gantry: (args, input) => runGantry(args, { cwd: ws.root, env, input }) }
}

/** One dialect: a served database under load, BACKUPS backups taken meanwhile, each restored and checked. */
async function underLoad(dbs: Databases, initialised: ServeWorkspace, dialect: Dialect): Promise<DialectRun> {
  const started = performance.now()
  const db = await dbs.create(dialect)
  const ws = onDatabase(initialised, db)
  try {
    // --migrate: Gantry's migrations applied by the server itself; the admin created here, through the
    // services `users create` calls: two CLI runs fewer per dialect.
    const serve = startServe(ws, ['--migrate'])
    const url = await listeningUrl(serve)
    await prepare(db.url, ws.root)
    const loadStarted = performance.now()
    const load = startWriteLoad(url, await adminToken(url), CLIENTS)
    const backups: TakenBackup[] = []
    try {
      await load.waitForAcks(WRITES_BEFORE)
      for (let b = 0; b < BACKUPS; b++) {
        backups.push(await takeBackup(ws, dialect, load.acks))
        await load.waitForAcks(load.acks.length + WRITES_AFTER)
      }
    } finally {
      await load.stop()
    }
    const serverErrors = serve.logs.filter((l) => Number(l.level) >= 50).map((l) => JSON.stringify(l).slice(0, 500))
    const exit = await stopServe(serve)
    if (exit.code !== 0) serverErrors.push(`serve exited ${exit.code ?? exit.signal}: ${serve.stderr().slice(-500)}`)
    const verifyStarted = performance.now()
    const source = await openDatabase(db.url, ws.root)
    const sourceKeys = await foreignKeys(source.knex, dialect).finally(() => source.close())
    const verdicts: Verdict[] = []
    for (const backup of backups) verdicts.push(await verify(dbs, ws, backup, load.acks, sourceKeys))
    return {
      backups,
      verdicts,
      acks: load.acks.length,
      requests: load.requests(),
      unexpected: load.unexpected,
      serverErrors,
      foreignKeys: sourceKeys.length,
      wallMs: Math.round(performance.now() - started),
      phasesMs: {
        setup: Math.round(loadStarted - started),
        load: Math.round(verifyStarted - loadStarted),
        verify: Math.round(performance.now() - verifyStarted),
      },
    }
  } finally {
    await db.drop()
  }
}

describe('reliability: backups taken while gantry serve is under write load', function () {
  const dbs = databases()
  let ws: ServeWorkspace | undefined
  afterEach(() => killLeftovers())
  after(async () => {
    ws?.cleanup()
    await dbs.stop()
  })

  it(`${BACKUPS} backup(s) per dialect under ${CLIENTS} writing clients: each restores whole, consistent, with every write acknowledged before it`, async function () {
    this.timeout(atScale(900_000, 180_000))
    if (!FULL_SCALE) for (const dialect of DIALECTS) await requireDialect(this, dialect)
    // One `gantry init` for every dialect: its development database is ${DATABASE_URL}, set per run (onDatabase).
    ws = await createServeWorkspace({ databaseUrl: 'sqlite::memory:', migrated: false })
    const runs = new Map<Dialect, DialectRun>()
    for (const dialect of DIALECTS) runs.set(dialect, await underLoad(dbs, ws, dialect))
    const all = [...runs.values()]
    const verdicts = all.flatMap((r) => r.verdicts)
    const lost = verdicts.filter((v) => v.problems.length > 0)
    const acks = all.reduce((n, r) => n + r.acks, 0)
    const ackedBefore = verdicts.reduce((n, v) => n + v.ackedBefore, 0)
    record({
      id: 'backup-under-load-data-lost',
      area: 'nothing lost',
      what: 'backups taken under write load that restored with data lost: a write acknowledged before the backup began missing, a row count unlike the manifest’s, a dangling foreign key, a torn transaction, or no backup or restore at all',
      tried:
        `${verdicts.length} backups by \`gantry db backup\` (${BACKUPS} per dialect: gantry serve on ${DIALECTS.map((d) => NAMES[d]).join(', ')}` +
        `${SEED_USERS ? `, ${SEED_USERS.toLocaleString('en-US')} users seeded in each` : ''}) under ${CLIENTS} clients ` +
        `writing users, API keys, logins, refreshes and revocations (${acks.toLocaleString('en-US')} writes acknowledged), each restored by \`gantry db restore\` into a fresh database ` +
        `and checked against ${ackedBefore.toLocaleString('en-US')} writes acknowledged before it began`,
      value: lost.length,
      unit: 'backups',
      target: { comparison: '=', value: 0 },
      detail: {
        clients: CLIENTS,
        backupsPerDialect: BACKUPS,
        byDialect: Object.fromEntries(
          [...runs].map(([dialect, r]) => [
            dialect,
            {
              acks: r.acks,
              requests: r.requests,
              unexpected: r.unexpected.length,
              serverErrors: r.serverErrors.length,
              foreignKeys: r.foreignKeys,
              wallMs: r.wallMs,
              phasesMs: r.phasesMs,
              backups: r.verdicts.map((v) => ({ ackedBefore: v.ackedBefore, ...v.figures, problems: v.problems.length })),
            },
          ]),
        ),
        problems: lost.flatMap((v) => v.problems.slice(0, 5).map((p) => `${v.dialect} ${v.file ?? ''}: ${p}`)).slice(0, 20),
        unexpectedAnswers: all.flatMap((r) => r.unexpected).slice(0, 10),
      },
    })
    for (const [dialect, r] of runs) {
      console.log(
        `      ${dialect}: ${r.requests} requests, ${r.acks} writes acknowledged; ${r.wallMs} ms (${JSON.stringify(r.phasesMs)}); backups: ` +
          r.verdicts
            .map(
              (v) =>
                `${v.ackedBefore} before, ${v.figures.ackedWhileRunning ?? '?'} during (${v.figures.ackedWhileDumping ?? '?'} in the dump), dump ${v.figures.dumpMs ?? '?'} ms, ${v.problems.length} problems`,
            )
            .join('; '),
      )
    }
    expect(
      lost.flatMap((v) => v.problems.map((p) => `${v.dialect} ${v.file ?? ''}: ${p}`)),
      'backups restored with data lost',
    ).to.deep.equal([])
    for (const [dialect, r] of runs) {
      expect(r.unexpected, `${dialect}: answers the load did not expect`).to.deep.equal([])
      expect(r.serverErrors, `${dialect}: server errors`).to.deep.equal([])
      expect(r.verdicts, `${dialect}: backups checked`).to.have.length(BACKUPS)
      expect(r.foreignKeys, `${dialect}: foreign keys to check`).to.be.at.least(3)
      for (const b of r.backups) expect(b.ackedWhileRunning, `${dialect}: writes acknowledged while a backup ran`).to.be.above(0)
      for (const v of r.verdicts) {
        expect(v.ackedBefore, `${dialect}: writes acknowledged before a backup began`).to.be.at.least(WRITES_BEFORE)
        expect(v.figures.sentAfter, `${dialect}: writes sent after a backup ended`).to.be.above(0)
      }
    }
  })
})
