/**
 * A migration that fails in the middle of the history fixture, on every dialect: the run's report names
 * exactly what stays committed (checked against the tracking table), the statement that failed and the
 * ones of that migration that ran before it. Batch mode (--atomic, migrations.transaction = "batch") keeps
 * nothing on SQLite and PostgreSQL, and is refused before anything runs on MySQL/MariaDB or when a
 * migration of the batch opts out of transactions.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { runReportSchema, type RunReport } from '../../../src/db/migrator/index.js'
import { GANTRY_MIGRATIONS } from '../../helpers/gantry-migrations.js'
import { copyMigrationHistory, insertMigration, MIGRATION_HISTORY_COUNT, MIGRATION_HISTORY_FILES } from '../../helpers/migration-history.js'
import { rejection, type Rejection } from '../../helpers/rejection.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { migratorFixture, schemaOf, type MigratorFixture } from '../../helpers/service-workspace.js'

const bare = (file: string): string => file.replace(/\.js$/, '')
const HISTORY = MIGRATION_HISTORY_FILES.map(bare)
/** The failing migration goes right after this many of the history's. */
const AFTER = 26

/** Creates a table, then sends a statement that fails: on MySQL/MariaDB the table stays (DDL commits). */
const FAILS_MIDWAY = `exports.up = async (knex) => {
  await knex.schema.createTable('midway', (t) => { t.increments('id') })
  await knex.raw('insert into no_such_table (x) values (1)')
}
exports.down = async (knex) => { await knex.schema.dropTableIfExists('midway') }
`
const DOWN_FAILS_MIDWAY = `exports.up = async (knex) => { await knex.schema.createTable('midway', (t) => { t.increments('id') }) }
exports.down = async (knex) => {
  await knex.schema.dropTable('midway')
  await knex.raw('insert into no_such_table (x) values (1)')
}
`
const OPTS_OUT = 'exports.config = { transaction: false }\n'
/** PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction: it runs only outside one. */
const CONCURRENT_INDEX = `${OPTS_OUT}exports.up = async (knex) => {
  const concurrently = knex.client.config.client === 'pg' ? 'concurrently ' : ''
  await knex.raw('create index ' + concurrently + 'users_email_by_index on users (email)')
}
exports.down = async (knex) => { await knex.raw('drop index users_email_by_index') }
`

/** The app's tracking rows (bare names, in order) and their batches. */
async function tracked(f: MigratorFixture): Promise<Array<{ name: string; batch: number }>> {
  const rows = (await f.db.knex('knex_migrations').orderBy('id').select('name', 'batch')) as Array<{ name: string; batch: number | string }>
  return rows.map((r) => ({ name: bare(r.name), batch: Number(r.batch) }))
}

const trackedNames = async (f: MigratorFixture): Promise<string[]> => (await tracked(f)).map((r) => r.name)

/** The report a failed run's error carries, validated by its published schema. */
function reportOf(err: Rejection): RunReport {
  return runReportSchema.parse(err.details?.report)
}

const appNames = (runs: ReadonlyArray<{ set: string; name: string }>): string[] => runs.filter((r) => r.set === 'app').map((r) => r.name)

async function stateOf(f: MigratorFixture, name: string): Promise<string | undefined> {
  return (await f.migrator().status()).migrations.find((m) => m.name === name)?.state
}

