import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson } from '../helpers/cli.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import { EFFECTS_MIGRATION, EFFECTS_NAME, effectMigration, migrateWorkspace, startBlockedLatest, type MigrateWorkspace } from '../helpers/migrate-workspace.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../helpers/services.js'

// Concurrent runs and a run killed mid-migration: test/reliability/migrate-concurrency and migrate-sigkill.
const USERS = `export async function up(knex) { await knex.schema.createTable('users', (t) => { t.increments(); t.string('email') }) }
export async function down(knex) { await knex.schema.dropTable('users') }
`

for (const dialect of DIALECTS) {
  describe(`gantry migrate (built CLI) on ${dialect}`, function () {
    let db: TestDatabase
    let ws: MigrateWorkspace
    beforeEach(async function () {
      await requireDialect(this, dialect)
      db = await createTestDatabase(dialect)
      ws = migrateWorkspace(db.url)
    })
    afterEach(async () => {
      ws?.cleanup()
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

    it('a run that cannot get the lock within --lock-timeout exits 3 with MIGRATION_LOCK_TIMEOUT, naming the holder', async function () {
      this.timeout(60_000)
      ws.addMigration(EFFECTS_NAME, EFFECTS_MIGRATION)
      ws.addMigration('001_slow', effectMigration('001_slow', { blocking: true }))
      const holder = await startBlockedLatest(ws)
      try {
        const waiter = await ws.gantry(['migrate', 'latest', '--json', '--lock-timeout', '1'])
        expect(waiter.code, waiter.stderr).to.equal(3)
        expect(parseJson<{ error: { code: string } }>(waiter).error.code).to.equal('MIGRATION_LOCK_TIMEOUT')
        const human = await ws.gantry(['migrate', 'latest', '--lock-timeout', '1'])
        expect(human.code).to.equal(3)
        expect(human.stderr).to.contain(`pid ${holder.child.pid}`)
      } finally {
        await holder.kill()
      }
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
