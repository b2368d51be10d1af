import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import { GantryError } from '../../src/core/errors.js'
import { describeMissingSchema } from '../../src/db/errors.js'
import { openRuntime, type Runtime } from '../../src/runtime.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../helpers/services.js'

/** What an operation failed with (it must fail). */
async function failure(operation: Promise<unknown>): Promise<unknown> {
  return operation.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => err,
  )
}

for (const dialect of DIALECTS) {
  describe(`a database without Gantry's tables (${dialect}): each driver's "no such table" is GANTRY_SCHEMA_MISSING`, function () {
    this.timeout(30_000)
    let database: TestDatabase
    let root: string
    let runtime: Runtime
    before(async function () {
      await requireDialect(this, dialect)
      database = await createTestDatabase(dialect)
      root = mkdtempSync(join(tmpdir(), 'gantry-schema-'))
      writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { qa: { database: database.url } } }))
      const workspace = loadWorkspace({ cwd: root })
      runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'qa', { GANTRY_AUTH_SECRET: 'x'.repeat(48) }) })
    })
    after(async () => {
      await runtime?.close()
      await database?.drop()
      if (root) rmSync(root, { recursive: true, force: true })
    })

    it('the local AdminApi: users, API keys and roles fail with exit 3 and the command that creates the tables', async () => {
      const admin = await runtime.admin()
      for (const operation of [admin.call('users.list', {}), admin.call('apikeys.list', {}), admin.call('roles.get', { name: 'admin' })]) {
        const err = await failure(operation)
        expect(err).to.be.instanceOf(GantryError)
        const e = err as GantryError
        expect(e.code, e.message).to.equal('GANTRY_SCHEMA_MISSING')
        expect(e.exit).to.equal(3)
        expect(e.status).to.equal(503)
        expect(e.message).to.match(/^The database of environment "qa" has no table gantry_\w+: Gantry's migrations have not run there\.$/)
        expect(e.hint).to.equal("Run `gantry migrate latest -e qa` to create Gantry's tables.")
        expect(e.cause, 'the driver error, for --verbose').to.have.property('message')
      }
    })

    it('what already reads a missing table as "nothing stored" still does (maintenance status, rate-limit rules)', async () => {
      const admin = await runtime.admin()
      expect((await admin.call('maintenance.status')).enabled).to.equal(false)
      expect(await admin.call('ratelimits.list')).to.be.an('object')
    })

    it("an app's own missing table is not Gantry's: left as it is", async () => {
      const { knex } = await runtime.database()
      const err = await failure(knex('widgets').select())
      expect(describeMissingSchema(err, 'qa')).to.equal(undefined)
      const ours = await failure(knex('gantry_users').select())
      expect(describeMissingSchema(ours, 'qa')?.details).to.deep.equal({ table: 'gantry_users' })
    })
  })
}
