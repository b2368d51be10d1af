import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { runReportSchema, type RunReport } from '../../src/db/migrator/types.js'
import { parseJson } from '../helpers/cli.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import { migrateWorkspace, type MigrateWorkspace } from '../helpers/migrate-workspace.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../helpers/services.js'

const table = (name: string): string => `export async function up(knex) { await knex.schema.createTable('${name}', (t) => { t.increments() }) }
export async function down(knex) { await knex.schema.dropTable('${name}') }
`
/** Creates a table, then fails; its down fails the same way once it is applied. */
const FAILS = `export async function up(knex) {
  await knex.schema.createTable('tags', (t) => { t.increments() })
  await knex.raw('insert into nope (x) values (1)')
}
export async function down(knex) { await knex.raw('insert into nope (x) values (1)') }
`

interface ErrorDocument {
  error: { code: string; hint?: string; details?: { report?: unknown } }
}

const reportIn = (doc: ErrorDocument): RunReport => runReportSchema.parse(doc.error.details?.report)
const tracked = (ws: MigrateWorkspace): Promise<string[]> => ws.query((k) => k('knex_migrations').orderBy('id').pluck('name'))

for (const dialect of DIALECTS) {
  const transactional = dialect !== 'mysql'
  describe(`gantry migrate: the run report (built CLI) on ${dialect}`, function () {
    this.timeout(60_000)
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

    it('latest: a line per migration, then the report of the failure (human and --json), then a summary once it is fixed', async () => {
      ws.addMigration('001_users', table('users'))
      ws.addMigration('002_fails', FAILS)
      const human = await ws.gantry(['migrate', 'latest'])
      expect(human.code, human.stderr).to.equal(1)
      const lines = human.stdout.trimEnd().split('\n')
      expect(lines.slice(0, GANTRY_MIGRATIONS.length + 1).map((l) => l.replace(/ \(\d+ ms\)$/, ''))).to.deep.equal([
        ...GANTRY_MIGRATIONS.map((m) => `✔ gantry/${m}`),
        '✔ app/001_users',
      ])
      const at = 'the database is at app/001_users.'
      expect(lines.slice(GANTRY_MIGRATIONS.length + 1)).to.deep.equal([
        'Failed: app/002_fails (up)',
        '  at: insert into nope (x) values (1)',
        `  ran before it in this migration, ${transactional ? 'rolled back with it' : 'still committed'}:`,
        `    create table ${dialect === 'postgres' ? '"tags" ("id" serial primary key)' : dialect === 'mysql' ? '`tags` (`id` int unsigned not null auto_increment primary key)' : '`tags` (`id` integer not null primary key autoincrement)'}`,
        transactional
          ? `  ${GANTRY_MIGRATIONS.length + 1} migrations of this run stay applied; ${at}`
          : `  ${GANTRY_MIGRATIONS.length + 1} migrations of this run stay applied; app/002_fails is partial: the 1 statement(s) under ran stay committed; ${at}`,
      ])
      // After the target line (`development → …`), the error.
      expect(human.stderr).to.match(
        transactional ? /^Error \(MIGRATION_FAILED\): Migration app\/002_fails\.js failed at statement: insert into nope/m : /^Error \(MIGRATION_PARTIAL\)/m,
      )
      expect(human.stderr).to.match(
        transactional
          ? /\nTry: Fix 002_fails\.js and run `gantry migrate latest` again: it goes on from app\/002_fails\.\n$/
          : /\nTry: app\/002_fails may be half-applied: .* `gantry migrate resolve 002_fails --applied` \(or --rolled-back\)\.\n$/,
      )

      if (!transactional) {
        // Partial: the run stops before it until resolved, so the --json run below meets the same migration.
        await ws.query((k) => k.schema.dropTable('tags'))
        expect((await ws.gantry(['migrate', 'resolve', '002_fails', '--rolled-back'])).code).to.equal(0)
      }
      const json = await ws.gantry(['migrate', 'latest', '--json'])
      expect(json.code).to.equal(1)
      const report = reportIn(parseJson<ErrorDocument>(json))
      expect(report.done).to.deep.equal([])
      expect(report.failed).to.deep.include({ set: 'app', name: '002_fails', statement: 'insert into nope (x) values (1)', partial: !transactional })
      expect(report.at).to.deep.equal({ set: 'app', name: '001_users' })
      expect(parseJson<ErrorDocument>(json).error.hint).to.equal(report.next)
      expect(await tracked(ws)).to.deep.equal(['001_users.js'])

      if (!transactional) {
        await ws.query((k) => k.schema.dropTable('tags'))
        expect((await ws.gantry(['migrate', 'resolve', '002_fails', '--rolled-back'])).code).to.equal(0)
      }
      ws.addMigration('002_fails', table('tags'))
      ws.addMigration('003_posts', table('posts'))
      const fixed = await ws.gantry(['migrate', 'latest'])
      expect(fixed.code, fixed.stderr).to.equal(0)
      expect(fixed.stdout).to.match(/^✔ app\/002_fails \(\d+ ms\)\n✔ app\/003_posts \(\d+ ms\)\nApplied 2 migrations in \d+\.\d s\.\n$/)
      expect((await ws.gantry(['migrate', 'latest'])).stdout).to.equal('Already up to date: no pending migrations.\n')
    })

    it('rollback --all that fails part way names the ones it undid; --atomic (or migrations.transaction "batch") keeps nothing, or is refused on MySQL/MariaDB', async () => {
      ws.addMigration('001_fails_down', FAILS.replace("  await knex.raw('insert into nope (x) values (1)')\n}", '}'))
      ws.addMigration('002_users', table('users'))
      ws.addMigration('003_posts', table('posts'))
      expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(0)

      const atomic = await ws.gantry(['migrate', 'rollback', '--all', '--atomic', '--json'])
      if (transactional) {
        expect(atomic.code).to.equal(1)
        const report = reportIn(parseJson<ErrorDocument>(atomic))
        expect(report).to.deep.include({ direction: 'down', transaction: 'batch', kept: [] })
        expect(report.done.map((r) => r.name)).to.deep.equal(['003_posts', '002_users'])
        expect(await tracked(ws)).to.deep.equal(['001_fails_down.js', '002_users.js', '003_posts.js'])
      } else {
        expect(atomic.code).to.equal(2)
        expect(parseJson<ErrorDocument>(atomic).error.code).to.equal('INVALID_INPUT')
        const human = await ws.gantry(['migrate', 'rollback', '--all', '--atomic'])
        expect(human.stderr.split('\n').slice(1).join('\n')).to.equal(
          'Error (INVALID_INPUT): MySQL/MariaDB commits each DDL statement implicitly, so a batch of migrations cannot run as one transaction there.\n' +
            'Try: Run it without --atomic (or with --no-atomic), or set migrations.transaction to "each" in gantry.config.json.\n',
        )
      }

      // migrations.transaction in the config file asks the same as --atomic; --no-atomic overrides it.
      const config = join(ws.root, 'gantry.config.json')
      writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), migrations: { transaction: 'batch' } }))
      const configured = await ws.gantry(['migrate', 'rollback', '--all', '--json'])
      expect(configured.code).to.equal(transactional ? 1 : 2)
      if (transactional) expect(reportIn(parseJson<ErrorDocument>(configured)).transaction).to.equal('batch')

      const human = await ws.gantry(['migrate', 'rollback', '--all', '--no-atomic'])
      expect(human.code).to.equal(1)
      expect(human.stdout).to.match(
        /^↩ app\/003_posts \(\d+ ms\)\n↩ app\/002_users \(\d+ ms\)\nFailed: app\/001_fails_down \(down\)\n {2}at: insert into nope \(x\) values \(1\)\n {2}2 migrations of this run stay rolled back; the database is at app\/001_fails_down\.\n$/,
      )
      expect(human.stderr).to.contain(
        'Try: Fix the down of 001_fails_down.js and run `gantry migrate rollback --all` again: it goes on from app/001_fails_down.',
      )
      expect(await tracked(ws)).to.deep.equal(['001_fails_down.js'])
    })
  })
}
