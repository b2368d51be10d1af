/**
 * The two SQLite drivers Gantry can run on (src/db/sqlite-driver.ts), in the same process and the same run:
 * libsql (the subject: prebuilt, the default) vs better-sqlite3 (the reference: compiled from source), each
 * through Gantry's own knex config and services, on its own file under bench/.work/sqlite-driver/ (gitignored):
 * - list: `users.list`, a page of 50 at 90% depth of 10^5 users (a read: statement, rows into objects);
 * - write: `users.update` of one user's name (a write transaction: read, update, audit row, commit);
 * - migrate: `migrate latest` of Gantry's own migrations on a new file (DDL, checksums, foreign-key check);
 * - startup: `gantry migrate status --json` as a process, GANTRY_SQLITE_DRIVER naming each driver (what a
 *   command pays to load the driver: libsql finds its platform package at run time).
 * Target: libsql within 1.25x of better-sqlite3 on each, set before measuring (a quarter slower at most is a
 * price worth an install without a compiler). Not measurable without better-sqlite3 installed:
 * it is no dependency of Gantry (`npm i --no-save better-sqlite3@12.11.1` compiles it for a run).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gantry } from '../lib/commands.mjs'
import { benchEnv, timeOnce } from '../lib/measure.mjs'
import { gantryModules } from './users-list.mjs'

const USERS = 100_000
const PAGE = 50
const DRIVERS = { subject: 'libsql', reference: 'better-sqlite3' }

/** Gantry's modules plus the driver choice, from the build at `root`. */
async function modules(root) {
  const [m, driver] = await Promise.all([gantryModules(root), import(pathToFileURL(join(root, 'dist', 'src', 'db', 'sqlite-driver.js')).href)])
  return { ...m, ...driver }
}

/** The Database on `file` through the named driver, whatever GANTRY_SQLITE_DRIVER says. */
async function openWith(m, driverName, file, root) {
  let driver
  try {
    driver = m.chooseSqliteDriver(driverName)
  } catch (err) {
    throw Object.assign(new Error(`${driverName} does not load here (${err.message}); \`npm i --no-save better-sqlite3@12.11.1\` installs the reference`), {
      notMeasurable: true,
    })
  }
  return m.openDatabase(`sqlite:${file}`, root, { sqliteDriver: driver })
}

