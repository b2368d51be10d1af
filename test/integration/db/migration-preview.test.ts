/**
 * The dry run on the migration history fixture, whose later migrations alter what earlier ones create: the
 * batch runs for real on a copy (SQLite) or a shadow database (MariaDB, PostgreSQL), never on the target,
 * which stays as it was; no temporary shadow database is left behind; a configured shadow database is
 * emptied and used; without a copy or a shadow (a role that may not create databases) each file is
 * previewed alone, the ones that cannot be are named with the reason and the others are kept.
 */
import { execFile } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { openDatabase, type Database } from '../../../src/db/connect.js'
import { createMigrator, unpreviewedError, type LatestResult } from '../../../src/db/migrator/index.js'
import { previewPerFile } from '../../../src/db/migrator/dry-run.js'
import { listMigrations } from '../../../src/db/migrator/source.js'
import { parseDatabaseUrl, type Dialect } from '../../../src/db/url.js'
import { GANTRY_MIGRATIONS } from '../../helpers/gantry-migrations.js'
import { copyMigrationHistory, MIGRATION_HISTORY_COUNT, MIGRATION_HISTORY_FILES } from '../../helpers/migration-history.js'
import { rejection } from '../../helpers/rejection.js'
import { adminKnex, createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'
import { migratorFixture, type MigratorFixture } from '../../helpers/service-workspace.js'
import { AFTER_CREATE_MODULE, SESSION_HOOK } from '../../helpers/session-hook.js'

const bare = (file: string): string => file.replace(/\.js$/, '')
const HISTORY = MIGRATION_HISTORY_FILES.map(bare)
/** A per-connection setting each dialect's knex setup module makes (see test/integration/db/knex-setup.test.ts), and how to read it. */
/** How many of the history a test applies before previewing the rest (the seeds and the first backfills among them). */
const APPLIED_FIRST = 20

const rows = <T>(result: unknown, dialect: Dialect): T[] =>
  (dialect === 'postgres' ? (result as { rows: T[] }).rows : dialect === 'mysql' ? (result as [T[]])[0] : (result as T[])) ?? []

/**
 * Everything a preview must not change on the target: its schema as the database itself prints it
 * (SQLite: sqlite_master; MariaDB: SHOW CREATE of every table and view; PostgreSQL: pg_dump --schema-only,
 * or information_schema without it) and the row count of every table.
 */
async function fingerprint(db: Database, url: string): Promise<{ schema: unknown; counts: Record<string, number> }> {
  const k: Knex = db.knex
  let tables: string[]
  let schema: unknown
  if (db.dialect === 'sqlite') {
    schema = await k.raw('select type, name, tbl_name, sql from sqlite_master order by type, name')
    tables = rows<{ name: string }>(await k.raw("select name from sqlite_master where type = 'table'"), 'sqlite').map((r) => r.name)
  } else if (db.dialect === 'mysql') {
    const all = rows<{ name: string; type: string }>(
      await k.raw('select table_name as name, table_type as type from information_schema.tables where table_schema = database() order by table_name'),
      'mysql',
    )
    const created: unknown[] = []
    for (const t of all) created.push(rows(await k.raw(t.type === 'VIEW' ? 'SHOW CREATE VIEW ??' : 'SHOW CREATE TABLE ??', [t.name]), 'mysql'))
    schema = created
    tables = all.filter((t) => t.type !== 'VIEW').map((t) => t.name)
  } else {
    const parsed = new URL(url)
    schema = existsSync('/usr/bin/pg_dump')
      ? (
          await promisify(execFile)('/usr/bin/pg_dump', [
            '--schema-only',
            '-h',
            parsed.hostname,
            '-p',
            parsed.port,
            '-U',
            decodeURIComponent(parsed.username),
            parsed.pathname.slice(1),
          ])
        ).stdout.replace(/^\\(un)?restrict .*$/gm, '') // a random key per dump
      : rows(
          await k.raw(
            "select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' order by 1, 2",
          ),
          'postgres',
        )
    tables = rows<{ name: string }>(
      await k.raw("select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'"),
      'postgres',
    ).map((r) => r.name)
  }
  const counts: Record<string, number> = {}
  for (const table of tables.sort()) counts[table] = Number((await k(table).count({ n: '*' }))[0]?.n)
  return { schema, counts }
}

/** The temporary shadow databases of `database` on its server (none once a preview is over). */
async function shadowsOf(test: TestDatabase): Promise<string[]> {
  if (test.dialect === 'sqlite') return []
  const database = new URL(test.url).pathname.slice(1)
  const admin = adminKnex(test.dialect)
  try {
    const found =
      test.dialect === 'mysql'
        ? rows<{ name: string }>(
            await admin.raw('select schema_name as name from information_schema.schemata where schema_name like ?', [`${database}\\_gantry\\_shadow\\_%`]),
            'mysql',
          )
        : rows<{ name: string }>(
            await admin.raw('select datname as name from pg_database where datname like ?', [`${database}\\_gantry\\_shadow\\_%`]),
            'postgres',
          )
    return found.map((r) => r.name)
  } finally {
    await admin.destroy()
  }
}

/** Each app migration of a preview, by name, with its statements and error. */
const appPreviews = (result: LatestResult) => (result.dryRun ?? []).filter((p) => p.set === 'app')

for (const dialect of DIALECTS) {
  describe(`migrate latest --dry-run on the migration history, ${dialect}`, function () {
    this.timeout(180_000)
    let f: MigratorFixture | undefined
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await migratorFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
      f = undefined
    })

    it(`previews all ${MIGRATION_HISTORY_COUNT} files in one batch on a ${dialect === 'sqlite' ? 'copy' : 'temporary shadow database'}, each with its statements; --all adds Gantry's own`, async () => {
      const fx = f as MigratorFixture
      copyMigrationHistory(fx.dir)
      const before = await fingerprint(fx.db, fx.testDb.url)
      const result = await fx.migrator().latest({ dryRun: true })
      expect(result.preview?.mode).to.equal(dialect === 'sqlite' ? 'copy' : 'shadow')
      if (dialect !== 'sqlite') expect(result.preview?.on).to.match(/_gantry_shadow_[0-9a-f]{8}$/)
      expect(result.dryRun?.map((p) => `${p.set}/${p.name}`)).to.deep.equal(HISTORY.map((n) => `app/${n}`))
      expect(result.dryRun?.filter((p) => p.error !== undefined)).to.deep.equal([])
      expect(result.dryRun?.filter((p) => p.statements.length === 0).map((p) => p.name)).to.deep.equal([])
      // The later migrations altered what the earlier ones made, in the preview as in a real run.
      const byName = new Map(result.dryRun?.map((p) => [p.name, p.statements.join('\n')]))
      expect(byName.get('20240105000006_rename_comments_to_task_comments')).to.match(/rename/i)
      expect(byName.get('20240115000001_create_active_projects_view')).to.match(/create view active_projects/i)
      expect(unpreviewedError(result)).to.equal(undefined)

      const all = await fx.migrator().latest({ dryRun: true, preview: { includeGantry: true } })
      expect(all.dryRun?.map((p) => p.name)).to.deep.equal([...GANTRY_MIGRATIONS, ...HISTORY])
      expect(all.dryRun?.slice(0, GANTRY_MIGRATIONS.length).every((p) => p.set === 'gantry' && p.statements.length > 0)).to.equal(true)

      expect(await fingerprint(fx.db, fx.testDb.url)).to.deep.equal(before)
      expect(await shadowsOf(fx.testDb)).to.deep.equal([])
      if (dialect === 'sqlite') expect(existsSync(dirname((result.preview?.on ?? '').slice('sqlite:'.length)))).to.equal(false)
    })

    it(`with ${APPLIED_FIRST} applied, previews the rest on what the target has (its rows too on a copy), leaves it identical, and previews rolling all back`, async () => {
      const fx = f as MigratorFixture
      copyMigrationHistory(fx.dir)
      for (const file of MIGRATION_HISTORY_FILES.slice(APPLIED_FIRST)) rmSync(join(fx.dir, file))
      await fx.migrator().latest()
      copyMigrationHistory(fx.dir)
      const before = await fingerprint(fx.db, fx.testDb.url)
      expect(Object.values(before.counts).some((n) => n > 0)).to.equal(true)

      const result = await fx.migrator().latest({ dryRun: true })
      expect(appPreviews(result).map((p) => p.name)).to.deep.equal(HISTORY.slice(APPLIED_FIRST))
      expect(result.dryRun?.filter((p) => p.error !== undefined || p.statements.length === 0)).to.deep.equal([])
      // On a copy the backfills read the target's own rows: exact. A shadow database has only what its replayed migrations wrote.
      expect(result.dryRun?.some((p) => p.approximate)).to.equal(dialect !== 'sqlite')
      expect(await fingerprint(fx.db, fx.testDb.url)).to.deep.equal(before)

      await fx.migrator().latest()
      const applied = await fingerprint(fx.db, fx.testDb.url)
      const down = await fx.migrator().rollback({ all: true, dryRun: true })
      expect(down.preview?.mode).to.equal(dialect === 'sqlite' ? 'copy' : 'shadow')
      expect(down.dryRun?.map((p) => `${p.name} ${p.direction}`)).to.deep.equal([...HISTORY].reverse().map((n) => `${n} down`))
      expect(down.dryRun?.filter((p) => p.error !== undefined)).to.deep.equal([])
      expect(down.dryRun?.at(-1)?.statements.join(' ')).to.match(/drop table .accounts/i)
      expect(await fingerprint(fx.db, fx.testDb.url)).to.deep.equal(applied)
      expect(await shadowsOf(fx.testDb)).to.deep.equal([])
    })

    it('a migration that fails in the preview is named with its error, the ones before it are kept, the ones after it are not run', async () => {
      const fx = f as MigratorFixture
      fx.write('001_users.js', "await knex.schema.createTable('users', (t) => { t.increments(); t.string('email') })", "await knex.schema.dropTable('users')")
      fx.write('002_broken.js', "await knex.schema.alterTable('users', (t) => { t.string('name') })\nawait knex.raw('insert into no_such_table values (1)')")
      fx.write('003_after.js', "await knex.schema.createTable('after', (t) => { t.increments() })")
      const result = await fx.migrator().latest({ dryRun: true })
      const [users, broken, after] = appPreviews(result)
      expect(users?.error).to.equal(undefined)
      expect(users?.statements.join(' ')).to.match(/create table .users/i)
      expect(broken?.error).to.match(/no_such_table/)
      expect(broken?.statements.join(' ')).to.match(/alter table .users/i)
      expect(after).to.deep.include({ statements: [], error: 'not run: app/002_broken failed before it' })
      const err = unpreviewedError(result)
      expect(err?.code).to.equal('MIGRATION_FAILED')
      expect(err?.message).to.contain('2 of 3').and.contain('app/002_broken, app/003_after')
      expect(await fx.db.knex.schema.hasTable('users')).to.equal(false)
      expect(await shadowsOf(fx.testDb)).to.deep.equal([])
      if (dialect === 'sqlite') expect(existsSync(dirname((result.preview?.on ?? '').slice('sqlite:'.length)))).to.equal(false)
    })

    it('the per-file fallback cannot write, even through a statement that looks like a read', async () => {
      const fx = f as MigratorFixture
      await fx.migrator().latest()
      await fx.db.knex.schema.createTable('keep', (t) => {
        t.increments()
        t.string('v')
      })
      await fx.db.knex('keep').insert({ v: 'row' })
      const sneaky =
        dialect === 'postgres'
          ? `await knex.raw('WITH d AS (DELETE FROM keep RETURNING *) SELECT count(*) FROM d')`
          : dialect === 'mysql'
            ? `await knex.raw('SELECT * FROM keep FOR UPDATE')`
            : `await knex.raw('WITH x AS (SELECT 1) SELECT * FROM x')`
      fx.write('001_sneaky.js', sneaky)
      fx.write('002_fine.js', "await knex.schema.createTable('fine', (t) => { t.increments() })")
      const [sneakyPreview, fine] = await previewPerFile(
        fx.db,
        listMigrations('app', fx.dir).map((file) => ({ file, direction: 'up' as const })),
      )
      if (dialect === 'sqlite') expect([sneakyPreview?.approximate, sneakyPreview?.error]).to.deep.equal([true, undefined])
      else expect(sneakyPreview?.error).to.match(/read.only/i)
      expect(fine?.statements.join(' ')).to.match(/create table .fine/i)
      expect(await fx.db.knex('keep').pluck('v')).to.deep.equal(['row'])
      expect(await fx.db.knex.schema.hasTable('fine')).to.equal(false)
    })

    it("builds the copy's or shadow database's connections with the workspace's knex setup module", async () => {
      const fx = f as MigratorFixture
      const module = join(fx.root, 'gantry.knex.mjs')
      writeFileSync(module, AFTER_CREATE_MODULE)
      const { read, value } = SESSION_HOOK[dialect]
      fx.write(
        '001_seen.js',
        `const result = await knex.raw(${JSON.stringify(read)})
const v = ${dialect === 'sqlite' ? 'Object.values(result[0])[0]' : dialect === 'mysql' ? 'result[0][0].v' : 'result.rows[0].v'}
await knex.schema.createTable('seen', (t) => { t.string('v') })
await knex('seen').insert({ v: String(v) })`,
      )
      const db = await openDatabase(fx.testDb.url, fx.root, { knexSetup: { name: './gantry.knex.mjs', path: module } })
      try {
        const result = await createMigrator({ db, appDirectory: fx.dir, appTable: 'knex_migrations', actor: 'test' }).latest({ dryRun: true })
        expect(result.preview?.mode).to.equal(dialect === 'sqlite' ? 'copy' : 'shadow')
        expect(result.dryRun?.[0]?.statements.at(-1)).to.match(new RegExp(`insert into .seen. \\(.v.\\) values \\('${value}'\\)`))
      } finally {
        await db.close()
      }
    })

    if (dialect === 'sqlite') return

    it('uses a configured shadowDatabase: emptied first, left in place, no temporary one made; never the target or a migrated database', async () => {
      const fx = f as MigratorFixture
      copyMigrationHistory(fx.dir)
      const shadow = await createTestDatabase(dialect)
      try {
        const left = await openDatabase(shadow.url, fx.root)
        await left.knex.schema.createTable('left_over', (t) => t.increments())
        await left.close()
        const before = await fingerprint(fx.db, fx.testDb.url)
        const result = await fx.migrator().latest({ dryRun: true, preview: { shadowDatabase: shadow.url } })
        expect(result.preview).to.deep.equal({ mode: 'shadow', on: parseDatabaseUrl(shadow.url, fx.root).display })
        expect(result.dryRun?.map((p) => p.name)).to.deep.equal(HISTORY)
        expect(result.dryRun?.filter((p) => p.error !== undefined || p.statements.length === 0)).to.deep.equal([])
        expect(await fingerprint(fx.db, fx.testDb.url)).to.deep.equal(before)
        expect(await shadowsOf(fx.testDb)).to.deep.equal([])
        const after = await openDatabase(shadow.url, fx.root)
        try {
          expect(await after.knex.schema.hasTable('left_over')).to.equal(false)
          // Run again on what the last preview left there: emptied first, so the same result.
          const again = await fx.migrator().latest({ dryRun: true, preview: { shadowDatabase: shadow.url } })
          expect(again.dryRun?.filter((p) => p.error !== undefined)).to.deep.equal([])

          const target = await rejection(fx.migrator().latest({ dryRun: true, preview: { shadowDatabase: fx.testDb.url.replace('127.0.0.1', 'localhost') } }))
          expect(target.code).to.equal('CONFIG_INVALID')
          expect(target.message).to.contain("this environment's own database")
          await fx.migrator().latest()
          const other = createMigrator({ db: after, appDirectory: fx.dir, appTable: 'knex_migrations', actor: 'test' })
          const migrated = await rejection(other.latest({ dryRun: true, preview: { shadowDatabase: fx.testDb.url } }))
          expect(migrated.code).to.equal('CONFIG_INVALID')
          expect(migrated.message).to.contain('gantry_migration_runs').and.contain('a migrated database, not a shadow')
          expect(Number((await fx.db.knex('knex_migrations').count({ n: '*' }))[0]?.n)).to.equal(MIGRATION_HISTORY_COUNT)
        } finally {
          await after.close()
        }
      } finally {
        await shadow.drop()
      }
    })

    it('falls back to file by file, saying why, when the applied migrations cannot rebuild the schema on the shadow database', async () => {
      const fx = f as MigratorFixture
      // A table made by hand, outside any migration: the shadow database never gets it.
      await fx.db.knex.schema.createTable('manual', (t) => t.increments())
      fx.write('001_alter_manual.js', "await knex.schema.alterTable('manual', (t) => { t.string('note') })")
      await fx.migrator().latest()
      fx.write('002_posts.js', "await knex.schema.createTable('posts', (t) => { t.increments() })")
      const result = await fx.migrator().latest({ dryRun: true })
      expect(result.preview?.mode).to.equal('per-file')
      expect(result.preview?.reason).to.match(/^the shadow database could not be given the target's schema: replaying app\/001_alter_manual failed: .*manual/)
      expect(result.dryRun?.map((p) => [p.name, p.error])).to.deep.equal([['002_posts', undefined]])
      expect(result.dryRun?.[0]?.statements.join(' ')).to.match(/create table .posts/i)
      expect(await shadowsOf(fx.testDb)).to.deep.equal([])
    })

    it('without CREATE DATABASE and no shadowDatabase, previews file by file: the reason, each failing file with its error, the rest kept', async () => {
      const fx = f as MigratorFixture
      copyMigrationHistory(fx.dir)
      const restricted = await restrictedUser(dialect, fx.testDb)
      try {
        const db = await openDatabase(restricted.url, fx.root)
        try {
          const before = await fingerprint(db, fx.testDb.url)
          const result = await createMigrator({ db, appDirectory: fx.dir, appTable: 'knex_migrations', actor: 'test' }).latest({ dryRun: true })
          expect(result.preview?.mode).to.equal('per-file')
          expect(result.preview?.reason).to.match(/migrations\.shadowDatabase is not set and a temporary one could not be created/)
          expect(result.preview?.reason).to.match(dialect === 'mysql' ? /access denied/i : /permission denied/i)
          expect(result.dryRun?.map((p) => p.name)).to.deep.equal(HISTORY)
          const failed = result.dryRun?.filter((p) => p.error !== undefined) ?? []
          const kept = result.dryRun?.filter((p) => p.error === undefined) ?? []
          expect(failed.length).to.be.at.least(5)
          expect(kept.map((p) => p.name)).to.include('20240101000001_create_accounts')
          expect(kept.find((p) => p.name === '20240101000001_create_accounts')?.statements.join(' ')).to.match(/create table .accounts/i)
          const err = unpreviewedError(result)
          expect(err?.code).to.equal('MIGRATION_FAILED')
          expect(err?.message).to.contain(`${failed.length} of ${MIGRATION_HISTORY_COUNT}`)
          expect(err?.details).to.deep.equal(result)
          expect(await fingerprint(db, fx.testDb.url)).to.deep.equal(before)
          expect(await shadowsOf(fx.testDb)).to.deep.equal([])
        } finally {
          await db.close()
        }
      } finally {
        await restricted.drop()
      }
    })
  })
}

