/**
 * `migrate latest --backup` (issue 23) as users run it, through the built CLI: the backup is taken under the
 * migration lock before the first pending migration, holds the database as the run found it, is named in
 * the output and in a failed run's hint, and is audited; it is on by default where the environment's config
 * names backups.directory, where a missing dump tool is only a warning; a protected environment naming none
 * is warned; asked for with --backup, a missing tool stops the run before any migration.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { readBackupHeader } from '../../src/core/backups/backup-file.js'
import { latestResultSchema } from '../../src/db/migrator/types.js'
import { openDatabase } from '../../src/db/connect.js'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { createTestDatabase, requireDialect, type TestDatabase } from '../helpers/services.js'

const migration = (body: string): string => `export async function up(knex) { ${body} }\nexport async function down() {}\n`

describe('gantry migrate latest --backup (built CLI)', function () {
  this.timeout(90_000)
  let root: string
  const gantry = (args: readonly string[]): Promise<CliResult> => runGantry(args, { cwd: root, env: { DATABASE_URL: undefined, GANTRY_BACKUP_KEY: undefined } })
  const ok = async (args: readonly string[]): Promise<CliResult> => {
    const result = await gantry(args)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0)
    return result
  }
  const backupsOf = (folder: string): string[] => (existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.gantry-backup')) : [])
  const addMigration = (name: string, body: string): void => writeFileSync(join(root, 'migrations', `${name}.js`), migration(body))

  before(() => {
    root = tempDir('gantry-migrate-backup-')
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({
        migrations: { extension: 'js' },
        environments: {
          development: { database: 'sqlite:./development.sqlite3' },
          staging: { database: 'sqlite:./staging.sqlite3' },
          production: { database: 'sqlite:./production.sqlite3', protected: true, backups: { directory: './production-backups' } },
        },
      }),
    )
    mkdirSync(join(root, 'migrations'))
  })
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('on a database no migration has touched: nothing to back up, said once, and the run goes on', async () => {
    const result = await ok(['migrate', 'latest', '-e', 'production'])
    expect(result.stderr + result.stdout).to.include('No backup before migrating: no migration has run on this database yet')
    expect(backupsOf(join(root, 'production-backups'))).to.deep.equal([])
  })

  it('production (its config names backups.directory): on by default; the backup holds the database as the run found it and is audited', async () => {
    addMigration('20261201000000_widgets', "await knex.schema.createTable('widgets', (t) => { t.increments('id'); t.string('name') })")
    const json = latestResultSchema.strict().parse(parseJson(await ok(['migrate', 'latest', '-e', 'production', '--json'])))
    expect(json.applied.map((m) => m.name)).to.deep.equal(['20261201000000_widgets'])
    const file = json.backup!.file
    expect(file.startsWith(join(root, 'production-backups', 'production-'))).to.equal(true)
    const { manifest } = await readBackupHeader(file)
    expect(manifest.trigger).to.equal('migration')
    // Taken before the pending migration ran: Gantry's tables are in it, the widgets table is not.
    expect(manifest.migrations.app).to.deep.equal([])
    expect(manifest.rowCounts).to.have.property('gantry_users')
    expect(manifest.rowCounts).to.not.have.property('widgets')

    const db = await openDatabase(`sqlite:${join(root, 'production.sqlite3')}`, root)
    try {
      const entries = (await db.knex('gantry_audit_log').where({ action: 'db.backup' }).select('after')) as Array<{ after: string }>
      expect(entries.map((e) => (JSON.parse(e.after) as { file: string; trigger: string }).file)).to.deep.equal([file])
    } finally {
      await db.close()
    }
  })

  it('nothing pending: no backup', async () => {
    const before = backupsOf(join(root, 'production-backups'))
    const json = latestResultSchema.parse(parseJson(await ok(['migrate', 'latest', '-e', 'production', '--json'])))
    expect(json.backup).to.equal(null)
    expect(backupsOf(join(root, 'production-backups'))).to.deep.equal(before)
  })

  it('a failed migration names the backup to restore, in the hint and in details.backup: a copy of the database before the run', async () => {
    addMigration('20261202000000_broken', "await knex.schema.createTable('gadgets', (t) => { t.increments('id') }); await knex.raw('select nope from nowhere')")
    const failed = await gantry(['migrate', 'latest', '-e', 'production', '--json'])
    expect(failed.code).to.equal(1)
    const error = (parseJson(failed) as { error: { code: string; hint: string; details: { backup: string } } }).error
    expect(error.code).to.equal('MIGRATION_FAILED')
    expect(error.details.backup).to.match(/production-\d{8}T\d{9}Z\.gantry-backup$/)
    expect(error.hint).to.include(`gantry db restore ${error.details.backup}`)
    const { manifest } = await readBackupHeader(error.details.backup)
    expect(manifest.migrations.app.map((m) => m.name)).to.deep.equal(['20261201000000_widgets.js'])
    rmSync(join(root, 'migrations', '20261202000000_broken.js'))
  })

  it('--no-backup skips it; an unprotected environment naming no backups.directory takes none unless --backup asks', async () => {
    addMigration('20261203000000_more', "await knex.schema.createTable('more', (t) => { t.increments('id') })")
    const before = backupsOf(join(root, 'production-backups'))
    expect(parseJson(await ok(['migrate', 'latest', '-e', 'production', '--no-backup', '--json'])).backup).to.equal(null)
    await ok(['migrate', 'latest', '-e', 'development', '--no-backup'])
    rmSync(join(root, 'migrations', '20261203000000_more.js'))
    addMigration('20261204000000_dev_only', "await knex.schema.createTable('dev_only', (t) => { t.increments('id') })")
    expect(parseJson(await ok(['migrate', 'latest', '-e', 'development', '--json'])).backup).to.equal(null)
    expect(backupsOf(join(root, 'production-backups'))).to.deep.equal(before)
    rmSync(join(root, 'migrations', '20261204000000_dev_only.js'))
    addMigration('20261205000000_dev_asked', "await knex.schema.createTable('dev_asked', (t) => { t.increments('id') })")
    const asked = latestResultSchema.parse(parseJson(await ok(['migrate', 'latest', '-e', 'development', '--backup', '--json'])))
    expect(asked.backup!.file).to.include(join(root, '.gantry', 'backups', 'development-'))
  })

  it('a protected environment naming no backups.directory: one warning line, the migrations run, no backup', async () => {
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({ migrations: { extension: 'js' }, environments: { staging: { database: 'sqlite:./staging.sqlite3', protected: true } } }),
    )
    await ok(['migrate', 'latest', '-e', 'staging', '--no-backup'])
    addMigration('20261206000000_staging', "await knex.schema.createTable('staging_only', (t) => { t.increments('id') })")
    const result = await ok(['migrate', 'latest', '-e', 'staging'])
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('Warning: No backup before migrating'))
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.include('staging names no backups.directory').and.include('--no-backup')
    expect(result.stdout).to.match(/Applied \d+ migrations?/)
  })

  describe('a dump tool that is not installed (PostgreSQL, backups.programs.pg_dump naming no program)', () => {
    let database: TestDatabase | undefined
    let pgRoot: string | undefined
    after(async () => {
      await database?.drop()
      if (pgRoot) rmSync(pgRoot, { recursive: true, force: true })
    })
    const pg = (args: readonly string[]): Promise<CliResult> => runGantry(args, { cwd: pgRoot!, env: { DATABASE_URL: undefined } })

    it('by default (backups.directory named): a one-line warning and the migrations run; with --backup: exit 3 (DUMP_TOOL_MISSING) and none runs', async function () {
      await requireDialect(this, 'postgres')
      database = await createTestDatabase('postgres')
      pgRoot = tempDir('gantry-migrate-backup-pg-')
      writeFileSync(join(pgRoot, 'package.json'), JSON.stringify({ type: 'module' }))
      const missing = join(pgRoot, 'no-such-pg_dump')
      writeFileSync(
        join(pgRoot, 'gantry.config.json'),
        JSON.stringify({
          migrations: { extension: 'js' },
          environments: { production: { database: database.url, protected: true, backups: { directory: './backups', programs: { pg_dump: missing } } } },
        }),
      )
      mkdirSync(join(pgRoot, 'migrations'))
      expect((await pg(['migrate', 'latest', '-e', 'production', '--no-backup'])).code).to.equal(0)

      writeFileSync(join(pgRoot, 'migrations', '20261201000000_first.js'), migration("await knex.schema.createTable('first', (t) => { t.increments('id') })"))
      const refused = await pg(['migrate', 'latest', '-e', 'production', '--backup', '--json'])
      expect(refused.code, refused.stderr).to.equal(3)
      expect((parseJson(refused) as { error: { code: string } }).error.code).to.equal('DUMP_TOOL_MISSING')
      const status = parseJson(await pg(['migrate', 'status', '-e', 'production', '--json'])) as { pending: number }
      expect(status.pending).to.equal(1)

      const warned = await pg(['migrate', 'latest', '-e', 'production'])
      expect(warned.code, warned.stderr).to.equal(0)
      const warnings = warned.stderr.split('\n').filter((l) => l.startsWith('Warning: No backup before migrating'))
      expect(warnings).to.have.length(1)
      expect(warnings[0]).to.include('pg_dump').and.to.include('--no-backup')
      expect((parseJson(await pg(['migrate', 'status', '-e', 'production', '--json'])) as { pending: number }).pending).to.equal(0)
    })
  })

  for (const dialect of ['mysql', 'postgres'] as const) {
    it(`${dialect}: the dialect's own dump tool runs under the migration lock (no wait on the lock it holds)`, async function () {
      await requireDialect(this, dialect)
      const database = await createTestDatabase(dialect)
      const serverRoot = tempDir(`gantry-migrate-backup-${dialect}-`)
      try {
        writeFileSync(join(serverRoot, 'package.json'), JSON.stringify({ type: 'module' }))
        writeFileSync(
          join(serverRoot, 'gantry.config.json'),
          JSON.stringify({ migrations: { extension: 'js' }, environments: { staging: { database: database.url, backups: { directory: './backups' } } } }),
        )
        mkdirSync(join(serverRoot, 'migrations'))
        const run = (args: readonly string[]) => runGantry(args, { cwd: serverRoot, env: { DATABASE_URL: undefined, GANTRY_BACKUP_KEY: undefined } })
        expect((await run(['migrate', 'latest', '-e', 'staging'])).code).to.equal(0)
        writeFileSync(
          join(serverRoot, 'migrations', '20261201000000_first.js'),
          migration("await knex.schema.createTable('first', (t) => { t.increments('id') })"),
        )
        const result = await run(['migrate', 'latest', '-e', 'staging', '--json', '--lock-timeout', '20'])
        expect(result.code, result.stderr).to.equal(0)
        const { backup } = latestResultSchema.parse(parseJson(result))
        const { manifest } = await readBackupHeader(backup!.file)
        expect(manifest).to.include({ dialect, trigger: 'migration' })
        expect(manifest.rowCounts).to.not.have.property('first')
      } finally {
        rmSync(serverRoot, { recursive: true, force: true })
        await database.drop()
      }
    })
  }
})
