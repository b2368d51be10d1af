/**
 * `db backup --tables gantry|app` (issue 23) on SQLite, MariaDB and PostgreSQL: a backup of Gantry's own
 * tables (`gantry_*`) or of the app's (every other) holds those tables only, counts only them, and a restore
 * of it replaces only them — the other set keeps what it has now. An app-only backup restored into another
 * environment scrubs nothing: it brings no credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { backupContext } from '../../../src/backup-context.js'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { GantryError } from '../../../src/core/errors.js'
import { planRestore, restoreBackup, takeBackup, type BackupContext } from '../../../src/db/backups.js'
import type { Database } from '../../../src/db/connect.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { STRONG } from '../../helpers/identity-fixture.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'

async function count(k: Knex, table: string): Promise<number> {
  const [row] = (await k(table).count({ n: '*' })) as Array<{ n: number | string }>
  return Number(row?.n ?? 0)
}

for (const dialect of DIALECTS) {
  describe(`backups of one set of tables on ${dialect} (--tables gantry|app)`, function () {
    this.timeout(60_000)
    let root: string
    let testDbs: TestDatabase[] = []
    let runtimes: Runtime[] = []
    let db: Database
    let context: BackupContext
    let stagingContext: BackupContext

    before(async function () {
      await requireDialect(this, dialect)
      root = mkdtempSync(join(tmpdir(), 'gantry-backup-sets-'))
      testDbs = [await createTestDatabase(dialect), await createTestDatabase(dialect)]
      writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
      writeFileSync(
        join(root, 'gantry.config.json'),
        JSON.stringify({ environments: { production: { database: testDbs[0]!.url }, staging: { database: testDbs[1]!.url } } }),
      )
      const workspace = loadWorkspace({ cwd: root })
      const open = async (name: string): Promise<{ runtime: Runtime; context: BackupContext; db: Database }> => {
        const runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, name, {}) })
        runtimes.push(runtime)
        const opened = await runtime.database()
        await createMigrator({ db: opened, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName, actor: 'test' }).latest()
        // An app table of the app's own, outside any migration.
        await opened.knex.schema.createTable('widgets', (t) => {
          t.increments('id')
          t.string('name', 100).notNullable()
        })
        return { runtime, context: await backupContext(runtime), db: opened }
      }
      const production = await open('production')
      ;({ db, context } = production)
      stagingContext = (await open('staging')).context
      const services = await production.runtime.services()
      for (let i = 0; i < 5; i++) await services.users.create(context.ctx, { email: `u${i}@example.com`, role: 'viewer', password: STRONG })
      await services.apikeys.create(context.ctx, { name: 'ci', owner: 'u0@example.com' })
      await db.knex('widgets').insert([{ name: 'gear' }, { name: 'cog' }])
    })

    after(async () => {
      for (const runtime of runtimes) await runtime.close()
      for (const testDb of testDbs) await testDb.drop()
      runtimes = []
      if (root) rmSync(root, { recursive: true, force: true })
    })

    it("--tables gantry holds and counts Gantry's tables only; restoring it leaves the app's tables as they are now", async () => {
      const backup = await takeBackup(context, { tables: 'gantry' })
      const tables = Object.keys(backup.manifest.rowCounts)
      expect(backup.manifest.tables).to.equal('gantry')
      expect(tables).to.include.members(['gantry_users', 'gantry_api_keys', 'gantry_migrations'])
      expect(tables.every((t) => t.startsWith('gantry_'))).to.equal(true, tables.join(', '))
      expect(backup.manifest.rowCounts.gantry_users).to.equal(await count(db.knex, 'gantry_users'))

      const services = await runtimes[0]!.services()
      await services.users.create(context.ctx, { email: 'after@example.com', role: 'viewer', password: STRONG })
      await db.knex('widgets').insert({ name: 'sprocket' })
      const result = await restoreBackup(context, await planRestore(context, backup.file, { keepCredentials: false }), { dryRun: false })
      expect(result.rowCounts.every((r) => r.expected === r.actual)).to.equal(true, JSON.stringify(result.rowCounts))
      expect(await db.knex('gantry_users').where({ email: 'after@example.com' }).first()).to.equal(undefined)
      expect((await db.knex('widgets').orderBy('id').pluck('name')) as string[]).to.deep.equal(['gear', 'cog', 'sprocket'])
    })

    it("--tables app holds the app's tables (and knex's tracking) only; restoring it leaves Gantry's tables as they are now", async () => {
      const backup = await takeBackup(context, { tables: 'app' })
      const tables = Object.keys(backup.manifest.rowCounts)
      expect(backup.manifest.tables).to.equal('app')
      expect(tables).to.include.members(['widgets', 'knex_migrations'])
      expect(tables.some((t) => t.startsWith('gantry_'))).to.equal(false, tables.join(', '))
      expect(backup.manifest.rowCounts.widgets).to.equal(3)

      const services = await runtimes[0]!.services()
      await services.users.create(context.ctx, { email: 'kept@example.com', role: 'viewer', password: STRONG })
      await db.knex('widgets').del()
      await restoreBackup(context, await planRestore(context, backup.file, { keepCredentials: false }), { dryRun: false })
      expect((await db.knex('widgets').orderBy('id').pluck('name')) as string[]).to.deep.equal(['gear', 'cog', 'sprocket'])
      expect(await db.knex('gantry_users').where({ email: 'kept@example.com' }).first()).to.not.equal(undefined)

      // Into another environment: the app's rows travel, and the target's credentials are not touched.
      const staging = stagingContext.db.knex
      const keysBefore = await count(staging, 'gantry_api_keys')
      const plan = await planRestore(stagingContext, backup.file, { keepCredentials: false })
      expect(plan.scrub).to.equal(false)
      const restored = await restoreBackup(stagingContext, plan, { dryRun: false })
      expect(restored.scrubbed).to.equal(null)
      expect(await count(staging, 'widgets')).to.equal(3)
      expect(await count(staging, 'gantry_api_keys')).to.equal(keysBefore)
    })

    it("--tables gantry of a database without Gantry's tables is refused, naming what to do", async () => {
      const bare = await createTestDatabase(dialect)
      testDbs.push(bare)
      writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { production: { database: bare.url } } }))
      const workspace = loadWorkspace({ cwd: root })
      const runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'production', {}) })
      runtimes.push(runtime)
      const bareDb = await runtime.database()
      await bareDb.knex.schema.createTable('widgets', (t) => t.increments('id'))
      const err = await takeBackup({ ...context, db: bareDb, tool: undefined }, { tables: 'gantry' }).then(
        () => expect.fail('expected a refusal'),
        (e: unknown) => e,
      )
      expect(err).to.be.instanceOf(GantryError)
      expect((err as GantryError).code).to.equal('INVALID_INPUT')
      expect((err as GantryError).message)
        .to.include('no Gantry tables')
        .and.include('gantry migrate latest')
    })
  })
}
