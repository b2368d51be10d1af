import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { workspaceMigrator } from '../../../src/db/migrator/index.js'
import type { Dialect } from '../../../src/db/url.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { rejection } from '../../helpers/rejection.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'
import { AFTER_CREATE_MODULE, SESSION_HOOK } from '../../helpers/session-hook.js'

/** knex's MySQL column compiler: the class a project patches to keep TEXT defaults (knex drops them). */
const MYSQL_COLUMN_COMPILER = createRequire(import.meta.url).resolve('knex/lib/dialects/mysql/schema/mysql-columncompiler.js')

/** Keeps `DEFAULT` on TEXT columns (MariaDB ≥ 10.2 has them); patched once, however many knex instances are built. */
const KEEP_TEXT_DEFAULTS = `import { createRequire } from 'node:module'
const ColumnCompiler = createRequire(import.meta.url)(${JSON.stringify(MYSQL_COLUMN_COMPILER)})
export function afterConnect(knex, { dialect }) {
  if (dialect !== 'mysql' || ColumnCompiler.prototype.defaultTo.keepsText) return
  const dropsText = ColumnCompiler.prototype.defaultTo
  const generic = Object.getPrototypeOf(ColumnCompiler.prototype).defaultTo
  const defaultTo = function (value) {
    return this.type.includes('text') && value != null ? generic.call(this, value) : dropsText.call(this, value)
  }
  defaultTo.keepsText = true
  ColumnCompiler.prototype.defaultTo = defaultTo
}
`

/** The one value a probe query returns, whatever the driver's result shape. */
async function readSetting(k: Knex, dialect: Dialect): Promise<unknown> {
  const result = (await k.raw(SESSION_HOOK[dialect].read)) as unknown
  if (dialect === 'sqlite') return Object.values((result as Array<Record<string, unknown>>)[0] ?? {})[0]
  if (dialect === 'mysql') return (result as [Array<{ v: unknown }>])[0][0]?.v
  return (result as { rows: Array<{ v: unknown }> }).rows[0]?.v
}

interface Fixture {
  readonly root: string
  readonly runtime: Runtime
  cleanup(): Promise<void>
}