/**
 * A user of its own on `test`'s database with every right there and none to create databases; drop() removes
 * it (PostgreSQL: it owns the database, so the database is handed back to postgres first).
 */
async function restrictedUser(dialect: 'mysql' | 'postgres', test: TestDatabase): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gantry_r_${process.pid}_${Math.random().toString(16).slice(2, 10)}`
  const database = new URL(test.url).pathname.slice(1)
  const admin = adminKnex(dialect, test.url)
  try {
    if (dialect === 'mysql') {
      await admin.raw(`CREATE USER ??@'%' IDENTIFIED BY 'pw'`, [name])
      await admin.raw(`GRANT ALL ON ??.* TO ??@'%'`, [database, name])
    } else {
      await admin.raw(`CREATE ROLE ?? LOGIN PASSWORD 'pw' NOCREATEDB`, [name])
      await admin.raw('ALTER DATABASE ?? OWNER TO ??', [database, name])
    }
  } finally {
    await admin.destroy()
  }
  const url = new URL(test.url)
  url.username = name
  url.password = 'pw'
  return {
    url: url.toString(),
    async drop() {
      const k = adminKnex(dialect, test.url)
      try {
        if (dialect === 'mysql') await k.raw(`DROP USER IF EXISTS ??@'%'`, [name])
        else {
          await k.raw('ALTER DATABASE ?? OWNER TO postgres', [database])
          await k.raw('REASSIGN OWNED BY ?? TO postgres', [name])
          await k.raw('DROP OWNED BY ??', [name])
          await k.raw('DROP ROLE IF EXISTS ??', [name])
        }
      } finally {
        await k.destroy()
      }
    },
  }
}
