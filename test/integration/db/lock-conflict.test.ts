import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { GantryError } from '../../../src/core/errors.js'
import { openDatabase, type Database } from '../../../src/db/connect.js'
import { describeQueryFailure } from '../../../src/db/errors.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'

/** What an operation failed with (it must fail). */
async function failure(operation: Promise<unknown>): Promise<unknown> {
  return operation.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => err,
  )
}

/**
 * A write refused because another connection held a lock it needed is DB_BUSY (exit 3, 503): one line with
 * the same words on every driver (no statement, values or driver text), the driver's error on `cause`, and
 * nothing written.
 */
describe('a write that meets a lock held elsewhere is DB_BUSY', function () {
  this.timeout(30_000)

  describe('through the local AdminApi on SQLite (the write lock held past the 5 s busy wait)', () => {
    let database: TestDatabase
    let root: string
    let runtime: Runtime
    let holder: Database
    before(async () => {
      database = await createTestDatabase('sqlite')
      root = mkdtempSync(join(tmpdir(), 'gantry-busy-'))
      writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { qa: { database: database.url } } }))
      holder = await openDatabase(database.url, root)
      await createMigrator({ db: holder, appDirectory: root, appTable: 'knex_migrations', actor: 'test' }).latest()
      const workspace = loadWorkspace({ cwd: root })
      runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'qa', { GANTRY_AUTH_SECRET: 'x'.repeat(48) }) })
    })
    after(async () => {
      await runtime?.close()
      await holder?.close()
      await database?.drop()
      if (root) rmSync(root, { recursive: true, force: true })
    })

    it('users.create fails with DB_BUSY after the wait and creates nothing', async () => {
      const admin = await runtime.admin()
      await admin.call('users.list', {}) // opens Gantry's connection before the lock is taken
      const held = await holder.knex.transaction()
      try {
        await held('gantry_users').where({ email: 'nobody@example.com' }).delete() // a write: the lock is ours
        const err = await failure(admin.call('users.create', { email: 'busy@example.com', role: 'viewer', password: 'a long enough passphrase 1' }))
        expect(err).to.be.instanceOf(GantryError)
        const e = err as GantryError
        expect([e.code, e.exit, e.status], e.message).to.deep.equal(['DB_BUSY', 3, 503])
        expect(e.message).to.equal('The database was busy: another connection held a lock this change needed, and the change was not made.')
        expect(String((e.cause as Error).message), 'the driver error, for --verbose and the log').to.match(/locked|busy/i)
        expect(e.hint).to.be.a('string')
      } finally {
        await held.rollback()
      }
      expect((await admin.call('users.list', {})).data.map((u) => u.email)).not.to.include('busy@example.com')
    })
  })

  // MySQL and PostgreSQL wait far longer by default (50 s, forever); a session's own short lock timeout
  // produces each server's real refusal, which the describer must recognise.
  for (const dialect of DIALECTS.filter((d) => d !== 'sqlite')) {
    it(`${dialect}: a lock wait that times out is DB_BUSY without the statement`, async function () {
      await requireDialect(this, dialect)
      const database = await createTestDatabase(dialect)
      const root = mkdtempSync(join(tmpdir(), 'gantry-busy-'))
      const [holder, waiter] = [await openDatabase(database.url, root), await openDatabase(database.url, root)]
      let held: Knex.Transaction | undefined
      try {
        await holder.knex.schema.createTable('t', (t) => t.integer('n').primary())
        await holder.knex('t').insert({ n: 1 })
        held = await holder.knex.transaction()
        await held('t').where({ n: 1 }).update({ n: 1 })
        const err = await failure(
          waiter.knex.transaction(async (trx) => {
            await trx.raw(dialect === 'mysql' ? 'SET SESSION innodb_lock_wait_timeout = 1' : "SET LOCAL lock_timeout = '200ms'")
            await trx('t').where({ n: 1 }).update({ n: 2 })
          }),
        )
        const described = describeQueryFailure(err, 'qa')
        expect(described?.code, String(err)).to.equal('DB_BUSY')
        expect(described?.exit).to.equal(3)
      } finally {
        await held?.rollback()
        await Promise.all([holder.close(), waiter.close()])
        await database.drop()
        rmSync(root, { recursive: true, force: true })
      }
    })
  }
})