for (const dialect of DIALECTS) {
  const transactional = dialect !== 'mysql'
  describe(`a failed run's report on ${dialect}`, function () {
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

    it(`a failure after ${AFTER} migrations: the report names exactly those, as the tracking table does, and the statement that failed`, async () => {
      const fx = f as MigratorFixture
      copyMigrationHistory(fx.dir)
      const failing = insertMigration(fx.dir, AFTER, 'fails_midway', FAILS_MIDWAY)
      const err = await rejection(fx.migrator().latest())
      expect(err.code).to.equal(transactional ? 'MIGRATION_FAILED' : 'MIGRATION_PARTIAL')
      const report = reportOf(err)

      const before = HISTORY.slice(0, AFTER)
      expect(await trackedNames(fx)).to.deep.equal(before)
      expect(appNames(report.done)).to.deep.equal(before)
      expect(report.done.filter((r) => r.set === 'gantry').map((r) => r.name)).to.deep.equal(GANTRY_MIGRATIONS)
      expect(report.kept).to.deep.equal(report.done.map(({ set, name }) => ({ set, name })))
      expect(report).to.deep.include({ direction: 'up', transaction: 'each', at: { set: 'app', name: before.at(-1) } })
      expect(report.failed).to.deep.include({ set: 'app', name: failing, partial: !transactional })
      expect(report.failed.statement).to.match(/^insert into no_such_table \(x\) values \(1\)$/)
      expect(report.failed.ran).to.have.length(1)
      expect(report.failed.ran[0]).to.match(/^create table .midway./i)

      const kept = `${GANTRY_MIGRATIONS.length + AFTER} migrations of this run stay applied`
      const partial = transactional ? '' : `; app/${failing} is partial: the 1 statement(s) under ran stay committed`
      expect(report.state).to.equal(`${kept}${partial}; the database is at app/${before.at(-1)}.`)
      expect((err as Rejection & { hint?: string }).hint).to.equal(report.next)
      expect(report.next).to.match(
        transactional ? /^Fix .*fails_midway\.js and run `gantry migrate latest` again/ : /gantry migrate resolve .*fails_midway --applied/,
      )
      expect(await fx.db.knex.schema.hasTable('midway')).to.equal(!transactional)
      expect(await stateOf(fx, failing)).to.equal(transactional ? 'failed' : 'partial')
    })

    it('rollback --all failing in the middle reports the ones it undid before, as the tracking table does', async () => {
      const fx = f as MigratorFixture
      copyMigrationHistory(fx.dir)
      const failing = insertMigration(fx.dir, AFTER, 'down_fails_midway', DOWN_FAILS_MIDWAY)
      await fx.migrator().latest()
      const kept = [...HISTORY.slice(0, AFTER), failing]
      const undone = HISTORY.slice(AFTER).reverse()

      if (transactional) {
        // One transaction for the whole rollback: nothing of it stays undone.
        const atomic = reportOf(await rejection(fx.migrator({ transaction: 'batch' }).rollback({ all: true })))
        expect(appNames(atomic.done)).to.deep.equal(undone)
        expect(atomic.kept).to.deep.equal([])
        expect(atomic.state).to.match(/^The run was one transaction and was rolled back whole: the 23 migrations that ran before .* were undone with it; /)
        expect(await trackedNames(fx)).to.deep.equal([...kept, ...HISTORY.slice(AFTER)])
      }

      const err = await rejection(fx.migrator().rollback({ all: true }))
      const report = reportOf(err)
      expect(await trackedNames(fx)).to.deep.equal(kept)
      expect(report.direction).to.equal('down')
      expect(appNames(report.done)).to.deep.equal(undone)
      expect(appNames(report.kept)).to.deep.equal(undone)
      expect(report.failed).to.deep.include({ set: 'app', name: failing, partial: !transactional })
      expect(report.failed.statement).to.match(/^insert into no_such_table/)
      expect(report.failed.ran[0]).to.match(/^drop table .midway./i)
      expect(report.at).to.deep.equal({ set: 'app', name: failing })
      expect(report.state).to.match(new RegExp(`^${undone.length} migrations of this run stay rolled back; `))
      if (transactional) expect(report.next).to.contain('run `gantry migrate rollback --all` again')
      expect(await fx.db.knex.schema.hasTable('midway')).to.equal(transactional)
    })

    if (transactional) {
      it('--atomic: a failure in the middle keeps nothing (schema and tracking as before); without it the batch then applies whole', async () => {
        const fx = f as MigratorFixture
        copyMigrationHistory(fx.dir, 10)
        await fx.migrator().latest()
        const schema = await schemaOf(fx.db)
        const gantryRows = await fx.db.knex('gantry_migrations').count({ n: '*' })

        copyMigrationHistory(fx.dir)
        const failing = insertMigration(fx.dir, AFTER, 'fails_midway', FAILS_MIDWAY)
        const err = await rejection(fx.migrator({ transaction: 'batch' }).latest())
        expect(err.code).to.equal('MIGRATION_FAILED')
        const report = reportOf(err)
        expect(report).to.deep.include({ transaction: 'batch', kept: [], at: { set: 'app', name: HISTORY[9] } })
        expect(appNames(report.done)).to.deep.equal(HISTORY.slice(10, AFTER))
        expect(report.failed).to.deep.include({ name: failing, partial: false })
        expect(report.state).to.equal(
          `The run was one transaction and was rolled back whole: the ${AFTER - 10} migrations that ran before app/${failing} were undone with it; the database is at app/${HISTORY[9]}, as before the run.`,
        )
        expect(report.next).to.contain('the whole run starts over')

        expect(await schemaOf(fx.db)).to.deep.equal(schema)
        expect(await trackedNames(fx)).to.deep.equal(HISTORY.slice(0, 10))
        expect(await fx.db.knex('gantry_migrations').count({ n: '*' })).to.deep.equal(gantryRows)
        const status = await fx.migrator().status()
        expect(status.migrations.filter((m) => m.state === 'pending').map((m) => m.name)).to.deep.equal(HISTORY.slice(10))
        expect(status.migrations.find((m) => m.name === failing)?.state).to.equal('failed')

        rmSync(join(fx.dir, `${failing}.js`))
        const again = await fx.migrator({ transaction: 'batch' }).latest()
        expect(again.applied.map((r) => r.name)).to.deep.equal(HISTORY.slice(10))
        expect(await tracked(fx)).to.deep.equal(HISTORY.map((name, i) => ({ name, batch: i < 10 ? 1 : 2 })))
      })

      it('--atomic is refused (exit 2, naming it) when a migration of the batch opts out of transactions; without it, that one runs outside a transaction', async () => {
        const fx = f as MigratorFixture
        copyMigrationHistory(fx.dir, 10)
        await fx.migrator().latest()
        const schema = await schemaOf(fx.db)
        copyMigrationHistory(fx.dir, 20)
        const outside = insertMigration(fx.dir, 15, 'concurrent_index', CONCURRENT_INDEX)

        const refusedWith = async (run: Promise<unknown>): Promise<void> => {
          const err = await rejection(run)
          expect(err.code).to.equal('INVALID_INPUT')
          expect((err as Rejection & { exit?: number }).exit).to.equal(2)
          expect(err.message).to.equal(`The batch cannot run as one transaction: app/${outside}.js opts out of transactions (config.transaction = false).`)
          expect(err.details).to.deep.include({ reason: 'batch-not-transactional', migrations: [`app/${outside}.js`] })
        }
        await refusedWith(fx.migrator({ transaction: 'batch' }).latest())
        expect(await schemaOf(fx.db)).to.deep.equal(schema)
        expect(await trackedNames(fx)).to.deep.equal(HISTORY.slice(0, 10))

        const applied = await fx.migrator().latest()
        expect(appNames(applied.applied)).to.deep.equal([...HISTORY.slice(10, 15), outside, ...HISTORY.slice(15, 20)])
        // Its down is in the way of an atomic rollback too.
        const whole = await schemaOf(fx.db)
        await refusedWith(fx.migrator({ transaction: 'batch' }).rollback({ all: true }))
        expect(await schemaOf(fx.db)).to.deep.equal(whole)
      })

      it('a migration that opts out of transactions and fails part way: partial on PostgreSQL (the report says so), rolled back whole on SQLite', async () => {
        const fx = f as MigratorFixture
        copyMigrationHistory(fx.dir, 20)
        const failing = insertMigration(fx.dir, 20, 'outside_fails', `${OPTS_OUT}${FAILS_MIDWAY}`)
        const err = await rejection(fx.migrator().latest())
        const report = reportOf(err)
        const partial = dialect === 'postgres'
        expect(err.code).to.equal(partial ? 'MIGRATION_PARTIAL' : 'MIGRATION_FAILED')
        expect(report.failed).to.deep.include({ name: failing, partial })
        expect(report.failed.ran[0]).to.match(/^create table .midway./)
        expect(appNames(report.kept)).to.deep.equal(HISTORY.slice(0, 20))
        expect(await fx.db.knex.schema.hasTable('midway')).to.equal(partial)
        expect(await stateOf(fx, failing)).to.equal(partial ? 'partial' : 'failed')
        if (partial) expect(report.next).to.contain(`gantry migrate resolve ${failing} --applied`)
      })
    } else {
      it('--atomic is refused before anything runs (exit 2, the reason named): the database stays empty', async () => {
        const fx = f as MigratorFixture
        copyMigrationHistory(fx.dir)
        for (const run of [() => fx.migrator({ transaction: 'batch' }).latest(), () => fx.migrator({ transaction: 'batch' }).rollback({ all: true })]) {
          const err = await rejection(run())
          expect(err.code).to.equal('INVALID_INPUT')
          expect((err as Rejection & { exit?: number }).exit).to.equal(2)
          expect(err.message).to.equal('MySQL/MariaDB commits each DDL statement implicitly, so a batch of migrations cannot run as one transaction there.')
          expect(err.details).to.deep.include({ reason: 'batch-unsupported' })
        }
        expect(await schemaOf(fx.db)).to.deep.equal({})
      })
    }

    if (transactional) {
      it(`--atomic applies the whole history (${MIGRATION_HISTORY_COUNT} migrations) in one transaction`, async () => {
        const fx = f as MigratorFixture
        copyMigrationHistory(fx.dir)
        const result = await fx.migrator({ transaction: 'batch' }).latest()
        expect(appNames(result.applied)).to.deep.equal(HISTORY)
        expect(await tracked(fx)).to.deep.equal(HISTORY.map((name) => ({ name, batch: 1 })))
        // The history's last migration creates a view over what the others built.
        expect(await fx.db.knex('active_projects').pluck('slug')).to.have.members(['launch-plan', 'launch-plan'])
      })
    }
  })
}
