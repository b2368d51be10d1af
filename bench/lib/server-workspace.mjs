/**
 * The Gantry workspace a server benchmark serves, made with the built CLI as a user would: `gantry init
 * --yes`, the development environment pointed at the bench database with log level info and a default
 * rate-limit rule so high it never refuses (the rate-limit path runs on every admin request, and a 429 would
 * fail the benchmark), `migrate latest`, one admin created by `users create` (one argon2 hash), 999 more
 * users by one bulk INSERT … SELECT reusing that hash (hashing 1000 passwords would take minutes), and an
 * access token for the admin from `tokens issue --ttl 2h`.
 *
 * SQLite: a file in the workspace (bench/.work/server-sqlite, gitignored, remade every run). MariaDB: the
 * database gantry_bench_server on GANTRY_BENCH_MYSQL_URL / GANTRY_TEST_MYSQL_URL / root@127.0.0.1:3306,
 * dropped and created again every run, kept afterwards (like users-list's bench databases).
 */
import { Buffer } from 'node:buffer'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { benchEnv } from './measure.mjs'
import { oncePerRun } from './once-per-run.mjs'
import { freePort, startServer } from './server-load.mjs'

export const USERS = 1000
export const ADMIN = 'admin@bench.example.com'
const PASSWORD = 'bench admin passphrase, never used'
const MYSQL_SERVER = process.env.GANTRY_BENCH_MYSQL_URL ?? process.env.GANTRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
/** limit per window and burst: far beyond anything the load generator reaches (about 10^4 req/s here). */
export const NEVER_REFUSING_RULE = { limit: 100_000_000, window: '1m', burst: 1_000_000 }

/** The environment every Gantry process of the bench gets: the caller's, without what would pick another environment, database or Redis. */
export function gantryEnv() {
  const env = benchEnv()
  for (const name of Object.keys(env)) if (name.startsWith('GANTRY_') || ['DATABASE_URL', 'REDIS_URL', 'PORT', 'NODE_ENV'].includes(name)) delete env[name]
  return env
}

