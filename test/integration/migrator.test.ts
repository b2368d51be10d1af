import { rmSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { DIALECTS, requireDialect } from '../helpers/services.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import { migratorFixture, schemaOf, type MigratorFixture } from '../helpers/service-workspace.js'
import { rejection } from '../helpers/rejection.js'

const GANTRY = GANTRY_MIGRATIONS.length

const USERS = `await knex.schema.createTable('users', (t) => { t.increments(); t.string('email') })`
const POSTS = `await knex.schema.createTable('posts', (t) => { t.increments(); t.integer('user_id'); t.string('title') })`
const TAGS = `await knex.schema.createTable('tags', (t) => { t.increments(); t.string('label') })`
const drop = (table: string) => `await knex.schema.dropTable('${table}')`

/** A migration body: a parent table and a child table whose one row points at the parent's one row. */
const PARENT_AND_CHILD = `await knex.schema.createTable('parents', (t) => { t.increments() })
           await knex.schema.createTable('children', (t) => { t.increments(); t.integer('parent_id').references('parents.id') })
           await knex('parents').insert({ id: 1 })
           await knex('children').insert({ id: 1, parent_id: 1 })`

const stateOf = async (f: MigratorFixture, name: string) => (await f.migrator().status()).migrations.find((m) => m.name === name)?.state

for (const dialect of DIALECTS) {
  describe(`migrator on ${dialect}`, function () {
    let f: MigratorFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await migratorFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('latest applies the gantry set, then the app set, and records every run', async () => {
      f.write('001_users.js', USERS, drop('users'))
      f.write('002_posts.js', POSTS, drop('posts'))
      const result = await f.migrator().latest()
      expect(result.applied.map((r) => `${r.set}/${r.name}`)).to.deep.equal([...GANTRY_MIGRATIONS.map((n) => `gantry/${n}`), 'app/001_users', 'app/002_posts'])
      expect(result.batch).to.deep.equal({ gantry: 1, app: 1 })
      const k = f.db.knex
      expect(await k.schema.hasTable('gantry_settings')).to.equal(true)
      expect(await k('gantry_migrations').orderBy('id').pluck('name')).to.deep.equal(GANTRY_MIGRATIONS)
      expect(await k('knex_migrations').orderBy('id').pluck('name')).to.deep.equal(['001_users.js', '002_posts.js'])
      const runs = await k('gantry_migration_runs').orderBy('id')
      expect(runs.map((r: { status: string; direction: string }) => `${r.direction}:${r.status}`)).to.deep.equal(Array(GANTRY + 2).fill('up:done'))
      expect(runs[GANTRY]).to.include({ migration_set: 'app', name: '001_users', actor: 'test', pid: process.pid })
      expect(runs[GANTRY].checksum).to.match(/^[0-9a-f]{64}$/)
      expect(JSON.parse(runs[GANTRY].statements as string).join(' ')).to.match(/create table/i)
      const again = await f.migrator().latest()
      expect(again.applied).to.deep.equal([])
    })

    it('status shows pending, applied, modified, missing and failed; latest refuses an edited migration; validate reports drift', async () => {
      const users = f.write('001_users.js', USERS, drop('users'))
      expect(await stateOf(f, '001_users')).to.equal('pending')
      expect((await f.migrator().status()).pending).to.equal(GANTRY + 1)
      f.write('002_posts.js', POSTS, drop('posts'))
      await f.migrator().latest()
      const status = await f.migrator().status()
      expect(status.pending).to.equal(0)
      expect(status.lock).to.equal(null)
      expect(status.migrations.map((m) => m.state)).to.deep.equal(Array(GANTRY + 2).fill('applied'))
      expect(status.migrations[GANTRY]).to.include({ set: 'app', name: '001_users', batch: 1 })
      expect(status.migrations[GANTRY]?.appliedAt).to.match(/^\d{4}-/)

      appendFileSync(users, '// edited\n')
      expect(await stateOf(f, '001_users')).to.equal('modified')
      f.write('003_tags.js', TAGS, drop('tags'))
      const refused = await rejection(f.migrator().latest())
      expect(refused.code).to.equal('MIGRATION_MODIFIED')
      expect(refused.message).to.contain('001_users.js')
      expect(await f.db.knex.schema.hasTable('tags')).to.equal(false)
      const validation = await f.migrator().validate()
      expect(validation).to.deep.include({ ok: false, modified: ['app/001_users'], partial: [] })

      // CRLF line ends do not count as an edit.
      writeFileSync(users, `export async function up(knex) {\n${USERS}\n}\nexport async function down(knex) {\n${drop('users')}\n}\n`.replace(/\n/g, '\r\n'))
      expect(await stateOf(f, '001_users')).to.equal('applied')
      rmSync(join(f.dir, '002_posts.js'))
      expect(await stateOf(f, '002_posts')).to.equal('missing')
      expect(await f.migrator().validate()).to.deep.include({ ok: true, missing: ['app/002_posts'] })

      f.write('004_broken.js', `await knex.raw('select * from no_such_table')`)
      const failed = await rejection(f.migrator().latest())
      expect(failed.code).to.equal('MIGRATION_FAILED')
      expect(failed.message).to.contain('004_broken.js').and.contain('no_such_table')
      expect(await stateOf(f, '004_broken')).to.equal('failed')
      expect(await stateOf(f, '003_tags')).to.equal('applied')
    })

    it('rollback undoes the last batch, --step N, --to NAME and --all, recording down runs', async () => {
      f.write('001_users.js', USERS, drop('users'))
      f.write('002_posts.js', POSTS, drop('posts'))
      await f.migrator().latest()
      f.write('003_tags.js', TAGS, drop('tags'))
      expect((await f.migrator().latest()).batch).to.deep.equal({ gantry: null, app: 2 })
      const names = async () => (await f.db.knex('knex_migrations').orderBy('id').pluck('name')) as string[]

      expect((await f.migrator().rollback()).rolledBack.map((r) => r.name)).to.deep.equal(['003_tags'])
      expect(await f.db.knex.schema.hasTable('tags')).to.equal(false)
      await f.migrator().latest()
      expect((await f.migrator().rollback({ step: 2 })).rolledBack.map((r) => r.name)).to.deep.equal(['003_tags', '002_posts'])
      expect(await names()).to.deep.equal(['001_users.js'])
      await f.migrator().latest()
      expect((await f.migrator().rollback({ to: '001_users' })).rolledBack.map((r) => r.name)).to.deep.equal(['003_tags', '002_posts'])
      expect(await names()).to.deep.equal(['001_users.js'])
      await f.migrator().latest()
      expect((await f.migrator().rollback({ all: true })).rolledBack.map((r) => r.name)).to.deep.equal(['003_tags', '002_posts', '001_users'])
      expect(await names()).to.deep.equal([])
      expect(await f.db.knex.schema.hasTable('gantry_settings')).to.equal(true)
      const downs = await f.db.knex('gantry_migration_runs').where({ direction: 'down', status: 'done' }).count({ n: '*' })
      expect(Number(downs[0]?.n)).to.equal(8)
      expect((await rejection(f.migrator().rollback({ to: 'nope' }))).code).to.equal('MIGRATION_NOT_FOUND')
    })

    it('dry run returns the SQL of each migration and leaves the schema identical', async () => {
      f.write('001_users.js', USERS, drop('users'))
      f.write(
        '002_probe.js',
        `if (!(await knex.schema.hasTable('users'))) await knex.schema.createTable('probe', (t) => { t.increments() })`,
        `await knex.schema.dropTableIfExists('probe')`,
      )
      const before = await schemaOf(f.db)
      const preview = await f.migrator().latest({ dryRun: true, preview: { includeGantry: true } })
      expect(await schemaOf(f.db)).to.deep.equal(before)
      expect(preview.applied).to.deep.equal([])
      const byName = new Map(preview.dryRun!.map((p) => [p.name, p]))
      expect(byName.get('20261122000000_gantry_settings')?.statements.join(' ')).to.match(/create table .gantry_settings/i)
      expect(byName.get('001_users')).to.deep.include({ approximate: false })
      expect(byName.get('001_users')?.statements.join(' ')).to.match(/create table .users/i)
      // The batch ran whole on a copy or shadow database: the probe found the users table 001 made there.
      expect(byName.get('002_probe')).to.deep.include({ statements: [], approximate: false })

      await f.migrator().latest()
      const applied = await schemaOf(f.db)
      const down = await f.migrator().rollback({ dryRun: true })
      expect(await schemaOf(f.db)).to.deep.equal(applied)
      expect(down.dryRun!.map((p) => p.name)).to.deep.equal(['002_probe', '001_users'])
      expect(down.dryRun![1]?.statements.join(' ')).to.match(/drop table .users/i)
    })

    it('records each statement with its bound values, so a run record shows which rows were written', async () => {
      f.write('001_users.js', `${USERS}\nawait knex('users').insert({ email: 'marker-4242@example.com' })`, drop('users'))
      await f.migrator().latest()
      const [run] = await f.db.knex('gantry_migration_runs').where({ name: '001_users', direction: 'up' })
      expect(JSON.parse(run.statements as string).join('\n')).to.include("'marker-4242@example.com'")
    })

    it("shows a migration the database's own knex.client.config.client, the idiom migrations branch on by driver", async () => {
      f.write(
        '001_client.js',
        `await knex.schema.createTable('seen', (t) => { t.string('client') })\nawait knex('seen').insert({ client: String(knex.client.config.client?.name ?? knex.client.config.client) })`,
        drop('seen'),
      )
      await f.migrator().latest()
      const own = f.db.knex.client.config.client as string | { name: string }
      expect(await f.db.knex('seen').pluck('client')).to.deep.equal([typeof own === 'string' ? own : own.name])
      if (dialect !== 'sqlite') expect(own).to.equal(dialect === 'mysql' ? 'mysql2' : 'pg')
    })

    if (dialect !== 'mysql') {
      it('a failing migration is rolled back whole and is failed, and the batch before it stays applied', async () => {
        f.write('001_users.js', USERS, drop('users'))
        f.write('002_half.js', `${TAGS}\nawait knex.raw('insert into no_such_table values (1)')`, drop('tags'))
        const err = await rejection(f.migrator().latest())
        expect(err.code).to.equal('MIGRATION_FAILED')
        expect(err.message).to.contain('002_half.js').and.contain('insert into no_such_table')
        expect(await f.db.knex.schema.hasTable('tags')).to.equal(false)
        expect(await f.db.knex.schema.hasTable('users')).to.equal(true)
        expect(await stateOf(f, '002_half')).to.equal('failed')
        expect((await rejection(f.migrator().resolve('002_half', 'applied'))).code).to.equal('MIGRATION_STATE')
        f.write('002_half.js', TAGS, drop('tags'))
        expect((await f.migrator().latest()).applied.map((r) => r.name)).to.deep.equal(['002_half'])
      })
    } else {
      it('a migration that creates a table then fails is partial, blocks latest, and resolve --rolled-back clears it', async () => {
        f.write('001_half.js', `${TAGS}\nawait knex.raw('insert into no_such_table values (1)')`, drop('tags'))
        const err = await rejection(f.migrator().latest())
        expect(err.code).to.equal('MIGRATION_PARTIAL')
        expect(err.message)
          .to.match(/create table `tags`/)
          .and.contain('gantry migrate resolve 001_half --applied')
        const info = (await f.migrator().status()).migrations.find((m) => m.name === '001_half')
        expect(info?.state).to.equal('partial')
        expect(info?.statements?.join(' ')).to.match(/create table `tags`/)
        expect((await rejection(f.migrator().latest())).code).to.equal('MIGRATION_PARTIAL')
        expect((await f.migrator().validate()).partial).to.deep.equal(['app/001_half'])
        await f.db.knex.schema.dropTable('tags')
        expect(await f.migrator().resolve('001_half', 'rolled-back')).to.deep.equal({ set: 'app', name: '001_half', outcome: 'rolled-back' })
        expect(await stateOf(f, '001_half')).to.equal('pending')
        f.write('001_half.js', TAGS, drop('tags'))
        expect((await f.migrator().latest()).applied.map((r) => r.name)).to.deep.equal(['001_half'])
        expect((await rejection(f.migrator().resolve('001_half', 'applied'))).code).to.equal('MIGRATION_STATE')
      })
    }

    it('adopts a history written by the knex CLI: applied, not re-run, names kept as knex wrote them', async () => {
      f.write('001_users.js', USERS, drop('users'))
      const plain = await f.db.derive()
      try {
        await plain.migrate.latest({ directory: f.dir, tableName: 'knex_migrations', loadExtensions: ['.js'] })
      } finally {
        await plain.destroy()
      }
      expect((await f.migrator().status()).migrations.map((m) => `${m.name}:${m.state}`)).to.deep.equal([
        ...GANTRY_MIGRATIONS.map((n) => `${n}:pending`),
        '001_users:applied',
      ])
      f.write('002_posts.js', POSTS, drop('posts'))
      const result = await f.migrator().latest()
      expect(result.applied.map((r) => r.name)).to.deep.equal([...GANTRY_MIGRATIONS, '002_posts'])
      expect(await f.db.knex('knex_migrations').orderBy('id').pluck('name')).to.deep.equal(['001_users.js', '002_posts.js'])
      const adopted = await f.db.knex('gantry_migration_runs').where({ status: 'adopted' }).pluck('name')
      expect(adopted).to.deep.equal(['001_users'])
    })

    it('refuses while the knex CLI lock row is set, until unlock clears it', async () => {
      f.write('001_users.js', USERS, drop('users'))
      await f.db.knex.schema.createTable('knex_migrations_lock', (t) => {
        t.increments('index')
        t.integer('is_locked')
      })
      await f.db.knex('knex_migrations_lock').insert({ is_locked: 1 })
      expect((await rejection(f.migrator().latest())).code).to.equal('MIGRATION_KNEX_LOCKED')
      expect(await f.migrator().unlockKnex()).to.deep.equal({ cleared: true })
      expect((await f.migrator().latest()).applied).to.have.length(GANTRY + 1)
    })

    if (dialect === 'sqlite') {
      it('foreign_key_check stops a migration that would orphan rows', async () => {
        f.write('001_tree.js', PARENT_AND_CHILD)
        await f.migrator().latest()
        f.write('002_orphan.js', `await knex('parents').delete()`)
        const err = await rejection(f.migrator().latest())
        expect(err.code).to.equal('MIGRATION_FAILED')
        expect(err.message).to.contain('foreign key').and.contain('children')
        expect(await f.db.knex('parents').count({ n: '*' })).to.deep.equal([{ n: 1 }])
        expect(await stateOf(f, '002_orphan')).to.equal('failed')
      })

      it('foreign_key_check stops an orphaning migration in the same run as the one before it (the check it reuses)', async () => {
        f.write('001_tree.js', PARENT_AND_CHILD)
        f.write('002_orphan.js', `await knex('parents').delete()`)
        const err = await rejection(f.migrator().latest())
        expect(err.code).to.equal('MIGRATION_FAILED')
        expect(err.message).to.contain('foreign key').and.contain('children')
        expect(await stateOf(f, '001_tree')).to.equal('applied')
        expect(await stateOf(f, '002_orphan')).to.equal('failed')
        expect(await f.db.knex('parents').count({ n: '*' })).to.deep.equal([{ n: 1 }])
      })

      it('rows that pointed nowhere before a migration do not block it', async () => {
        f.write(
          '001_tree.js',
          `await knex.schema.createTable('parents', (t) => { t.increments() })
           await knex.schema.createTable('children', (t) => { t.increments(); t.integer('parent_id').references('parents.id') })`,
        )
        await f.migrator().latest()
        await f.db.knex.raw('PRAGMA foreign_keys = OFF')
        await f.db.knex('children').insert({ id: 1, parent_id: 99 })
        await f.db.knex.raw('PRAGMA foreign_keys = ON')
        f.write('002_unrelated.js', `await knex.schema.createTable('tags', (t) => { t.increments() })`)
        expect((await f.migrator().latest()).applied.map((r) => r.name)).to.deep.equal(['002_unrelated'])
      })
    }
  })
}
