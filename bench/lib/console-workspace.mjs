/**
 * The Gantry workspace the console benchmark serves (bench/benchmarks/console.mjs), made with the built CLI as
 * a user would: `gantry init app --yes`, the development environment pointed at a SQLite file of its own with
 * the never-refusing default rate-limit rule of the server benchmarks (every page load makes a handful of API
 * calls; a 429 would fail the benchmark), `migrate latest`, one admin created by `users create --password-stdin`
 * (one argon2 hash), and `users - 1` more users written straight into gantry_users by one INSERT … SELECT over
 * a recursive sequence, all sharing the admin's password hash (hashing 10^6 passwords would take days), then
 * ANALYZE.
 *
 * Kept between runs (bench/.work/console-1eN, gitignored, like users-list's databases): seeding 10^6 users
 * costs tens of seconds, and a kept workspace is used again when it still has exactly that many users and its
 * admin. `migrate latest` runs every time, so a kept workspace follows new migrations.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { oncePerRun } from './once-per-run.mjs'
import { gantryEnv, NEVER_REFUSING_RULE, sqliteClient } from './server-workspace.mjs'

/** The admin the benchmark signs in as: through the console's own form, so the password is needed. */
export const CONSOLE_ADMIN = { email: 'console-admin@bench.example.com', password: 'console bench passphrase, loopback only' }

/** The workspace with `users` users (the admin among them), made or checked once per run: { dir, users, url, seconds, reused }. */
export const consoleWorkspace = oncePerRun(makeWorkspace)

async function makeWorkspace(root, users) {
  const started = Date.now()
  const dir = join(root, 'bench', '.work', `console-1e${Math.round(Math.log10(users))}`, 'app')
  const file = join(dir, '.gantry', 'console-bench.sqlite3')
  const url = `sqlite:${file}`
  const cli = (args, input) => gantryCli(root, dir, args, input)
  let reused = existsSync(join(dir, 'gantry.config.json')) && existsSync(file)
  if (reused) {
    try {
      cli(['migrate', 'latest', '--json'])
      reused = await seededAlready(root, file, users)
    } catch (err) {
      // A workspace a changed migration or an interrupted run left behind: made again below.
      process.stderr.write(`  the kept workspace ${dir} is not usable (${err.message.split('\n')[0]}): making it again\n`)
      reused = false
    }
  }
  if (!reused) {
    rmSync(join(dir, '..'), { recursive: true, force: true })
    mkdirSync(join(dir, '..'), { recursive: true })
    gantryCli(root, join(dir, '..'), ['init', 'app', '--yes', '--json'])
    const configFile = join(dir, 'gantry.config.json')
    const config = JSON.parse(readFileSync(configFile, 'utf8'))
    config.environments.development = {
      ...config.environments.development,
      database: url,
      rateLimits: { default: NEVER_REFUSING_RULE },
      log: { level: 'warn' },
    }
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`)
    cli(['migrate', 'latest', '--json'])
    cli(
      ['users', 'create', '--email', CONSOLE_ADMIN.email, '--name', 'Console Bench Admin', '--role', 'admin', '--password-stdin', '--json'],
      `${CONSOLE_ADMIN.password}\n`,
    )
    await seed(root, file, users)
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10
  process.stderr.write(`  workspace ${dir} (${users} users) ${reused ? 'kept from an earlier run, checked' : 'made'} in ${seconds} s\n`)
  return { dir, users, url, seconds, reused }
}

/** Runs the built CLI in `cwd`; its stdout, or an error with its output. */
function gantryCli(root, cwd, args, input) {
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

async function open(root, file) {
  const { default: knex } = await import('knex')
  return knex({ client: await sqliteClient(root), connection: { filename: file }, useNullAsDefault: true })
}

async function seededAlready(root, file, users) {
  const db = await open(root, file)
  try {
    const { c } = await db('gantry_users').count({ c: '*' }).first()
    const admin = await db('gantry_users').where({ email: CONSOLE_ADMIN.email, role: 'admin', status: 'active' }).first('id')
    return Number(c) === users && Boolean(admin)
  } finally {
    await db.destroy()
  }
}

/**
 * users - 1 more users beside the admin, in one statement (one transaction): user1..userN@example.com, one in
 * three an operator and the rest viewers, every one active with the admin's password hash.
 */
async function seed(root, file, users) {
  const db = await open(root, file)
  try {
    const started = Date.now()
    const { password_hash: hash } = await db('gantry_users').where({ email: CONSOLE_ADMIN.email }).first('password_hash')
    const now = Date.now()
    await db.raw(
      `INSERT INTO gantry_users (email, name, role, status, password_hash, created_at, updated_at) ` +
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) ` +
        `SELECT 'user' || n || '@example.com', 'User ' || n, CASE WHEN n % 3 = 0 THEN 'operator' ELSE 'viewer' END, 'active', ?, ?, ? FROM seq`,
      [users - 1, hash, now, now],
    )
    await db.raw('ANALYZE')
    const { c } = await db('gantry_users').count({ c: '*' }).first()
    if (Number(c) !== users) throw new Error(`seeding left ${c} users, not ${users}`)
    process.stderr.write(`  seeded ${users - 1} users in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  } finally {
    await db.destroy()
  }
}
