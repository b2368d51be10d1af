/**
 * The erasure ledger against backups (issue 23), on SQLite, MariaDB and PostgreSQL: a backup taken while a
 * person was still there, then `users delete --erase`, then that backup restored — the restore brings their
 * row and their audit entries back, and re-applies the ledger read before it: the person is gone again, under
 * the same pseudonym, with no trace of their email or name in any cell, and the ledger row is back.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { backupContext } from '../../../src/backup-context.js'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { GantryError } from '../../../src/core/errors.js'
import { planRestore, restoreBackup, takeBackup, type BackupContext } from '../../../src/db/backups.js'
import type { Database } from '../../../src/db/connect.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import type { Services } from '../../../src/core/services.js'
import { STRONG } from '../../helpers/identity-fixture.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'
import { everyCell, sightings } from '../../helpers/cell-search.js'

const EMAIL = 'grace.erased@example.com'
const NAME = 'Grace Quintessa Hopper'

for (const dialect of DIALECTS) {
  describe(`erasures survive a restore on ${dialect}`, function () {
    this.timeout(60_000)
    let root: string
    let testDb: TestDatabase
    let runtime: Runtime
    let db: Database
    let services: Services
    let context: BackupContext

    before(async function () {
      await requireDialect(this, dialect)
      root = mkdtempSync(join(tmpdir(), 'gantry-erasure-restore-'))
      testDb = await createTestDatabase(dialect)
      writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
      writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { staging: { database: testDb.url } } }))
      writeFileSync(join(root, '.env.staging'), `GANTRY_AUTH_SECRET=${randomBytes(36).toString('base64url')}\n`)
      const workspace = loadWorkspace({ cwd: root })
      runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'staging', {}) })
      db = await runtime.database()
      await createMigrator({ db, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName, actor: 'test' }).latest()
      services = await runtime.services()
      context = await backupContext(runtime)
    })
    after(async () => {
      await runtime?.close()
      await testDb?.drop()
      if (root) rmSync(root, { recursive: true, force: true })
    })

    it('a restore of a backup taken before the erasure erases the person again, and keeps the ledger', async () => {
      const ctx = context.ctx
      await services.users.create(ctx, { email: 'keeper@example.com', role: 'admin', password: STRONG })
      await services.users.create(ctx, { email: EMAIL, name: NAME, role: 'operator', password: STRONG })
      await services.apikeys.create(ctx, { name: 'ci', owner: EMAIL })
      await services.users.update(ctx, EMAIL, { name: NAME })
      const backup = await takeBackup(context, { output: join(root, 'before-erasure.gantry-backup') })

      const { erased } = await services.users.delete(ctx, EMAIL, { erase: true })
      if (!erased) throw new Error('no erasure in the answer')
      expect(sightings(await everyCell(db.knex, dialect), [EMAIL, NAME])).to.deep.equal([])

      const plan = await planRestore(context, backup.file, { keepCredentials: false })
      const result = await restoreBackup(context, plan, { dryRun: false })
      expect(result.erasuresReapplied).to.equal(1)
      // The restore compared its row counts before the ledger was re-applied: they matched the manifest.
      expect(result.rowCounts.filter((r) => r.actual !== r.expected)).to.deep.equal([])

      const cells = await everyCell(db.knex, dialect)
      expect(sightings(cells, [EMAIL, NAME])).to.deep.equal([])
      expect(cells.some((c) => c.includes(erased.pseudonym))).to.equal(true)
      expect((await services.users.list(ctx)).data.map((u) => u.email)).to.deep.equal(['keeper@example.com'])
      const ledger = (await db.knex('gantry_erasures').select('pseudonym')) as Array<{ pseudonym: string }>
      expect(ledger.map((r) => r.pseudonym)).to.deep.equal([erased.pseudonym])
      const restore = (await db.knex('gantry_audit_log').where({ action: 'db.restore' }).orderBy('id', 'desc').first()) as { after: string }
      expect(JSON.parse(restore.after)).to.include({ erasuresReapplied: 1 })

      // Restored once more, the ledger now in the target: nothing left to erase, nothing comes back.
      const again = await restoreBackup(context, await planRestore(context, backup.file, { keepCredentials: false }), { dryRun: false })
      expect(again.erasuresReapplied).to.equal(1)
      expect(sightings(await everyCell(db.knex, dialect), [EMAIL, NAME])).to.deep.equal([])
    })

    it('a user who cannot be erased again (an app row references them): RESTORE_INCOMPLETE, the ledger kept, the restore audited', async () => {
      const ctx = context.ctx
      const email = 'held@example.com'
      await services.users.create(ctx, { email, role: 'viewer', password: STRONG })
      const { id } = (await db.knex('gantry_users').where({ email }).first('id')) as { id: number }
      await db.knex.schema.createTable('orders', (t) => {
        t.increments('id')
        t.integer('user_id').unsigned().notNullable().references('id').inTable('gantry_users')
      })
      await db.knex('orders').insert({ user_id: id })
      const backup = await takeBackup(context, { output: join(root, 'with-order.gantry-backup') })
      await db.knex('orders').del()
      const { erased } = await services.users.delete(ctx, email, { erase: true })

      const err = await restoreBackup(context, await planRestore(context, backup.file, { keepCredentials: false }), { dryRun: false }).then(
        () => expect.fail('expected RESTORE_INCOMPLETE'),
        (e: unknown) => e as GantryError,
      )
      expect(err).to.be.instanceOf(GantryError)
      expect(err.code).to.equal('RESTORE_INCOMPLETE')
      expect(err.message).to.include('could not be erased again')
      // The ledger is whole in the database (a second restore reads it from there), and the restore is on record.
      const ledger = (await db.knex('gantry_erasures').pluck('pseudonym')) as string[]
      expect(ledger).to.include(erased!.pseudonym)
      const restore = (await db.knex('gantry_audit_log').where({ action: 'db.restore' }).orderBy('id', 'desc').first()) as { after: string }
      expect(JSON.parse(restore.after)).to.include({ erasuresReapplied: null })
      expect(JSON.parse(restore.after).erasuresFailed).to.be.greaterThan(0)

      // The cause fixed (the app's row gone), the user is erased again as the hint says, under the same pseudonym.
      await db.knex('orders').del()
      const again = await services.users.delete(ctx, email, { erase: true })
      expect(again.erased?.pseudonym).to.equal(erased!.pseudonym)
      expect((await db.knex('gantry_erasures').pluck('pseudonym')) as string[]).to.deep.equal(ledger)
      expect(sightings(await everyCell(db.knex, dialect), [email])).to.deep.equal([])
      await db.knex.schema.dropTable('orders')
    })
  })
}
