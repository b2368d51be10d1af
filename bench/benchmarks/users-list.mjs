/**
 * The users-list service call, in process (no CLI start-up): a page of 50 at 90% depth of a table of 10^6
 * users vs of 10^3 users (target: ratio <= 1.5 — keyset pagination, a page costs the same whatever the table
 * size), with and without a role filter, on SQLite, MariaDB and PostgreSQL.
 *
 * The users are seeded once by a set-based bulk INSERT … SELECT (one precomputed argon2id hash for all) and
 * kept: SQLite files under bench/.work/users-list/ (gitignored), databases gantry_bench_users_1e6 and
 * gantry_bench_users_1e3 on the MariaDB and PostgreSQL servers (GANTRY_BENCH_MYSQL_URL / GANTRY_BENCH_PG_URL,
 * else the test servers' GANTRY_TEST_MYSQL_URL / GANTRY_TEST_PG_URL, else root@127.0.0.1 / postgres@127.0.0.1),
 * created when missing. The cursor at 90% is found once per run (cursorAt90); each sample is then the mean
 * of repeated fetches of that one page.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const LARGE = 1_000_000
const SMALL = 1_000
const PAGE = 50
/**
 * Roles of the seeded users: one in 100 admin, one in 3 operator, the rest (about 2 in 3) viewer. The filtered
 * benchmark lists viewers: at 10^3 users, 90% depth of them still leaves a full page after the cursor.
 */
const FILTER_ROLE = 'viewer'

const SERVER_URLS = {
  mysql: process.env.GANTRY_BENCH_MYSQL_URL ?? process.env.GANTRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  postgres: process.env.GANTRY_BENCH_PG_URL ?? process.env.GANTRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
}

/** The built modules this measures (dist/ of the package at `root`). */
export async function gantryModules(root) {
  const load = (path) => import(pathToFileURL(join(root, 'dist', 'src', path)).href)
  const [connect, migrator, services, routes, clock, context, passwords, pagination] = await Promise.all([
    load('db/connect.js'),
    load('db/migrator/index.js'),
    load('core/services.js'),
    load('server/builtin-routes.js'),
    load('core/clock.js'),
    load('core/context.js'),
    load('core/users/passwords.js'),
    load('core/pagination.js'),
  ])
  return { ...connect, ...migrator, ...services, ...routes, ...clock, ...context, ...passwords, ...pagination }
}

/** A migrated database at `url` and the services over it, as a local operator. */
export async function openMigrated(m, url, root, workDir) {
  const db = await m.openDatabase(url, root)
  await m.createMigrator({ db, appDirectory: join(workDir, 'migrations'), appTable: 'knex_migrations', actor: 'bench' }).latest()
  const services = m.createServices({ knex: db.knex, clock: m.systemClock, rateLimitRoutes: m.BUILTIN_RULE_ROUTES })
  return { db, services, ctx: m.localContext('local:bench@bench') }
}

/** The URL of a kept bench database `name`: a SQLite file under workDir, or a database on the server (created when missing). */
async function benchDatabaseUrl(m, dialect, name, root, workDir) {
  if (dialect === 'sqlite') return `sqlite:${join(workDir, `${name}.sqlite3`)}`
  const server = await m.openDatabase(SERVER_URLS[dialect], root)
  try {
    if (dialect === 'mysql') await server.knex.raw(`CREATE DATABASE IF NOT EXISTS \`${name}\``)
    else {
      const found = await server.knex.raw('SELECT 1 FROM pg_database WHERE datname = ?', [name])
      if (found.rows.length === 0) await server.knex.raw(`CREATE DATABASE "${name}"`)
    }
  } finally {
    await server.close()
  }
  const url = new URL(SERVER_URLS[dialect])
  url.pathname = `/${name}`
  return url.toString()
}

/** Exactly `n` users user1..userN, seeded once by one INSERT … SELECT; kept when the count is already right. */
async function seed(m, knex, dialect, n, hash) {
  const count = async () => Number((await knex('gantry_users').count({ c: '*' }).first()).c)
  if ((await count()) === n) return false
  await knex('gantry_users').delete()
  const now = Date.now()
  const role = `CASE WHEN n % 100 = 1 THEN 'admin' WHEN n % 3 = 0 THEN 'operator' ELSE 'viewer' END`
  const columns = 'email, name, role, status, password_hash, created_at, updated_at'
  if (dialect === 'sqlite') {
    await knex.raw(
      `INSERT INTO gantry_users (${columns}) WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) ` +
        `SELECT 'user' || n || '@example.com', 'User ' || n, ${role}, 'active', ?, ?, ? FROM seq`,
      [n, hash, now, now],
    )
    await knex.raw('ANALYZE')
  } else if (dialect === 'postgres') {
    await knex.raw(
      `INSERT INTO gantry_users (${columns}) SELECT 'user' || n || '@example.com', 'User ' || n, ${role}, 'active', ?, ?, ? FROM generate_series(1, ?) AS g(n)`,
      [hash, now, now, n],
    )
    await knex.raw('ANALYZE gantry_users')
  } else {
    // MariaDB's Sequence engine: seq_1_to_N is a virtual table of 1..N.
    await knex.raw(
      `INSERT INTO gantry_users (${columns}) SELECT CONCAT('user', seq, '@example.com'), CONCAT('User ', seq), ${role.replaceAll('n %', 'seq %')}, 'active', ?, ?, ? FROM seq_1_to_${n}`,
      [hash, now, now],
    )
    await knex.raw('ANALYZE TABLE gantry_users')
  }
  if ((await count()) !== n) throw new Error(`seeding ${n} users left ${await count()}`)
  return true
}

