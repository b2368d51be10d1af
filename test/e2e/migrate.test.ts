import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import knexFactory, { type Knex } from 'knex'
import { knexConfig } from '../../src/db/connect.js'
import { parseDatabaseUrl } from '../../src/db/url.js'
import { parseJson, runGantry, spawnGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../helpers/services.js'

const ENV = { GANTRY_AUTH_SECRET: 'e2e-secret' }
const USERS = `export async function up(knex) { await knex.schema.createTable('users', (t) => { t.increments(); t.string('email') }) }
export async function down(knex) { await knex.schema.dropTable('users') }
`
const tableMigration = (table: string) => `export async function up(knex) { await knex.schema.createTable('${table}', (t) => { t.increments() }) }
export async function down(knex) { await knex.schema.dropTable('${table}') }
`
/** Creates its table, then (when BLOCK_MARKER is set) writes the marker and hangs until killed. */
const BLOCKING = `import { writeFileSync } from 'node:fs'
export async function up(knex) {
  await knex.schema.createTable('slow', (t) => { t.increments() })
  if (process.env.BLOCK_MARKER) { writeFileSync(process.env.BLOCK_MARKER, 'x'); await new Promise((r) => setTimeout(r, 30000)) }
}
export async function down(knex) { await knex.schema.dropTable('slow') }
`

interface Workspace {
  readonly root: string
  readonly migrations: string
  gantry(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult>
  query<T>(work: (k: Knex) => Promise<T>): Promise<T>
}

function workspace(url: string): Workspace {
  const root = tempDir()
  const migrations = join(root, 'migrations')
  mkdirSync(migrations)
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: url }, production: { database: url } } }))
  return {
    root,
    migrations,
    gantry: (args, env = {}) => runGantry(args, { cwd: root, env: { ...ENV, ...env } }),
    async query(work) {
      const k = knexFactory(knexConfig(parseDatabaseUrl(url, root)))
      try {
        return await work(k)
      } finally {
        await k.destroy()
      }
    },
  }
}

const count = async (k: Knex, table: string, where: Record<string, unknown> = {}): Promise<number> =>
  Number((await k(table).where(where).count({ n: '*' }))[0]?.n)

/** Resolves when `check` holds, polling; rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Starts `n` runs of `migrate latest --json` at once and waits for all of them. */
function concurrentLatest(ws: Workspace, n: number): Promise<Array<{ code: number | null; stdout: string; stderr: string }>> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawnGantry(['migrate', 'latest', '--json'], { cwd: ws.root, env: ENV })
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
      return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
    }),
  )
}