/** Where the servers of the bench write their stderr (kept after the run, for a failure's cause). */
export function serverLogDir(root) {
  const dir = join(root, 'bench', '.work', 'server-logs')
  mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * `gantry serve` of the workspace of `dialect` on a free loopback port: with `--workers n` when given, Redis
 * as the rate-limit store when `redis` is a URL, ready once GET `probe` answers 200. `key` names the server
 * (its log file; startServer keeps one per key).
 */
export async function gantryServe(root, { dialect = 'sqlite', key, workers, redis, probe } = {}) {
  const ws = await gantryWorkspace(root, dialect)
  const name = key ?? `gantry-${dialect}${workers ? `-workers${workers}` : ''}${redis ? '-redis' : ''}`
  const port = await freePort()
  const server = await startServer({
    key: name,
    label: `gantry serve${workers ? ` --workers ${workers}` : ''} (${dialect})`,
    args: [join(root, 'bin', 'run.js'), 'serve', '--port', String(port), '--host', '127.0.0.1', ...(workers ? ['--workers', String(workers)] : [])],
    cwd: ws.dir,
    env: { ...gantryEnv(), ...(redis ? { REDIS_URL: redis } : {}) },
    port,
    stderrFile: join(serverLogDir(root), `${name}.stderr.log`),
    ...(probe ? { probe } : {}),
  })
  return { server, ws }
}

/** The workspace of `dialect`, made once per run: { dir, databaseUrl, token, secret, issuer, audience, version }. */
export const gantryWorkspace = oncePerRun(makeWorkspace)

async function makeWorkspace(root, dialect) {
  const started = Date.now()
  const dir = join(root, 'bench', '.work', `server-${dialect}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const cli = (args, input) => gantryCli(root, dir, args, input)
  cli(['init', '--yes'])

  const databaseUrl = dialect === 'sqlite' ? `sqlite:${join(dir, '.gantry', 'bench.sqlite3')}` : await freshMysqlDatabase('gantry_bench_server')
  const configFile = join(dir, 'gantry.config.json')
  const config = JSON.parse(readFileSync(configFile, 'utf8'))
  config.environments.development = {
    ...config.environments.development,
    database: databaseUrl,
    rateLimits: { default: NEVER_REFUSING_RULE },
    log: { level: 'info' },
  }
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`)

  cli(['migrate', 'latest', '--json'])
  cli(['users', 'create', '--email', ADMIN, '--name', 'Bench Admin', '--role', 'admin', '--password-stdin', '--json'], `${PASSWORD}\n`)
  await seedUsers(root, dialect, databaseUrl)
  const { token } = JSON.parse(cli(['tokens', 'issue', '--user', ADMIN, '--ttl', '2h', '--json']))
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
  const secret = /^GANTRY_AUTH_SECRET=(.+)$/m
    .exec(readFileSync(join(dir, '.env.development'), 'utf8'))?.[1]
    ?.trim()
    .replace(/^(['"])(.*)\1$/, '$2')
  if (!secret) throw new Error(`no GANTRY_AUTH_SECRET in ${join(dir, '.env.development')}`)
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
  process.stderr.write(`  workspace ${dir} (${dialect}, ${USERS} users) made in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  return { dir, dialect, databaseUrl, token, secret, issuer: claims.iss, audience: claims.aud, version }
}

/** Runs the built CLI in the workspace; its stdout, or an error with its output. */
export function gantryCli(root, cwd, args, input) {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), ...args], {
    cwd,
    env: gantryEnv(),
    input,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  })
  if (run.status !== 0)
    throw new Error(`gantry ${args.join(' ')} exited ${run.status ?? run.signal}: ${`${run.stderr}\n${run.stdout}`.trim().split('\n').slice(0, 8).join('\n')}`)
  return run.stdout
}

/** Drops and creates `name` on the MariaDB server; its URL. */
async function freshMysqlDatabase(name) {
  const { default: knex } = await import('knex')
  const server = knex({ client: 'mysql2', connection: connectionOf(MYSQL_SERVER) })
  try {
    await server.raw(`DROP DATABASE IF EXISTS \`${name}\``)
    await server.raw(`CREATE DATABASE \`${name}\``)
  } finally {
    await server.destroy()
  }
  const url = new URL(MYSQL_SERVER)
  url.pathname = `/${name}`
  return url.toString()
}

function connectionOf(url) {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password) || undefined,
    database: u.pathname.slice(1) || undefined,
  }
}

/** USERS - 1 more users beside the admin, sharing its password hash, by one INSERT … SELECT. */
async function seedUsers(root, dialect, url) {
  const { default: knex } = await import('knex')
  const db =
    dialect === 'sqlite'
      ? knex({ client: await sqliteClient(root), connection: { filename: url.slice('sqlite:'.length) }, useNullAsDefault: true })
      : knex({ client: 'mysql2', connection: connectionOf(url) })
  try {
    const { password_hash: hash } = await db('gantry_users').where({ email: ADMIN }).first('password_hash')
    const n = USERS - 1
    const now = Date.now()
    const role = `CASE WHEN n % 3 = 0 THEN 'operator' ELSE 'viewer' END`
    const columns = 'email, name, role, status, password_hash, created_at, updated_at'
    if (dialect === 'sqlite') {
      await db.raw(
        `INSERT INTO gantry_users (${columns}) WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) ` +
          `SELECT 'user' || n || '@example.com', 'User ' || n, ${role}, 'active', ?, ?, ? FROM seq`,
        [n, hash, now, now],
      )
    } else {
      // MariaDB's Sequence engine: seq_1_to_N is a virtual table of 1..N.
      await db.raw(
        `INSERT INTO gantry_users (${columns}) SELECT CONCAT('user', seq, '@example.com'), CONCAT('User ', seq), ${role.replaceAll('n %', 'seq %')}, 'active', ?, ?, ? FROM seq_1_to_${n}`,
        [hash, now, now],
      )
    }
    const { c } = await db('gantry_users').count({ c: '*' }).first()
    if (Number(c) !== USERS) throw new Error(`seeding left ${c} users, not ${USERS}`)
  } finally {
    await db.destroy()
  }
}

/** The knex client of the SQLite driver Gantry's build at `root` uses (GANTRY_SQLITE_DRIVER, else libsql). */
export async function sqliteClient(root) {
  const load = (path) => import(pathToFileURL(join(root, 'dist', 'src', 'db', path)).href)
  const [{ sqliteClient: client }, { sqliteDriver }] = await Promise.all([load('sqlite-client.js'), load('sqlite-driver.js')])
  return client(sqliteDriver())
}