/**
 * The cursor after 90% of the (filtered) list: the id of the row at that depth in the list's own order
 * (id ascending), found once by OFFSET, and the cursor the list itself would hand out for it. Following
 * nextCursor there took up to a minute on a cold 10^6-row table; the page measured is the same.
 */
async function cursorAt90(m, opened, filter) {
  const { db } = opened
  const rows = () => {
    const q = db.knex('gantry_users')
    if (filter.role) q.where('role', filter.role)
    return q
  }
  const total = Number((await rows().count({ c: '*' }).first()).c)
  const depth = Math.floor(total * 0.9)
  const row = await rows()
    .select('id')
    .orderBy('id', 'asc')
    .offset(depth - 1)
    .limit(1)
    .first()
  return { cursor: m.encodeCursor(row.id), depth, total }
}

/** One in-process side: the page at 90% depth of a table of `size` users, fetched `repeat` times per sample. */
async function side(m, { dialect, size, filter, root, workDir, hash, repeat, log }) {
  const url = await benchDatabaseUrl(m, dialect, `gantry_bench_users_1e${Math.log10(size)}`, root, workDir)
  const opened = await openMigrated(m, url, root, workDir)
  let cursor, depth, total
  try {
    const started = Date.now()
    if (await seed(m, opened.db.knex, dialect, size, await hash()))
      log(`  seeded ${size} users on ${dialect} in ${((Date.now() - started) / 1000).toFixed(1)} s (kept for later runs)`)
    ;({ cursor, depth, total } = await cursorAt90(m, opened, filter))
    const first = await opened.services.users.list(opened.ctx, { ...filter, limit: PAGE, cursor })
    if (first.data.length !== PAGE) throw new Error(`the page at 90% of ${total} users on ${dialect} has ${first.data.length} rows, not ${PAGE}`)
  } catch (err) {
    await opened.db.close()
    throw err
  }
  const input = { ...filter, limit: PAGE, cursor }
  return {
    label: `users.list at row ${depth} of ${total}${filter.role ? ` (role ${filter.role})` : ''}, 1e${Math.log10(size)} users`,
    async run() {
      const start = process.hrtime.bigint()
      for (let i = 0; i < repeat; i++) await opened.services.users.list(opened.ctx, input)
      return Number(process.hrtime.bigint() - start) / 1e6 / repeat
    },
    close: () => opened.db.close(),
  }
}

function benchmark(dialect, filtered) {
  const name = `users-list-${dialect}${filtered ? '-role' : ''}`
  return {
    name,
    group: 'users-list',
    description: `\`users.list\` in process on ${dialect}: a page of ${PAGE} at 90% depth${filtered ? ` with --role ${FILTER_ROLE}` : ''}, 10^6 users vs 10^3 (target: ratio <= 1.5).`,
    target: { ratio: 1.5, comparison: '<=' },
    pairs: { full: 20, quick: 10 },
    async setup({ root, quick }) {
      const m = await gantryModules(root)
      const workDir = join(root, 'bench', '.work', 'users-list')
      let precomputed
      const hash = async () => (precomputed ??= await m.argon2Hasher().hash('bench password, never used to log in'))
      const options = {
        dialect,
        filter: filtered ? { role: FILTER_ROLE } : {},
        root,
        workDir,
        hash,
        repeat: quick ? 10 : 25,
        log: (l) => process.stderr.write(`${l}\n`),
      }
      const subject = await side(m, { ...options, size: LARGE })
      const reference = await side(m, { ...options, size: SMALL }).catch(async (err) => {
        await subject.close()
        throw err
      })
      return { subject, reference, cleanup: async () => Promise.all([subject.close(), reference.close()]) }
    },
  }
}

export default ['sqlite', 'mysql', 'postgres'].flatMap((dialect) => [benchmark(dialect, false), benchmark(dialect, true)])