/** A workspace on a fresh database whose config names `module` (written as `fileName`) when given. */
async function workspaceWith(
  testDb: TestDatabase,
  module: string | undefined,
  migrations: Record<string, string>,
  fileName = 'gantry.knex.mjs',
): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), 'gantry-knexsetup-'))
  mkdirSync(join(root, 'migrations'))
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  for (const [name, source] of Object.entries(migrations)) writeFileSync(join(root, 'migrations', name), source)
  if (module !== undefined) writeFileSync(join(root, fileName), module)
  const config = { ...(module !== undefined ? { knex: `./${fileName}` } : {}), environments: { development: { database: testDb.url, redis: null } } }
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify(config))
  const workspace = loadWorkspace({ cwd: root })
  const runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'development', {}) })
  return {
    root,
    runtime,
    async cleanup() {
      await runtime.close()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

async function migrate(f: Fixture): Promise<void> {
  const db = await f.runtime.database()
  await workspaceMigrator(db, f.runtime.workspace.migrations, { actor: 'test', lockTimeoutSeconds: 5 }).latest()
}

describe('the workspace knex setup module', function () {
  this.timeout(60_000)

  describe('on MariaDB, an afterConnect patching the column compiler', () => {
    const compiler = createRequire(import.meta.url)(MYSQL_COLUMN_COMPILER) as { prototype: { defaultTo: unknown } }
    const original = compiler.prototype.defaultTo
    let testDb: TestDatabase | undefined
    beforeEach(async function () {
      await requireDialect(this, 'mysql')
      testDb = await createTestDatabase('mysql')
    })
    afterEach(async () => {
      // The patch is process-wide, as in a project's runtime: the next test starts with knex as shipped.
      compiler.prototype.defaultTo = original
      await testDb?.drop()
      testDb = undefined
    })

    const BIO = `export async function up(knex) {
  await knex.schema.createTable('people', (t) => { t.increments('id'); t.text('bio').defaultTo('none') })
}
export async function down(knex) { await knex.schema.dropTable('people') }
`
    const bioDefault = async (f: Fixture): Promise<unknown> => {
      const db = await f.runtime.database()
      const [rows] = (await db.knex.raw(
        "SELECT COLUMN_DEFAULT AS d FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'people' AND COLUMN_NAME = 'bio'",
      )) as [Array<{ d: unknown }>]
      return rows[0]?.d
    }

    for (const [label, module, expected] of [
      ['keeps the TEXT default a migration declares', KEEP_TEXT_DEFAULTS, "'none'"],
      ['without the module, knex drops it', undefined, 'NULL'],
    ] as const) {
      it(label, async () => {
        const f = await workspaceWith(testDb!, module, { '001_people.js': BIO })
        try {
          await migrate(f)
          expect(await bioDefault(f)).to.equal(expected)
        } finally {
          await f.cleanup()
        }
      })
    }
  })

  for (const dialect of DIALECTS) {
    describe(`on ${dialect}, an afterCreate`, () => {
      let testDb: TestDatabase | undefined
      beforeEach(async function () {
        await requireDialect(this, dialect)
        testDb = await createTestDatabase(dialect)
      })
      afterEach(async () => {
        await testDb?.drop()
        testDb = undefined
      })

      it("runs on the migration run's connections and the runtime's", async () => {
        const seen = `export async function up(knex) {
  const result = await knex.raw(${JSON.stringify(SESSION_HOOK[dialect].read)})
  const v = ${dialect === 'sqlite' ? 'Object.values(result[0])[0]' : dialect === 'mysql' ? 'result[0][0].v' : 'result.rows[0].v'}
  await knex.schema.createTable('seen', (t) => { t.string('v') })
  await knex('seen').insert({ v: String(v) })
}
export async function down(knex) { await knex.schema.dropTable('seen') }
`
        const f = await workspaceWith(testDb!, AFTER_CREATE_MODULE, { '001_seen.js': seen })
        try {
          await migrate(f)
          const db = await f.runtime.database()
          expect(await db.knex('seen').pluck('v')).to.deep.equal([String(SESSION_HOOK[dialect].value)])
          expect(String(await readSetting(db.knex, dialect))).to.equal(String(SESSION_HOOK[dialect].value))
        } finally {
          await f.cleanup()
        }
      })

      if (dialect === 'sqlite') {
        it("leaves Gantry's own pragmas in force", async () => {
          const f = await workspaceWith(testDb!, AFTER_CREATE_MODULE, {})
          try {
            const db = await f.runtime.database()
            const run = await db.derive()
            try {
              for (const k of [db.knex, run]) {
                expect(await k.raw('PRAGMA foreign_keys')).to.deep.equal([{ foreign_keys: 1 }])
                expect(await k.raw('PRAGMA journal_mode')).to.deep.equal([{ journal_mode: 'wal' }])
                expect(await k.raw('PRAGMA busy_timeout')).to.deep.equal([{ timeout: 5000 }])
              }
            } finally {
              await run.destroy()
            }
          } finally {
            await f.cleanup()
          }
        })
      }
    })
  }

  it('takes a CommonJS module whose exports object holds the functions', async () => {
    const testDb = await createTestDatabase('sqlite')
    // Built at run time, so Node cannot list its names: the functions arrive only on the default export.
    const cjs = `module.exports = Object.fromEntries([['setup', (config) => ({ ...config, pool: { ...config.pool, afterCreate(conn, done) {
  conn.pragma(${JSON.stringify(SESSION_HOOK.sqlite.set)})
  done(null, conn)
} } })]])
`
    const f = await workspaceWith(testDb, cjs, {}, 'gantry.knex.cjs')
    try {
      expect(await readSetting((await f.runtime.database()).knex, 'sqlite')).to.equal(Number(SESSION_HOOK.sqlite.value))
    } finally {
      await f.cleanup()
      await testDb.drop()
    }
  })

  describe('a module that cannot be used is a config error naming it', () => {
    let testDb: TestDatabase
    before(async () => {
      testDb = await createTestDatabase('sqlite')
    })
    after(() => testDb.drop())

    for (const [label, module, message] of [
      ['a module that throws on import', "throw new Error('no charset configured')", 'The knex setup module ./gantry.knex.mjs failed: no charset configured.'],
      ['a setup that throws', "export function setup() { throw new Error('bad pool') }", 'The knex setup module ./gantry.knex.mjs failed: bad pool.'],
      [
        'an afterConnect that throws',
        "export function afterConnect() { throw new Error('no plugin') }",
        'The knex setup module ./gantry.knex.mjs failed: no plugin.',
      ],
      [
        'an afterCreate that fails the connection',
        "export function setup(config) { config.pool = { ...config.pool, afterCreate(conn, done) { done(new Error('SET NAMES refused'), conn) } } }",
        'The knex setup module ./gantry.knex.mjs failed: SET NAMES refused.',
      ],
      [
        'an afterCreate that throws',
        "export function setup(config) { config.pool = { ...config.pool, afterCreate() { throw new Error('no such pragma') } } }",
        'The knex setup module ./gantry.knex.mjs failed: no such pragma.',
      ],
      [
        'a module without the functions',
        'export const pool = {}',
        'The knex setup module ./gantry.knex.mjs exports neither a setup function (named or default) nor afterConnect.',
      ],
    ] as const) {
      it(label, async () => {
        const f = await workspaceWith(testDb, module, {})
        try {
          const err = await rejection(f.runtime.database())
          expect(err.code).to.equal('CONFIG_INVALID')
          expect(err.message).to.equal(message)
        } finally {
          await f.cleanup()
        }
      })
    }
  })
})