/** A migrated database with USERS users (seeded once, kept) and the services over it. */
async function seeded(m, driverName, root, workDir) {
  const db = await openWith(m, driverName, join(workDir, `users-${driverName}.sqlite3`), root)
  await m.createMigrator({ db, appDirectory: join(workDir, 'migrations'), appTable: 'knex_migrations', actor: 'bench' }).latest()
  const count = Number((await db.knex('gantry_users').count({ c: '*' }).first()).c)
  if (count !== USERS) {
    await db.knex('gantry_users').delete()
    const hash = await m.argon2Hasher().hash('bench password, never used to log in')
    const now = Date.now()
    await db.knex.raw(
      `INSERT INTO gantry_users (email, name, role, status, password_hash, created_at, updated_at) ` +
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) ` +
        `SELECT 'user' || n || '@example.com', 'User ' || n, 'viewer', 'active', ?, ?, ? FROM seq`,
      [USERS, hash, now, now],
    )
    await db.knex.raw('ANALYZE')
  }
  return {
    db,
    services: m.createServices({ knex: db.knex, clock: m.systemClock, rateLimitRoutes: m.BUILTIN_RULE_ROUTES }),
    ctx: m.localContext('local:bench@bench'),
  }
}

/** Per-call milliseconds of `call`, repeated `repeat` times per sample. */
function timed(label, repeat, call, close) {
  return {
    label,
    async run() {
      const start = process.hrtime.bigint()
      for (let i = 0; i < repeat; i++) await call(i)
      return Number(process.hrtime.bigint() - start) / 1e6 / repeat
    },
    close,
  }
}

const WORKLOADS = {
  async list(m, driverName, { root, workDir, quick }) {
    const { db, services, ctx } = await seeded(m, driverName, root, workDir)
    const row = await db
      .knex('gantry_users')
      .select('id')
      .orderBy('id')
      .offset(Math.floor(USERS * 0.9) - 1)
      .limit(1)
      .first()
    const input = { limit: PAGE, cursor: m.encodeCursor(row.id) }
    if ((await services.users.list(ctx, input)).data.length !== PAGE) throw new Error(`the page at 90% on ${driverName} is not full`)
    return timed(
      `${driverName}: users.list, page of ${PAGE} at 90% of ${USERS} users`,
      quick ? 50 : 200,
      () => services.users.list(ctx, input),
      () => db.close(),
    )
  },
  async write(m, driverName, { root, workDir, quick }) {
    const { db, services, ctx } = await seeded(m, driverName, root, workDir)
    return timed(
      `${driverName}: users.update (name), one transaction with its audit row`,
      quick ? 25 : 100,
      (i) => services.users.update(ctx, `user${(i % 100) + 1}@example.com`, { name: `Renamed ${i}` }),
      () => db.close(),
    )
  },
  async migrate(m, driverName, { root, workDir, quick }) {
    let n = 0
    const migrate = async () => {
      const file = join(workDir, `migrate-${driverName}-${n++}.sqlite3`)
      const db = await openWith(m, driverName, file, root)
      try {
        await m.createMigrator({ db, appDirectory: join(workDir, 'migrations'), appTable: 'knex_migrations', actor: 'bench' }).latest()
      } finally {
        await db.close()
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
      }
    }
    return timed(`${driverName}: migrate latest (Gantry's migrations) on a new file`, quick ? 3 : 10, migrate, async () => undefined)
  },
}

function benchmark(workload) {
  return {
    name: `sqlite-driver-${workload}`,
    group: 'sqlite-driver',
    description: `SQLite driver, ${workload}: libsql vs better-sqlite3 in the same process, through Gantry's knex config and services (target: ratio <= 1.25).`,
    target: { ratio: 1.25, comparison: '<=' },
    whenMissed:
      'libsql calls SQLite through a Rust layer (neon, a tokio block_on per call) where better-sqlite3 calls it from C++: ~1.2x on a page of ' +
      "rows measured alone, and Gantry turns libsql's ArrayBuffer BLOBs into Buffers (5-15% more). On this shared 2-core machine these " +
      'figures moved between 0.7x and 1.6x from run to run (docs/sqlite-driver.md lists the runs); the install without a compiler is worth it.',
    pairs: { full: 15, quick: 10 },
    async setup({ root, quick }) {
      const m = await modules(root)
      const workDir = join(root, 'bench', '.work', 'sqlite-driver')
      mkdirSync(join(workDir, 'migrations'), { recursive: true })
      const options = { root, workDir, quick }
      const subject = await WORKLOADS[workload](m, DRIVERS.subject, options)
      const reference = await WORKLOADS[workload](m, DRIVERS.reference, options).catch(async (err) => {
        await subject.close()
        throw err
      })
      return { subject, reference, cleanup: async () => Promise.all([subject.close(), reference.close()]) }
    },
  }
}

/** `gantry migrate status --json` on a migrated workspace, as a process, once per driver. */
const startup = {
  name: 'sqlite-driver-startup',
  group: 'sqlite-driver',
  description:
    'SQLite driver, start-up: `gantry migrate status --json` with GANTRY_SQLITE_DRIVER=libsql vs =better-sqlite3 on the same migrated workspace (target: ratio <= 1.25).',
  target: { ratio: 1.25, comparison: '<=' },
  whenMissed: 'libsql finds its platform package at run time (detect-libc, @neon-rs/load) before loading its binary; better-sqlite3 loads one addon file.',
  pairs: { full: 20, quick: 10 },
  setup({ root }) {
    const dir = join(root, 'bench', '.work', 'sqlite-driver', 'startup')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, '.env.development'), 'GANTRY_AUTH_SECRET=bench-workspace-not-a-secret\n', { mode: 0o600 })
    writeFileSync(join(dir, 'gantry.config.json'), `${JSON.stringify({ environments: { development: { database: 'sqlite:./bench.sqlite3' } } }, null, 2)}\n`)
    const side = (driver) => ({
      ...gantry(root, ['migrate', 'status', '--json'], { cwd: dir }),
      label: `GANTRY_SQLITE_DRIVER=${driver} gantry migrate status --json`,
      env: benchEnv({ GANTRY_SQLITE_DRIVER: driver }),
    })
    const reference = side(DRIVERS.reference)
    try {
      timeOnce({ ...reference, args: [reference.args[0], 'migrate', 'latest', '--json'] })
    } catch (err) {
      throw Object.assign(new Error(`${DRIVERS.reference} does not run here (${err.message.split('\n')[0]})`), { notMeasurable: true })
    }
    return { subject: side(DRIVERS.subject), reference, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
  },
}

export default [...Object.keys(WORKLOADS).map(benchmark), startup]