for (const dialect of DIALECTS) {
  describe(`gantry migrate (built CLI) on ${dialect}`, function () {
    let db: TestDatabase
    let ws: Workspace
    beforeEach(async function () {
      await requireDialect(this, dialect)
      db = await createTestDatabase(dialect)
      ws = workspace(db.url)
    })
    afterEach(async () => {
      await db?.drop()
    })

    it('latest -> status -> make -> validate -> latest -> rollback, and --dry-run changes nothing', async () => {
      writeFileSync(join(ws.migrations, '20260101000000_users.ts'), `import type { Knex } from 'knex'\n${USERS.replace(/\(knex\)/g, '(knex: Knex)')}`)
      const preview = await ws.gantry(['migrate', 'latest', '--dry-run'])
      expect(preview.code, preview.stderr).to.equal(0)
      expect(preview.stdout).to.match(/create table .users/i)
      expect(await ws.query((k) => k.schema.hasTable('users'))).to.equal(false)

      const latest = await ws.gantry(['migrate', 'latest', '--json'])
      expect(latest.code, latest.stderr).to.equal(0)
      expect(parseJson<{ applied: Array<{ name: string }> }>(latest).applied.map((a) => a.name)).to.deep.equal([...GANTRY_MIGRATIONS, '20260101000000_users'])

      const status = parseJson<{ pending: number; lock: unknown; migrations: Array<{ state: string }> }>(await ws.gantry(['migrate', 'status', '--json']))
      expect(status).to.deep.include({ pending: 0, lock: null })
      expect(status.migrations.map((m) => m.state)).to.deep.equal(Array(GANTRY_MIGRATIONS.length + 1).fill('applied'))

      const made = await ws.gantry(['migrate', 'make', 'create posts', '--js', '--json'])
      expect(made.code, made.stderr).to.equal(0)
      const { path } = parseJson<{ path: string }>(made)
      expect(path).to.match(/migrations\/\d{14}_create_posts\.js$/)
      expect(existsSync(path)).to.equal(true)
      const pending = await ws.gantry(['migrate', 'status', '--fail-on-pending'])
      expect(pending.code).to.equal(1)
      expect(pending.stdout).to.match(/create_posts\s+pending/)

      expect((await ws.gantry(['migrate', 'validate'])).code).to.equal(0)
      expect((await ws.gantry(['migrate', 'latest'])).stdout).to.match(/create_posts/)
      expect(await ws.query((k) => k.schema.hasTable('posts'))).to.equal(true)

      const dryDown = await ws.gantry(['migrate', 'rollback', '--dry-run', '--json'])
      expect(parseJson<{ dryRun: Array<{ statements: string[] }> }>(dryDown).dryRun[0]?.statements.join(' ')).to.match(/drop table .posts/i)
      expect(await ws.query((k) => k.schema.hasTable('posts'))).to.equal(true)
      const rollback = await ws.gantry(['migrate', 'rollback', '--json'])
      expect(rollback.code, rollback.stderr).to.equal(0)
      expect(parseJson<{ rolledBack: Array<{ name: string }> }>(rollback).rolledBack).to.have.length(1)
      expect(await ws.query((k) => k.schema.hasTable('posts'))).to.equal(false)
      expect(await ws.query((k) => k.schema.hasTable('users'))).to.equal(true)
    })

    it('5+ concurrent `migrate latest` runs on a fresh and on an existing database each apply every migration once and all exit 0', async function () {
      this.timeout(120_000)
      for (const [i, table] of ['a', 'b', 'c'].entries()) writeFileSync(join(ws.migrations, `00${i}_${table}.js`), tableMigration(table))
      const fresh = await concurrentLatest(ws, 6)
      for (const r of fresh) expect(r.code, r.stderr).to.equal(0)
      const appliedByRuns = fresh.flatMap((r) => (JSON.parse(r.stdout) as { applied: unknown[] }).applied)
      expect(appliedByRuns).to.have.length(GANTRY_MIGRATIONS.length + 3)
      writeFileSync(join(ws.migrations, '003_d.js'), tableMigration('d'))
      writeFileSync(join(ws.migrations, '004_e.js'), tableMigration('e'))
      const existing = await concurrentLatest(ws, 6)
      for (const r of existing) expect(r.code, r.stderr).to.equal(0)
      await ws.query(async (k) => {
        expect(await count(k, 'knex_migrations')).to.equal(5)
        expect(await count(k, 'gantry_migrations')).to.equal(GANTRY_MIGRATIONS.length)
        expect(await count(k, 'gantry_migration_runs', { direction: 'up', status: 'done' })).to.equal(GANTRY_MIGRATIONS.length + 5)
      })
    })

    it('a run that cannot get the lock within --lock-timeout exits 3 with MIGRATION_LOCK_TIMEOUT, naming the holder', async function () {
      this.timeout(60_000)
      writeFileSync(join(ws.migrations, '001_slow.js'), BLOCKING)
      const marker = join(ws.root, 'blocked')
      const holder = spawnGantry(['migrate', 'latest'], { cwd: ws.root, env: { ...ENV, BLOCK_MARKER: marker } })
      const exited = new Promise((resolve) => holder.on('close', resolve))
      try {
        await until(() => existsSync(marker), 30_000)
        const waiter = await ws.gantry(['migrate', 'latest', '--json', '--lock-timeout', '1'])
        expect(waiter.code, waiter.stderr).to.equal(3)
        expect(parseJson<{ error: { code: string } }>(waiter).error.code).to.equal('MIGRATION_LOCK_TIMEOUT')
        const human = await ws.gantry(['migrate', 'latest', '--lock-timeout', '1'])
        expect(human.code).to.equal(3)
        expect(human.stderr).to.contain(`pid ${holder.pid}`)
      } finally {
        holder.kill('SIGKILL')
        await exited
      }
    })

    it('a run killed with SIGKILL mid-migration shows as lock holder while alive, then never needs a human for the lock', async function () {
      this.timeout(60_000)
      writeFileSync(join(ws.migrations, '001_users.js'), USERS)
      writeFileSync(join(ws.migrations, '002_slow.js'), BLOCKING)
      const marker = join(ws.root, 'blocked')
      const child = spawnGantry(['migrate', 'latest'], { cwd: ws.root, env: { ...ENV, BLOCK_MARKER: marker } })
      const exited = new Promise((resolve) => child.on('close', resolve))
      try {
        await until(() => existsSync(marker), 30_000)
        const during = parseJson<{ lock: { pid: number } | null }>(await ws.gantry(['migrate', 'status', '--json']))
        expect(during.lock?.pid).to.equal(child.pid)
      } finally {
        child.kill('SIGKILL')
        await exited
      }
      const after = parseJson<{ lock: unknown }>(await ws.gantry(['migrate', 'status', '--json']))
      expect(after.lock).to.equal(null)
      const rerun = await ws.gantry(['migrate', 'latest', '--json', '--lock-timeout', '10'])
      if (dialect === 'mysql') {
        expect(rerun.code).to.equal(1)
        const { error } = parseJson<{ error: { code: string; message: string } }>(rerun)
        expect(error.code).to.equal('MIGRATION_PARTIAL')
        expect(error.message).to.match(/create table `slow`/).and.contain('gantry migrate resolve 002_slow --applied')
        const resolved = await ws.gantry(['migrate', 'resolve', '002_slow', '--applied'])
        expect(resolved.code, resolved.stderr).to.equal(0)
        expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(0)
      } else {
        expect(rerun.code, rerun.stderr).to.equal(0)
        expect(parseJson<{ applied: Array<{ name: string }> }>(rerun).applied.map((a) => a.name)).to.include('002_slow')
      }
      await ws.query(async (k) => {
        expect(await k.schema.hasTable('slow')).to.equal(true)
        expect(await count(k, 'knex_migrations')).to.equal(2)
      })
    })

    if (dialect === 'sqlite') {
      it('rollback in a protected environment needs --force without a TTY (exit 2)', async () => {
        writeFileSync(join(ws.migrations, '001_users.js'), USERS)
        expect((await ws.gantry(['migrate', 'latest', '-e', 'production'])).code).to.equal(0)
        const refused = await ws.gantry(['migrate', 'rollback', '-e', 'production', '--json'])
        expect(refused.code).to.equal(2)
        expect(parseJson<{ error: { code: string } }>(refused).error.code).to.equal('FORCE_REQUIRED')
        expect(await ws.query((k) => k.schema.hasTable('users'))).to.equal(true)
        const forced = await ws.gantry(['migrate', 'rollback', '-e', 'production', '--force'])
        expect(forced.code, forced.stderr).to.equal(0)
        expect(await ws.query((k) => k.schema.hasTable('users'))).to.equal(false)
      })
    }
  })
}
