import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson } from '../helpers/cli.js'
import { migrateWorkspace, type MigrateWorkspace } from '../helpers/migrate-workspace.js'
import { createTestDatabase, type TestDatabase } from '../helpers/services.js'

/** Names a knex setup module in the workspace's config, and writes it when given its source. */
function useModule(ws: MigrateWorkspace, db: TestDatabase, fileName: string, source?: string): void {
  if (source !== undefined) writeFileSync(join(ws.root, fileName), source)
  writeFileSync(join(ws.root, 'gantry.config.json'), JSON.stringify({ knex: `./${fileName}`, environments: { development: { database: db.url } } }))
}

describe('the knex setup module (built CLI, SQLite)', function () {
  let db: TestDatabase
  let ws: MigrateWorkspace
  beforeEach(async () => {
    db = await createTestDatabase('sqlite')
    ws = migrateWorkspace(db.url)
  })
  afterEach(async () => {
    ws.cleanup()
    await db.drop()
  })

  it('a TypeScript module runs on the connection a migration uses', async () => {
    useModule(
      ws,
      db,
      'gantry.knex.ts',
      `import type { Knex } from 'knex'
export function setup(config: Knex.Config): Knex.Config {
  return { ...config, pool: { ...config.pool, afterCreate: (conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
    conn.pragma('cache_size = -8000')
    done(null, conn)
  } } }
}
`,
    )
    ws.addMigration(
      '001_seen',
      `export async function up(knex) {
  const [row] = await knex.raw('PRAGMA cache_size')
  await knex.schema.createTable('seen', (t) => { t.integer('cache_size') })
  await knex('seen').insert(row)
}
export async function down(knex) { await knex.schema.dropTable('seen') }
`,
    )
    const latest = await ws.gantry(['migrate', 'latest'])
    expect(latest.code, latest.stderr).to.equal(0)
    expect(await ws.query((k) => k('seen').pluck('cache_size'))).to.deep.equal([-8000])
  })

  for (const [label, fileName, source, message] of [
    [
      'a missing module',
      'gantry.knex.js',
      undefined,
      /^Error \(CONFIG_INVALID\): The knex setup module \.\/gantry\.knex\.js does not exist \(.*gantry\.knex\.js\)\.$/m,
    ],
    [
      'a module that throws',
      'gantry.knex.mjs',
      "throw new Error('no charset configured')",
      /^Error \(CONFIG_INVALID\): The knex setup module \.\/gantry\.knex\.mjs failed: no charset configured\.$/m,
    ],
  ] as const) {
    it(`${label}: exit 2, one line naming it and how to fix it, no stack`, async () => {
      useModule(ws, db, fileName, source)
      const result = await ws.gantry(['migrate', 'status'])
      expect(result.code, result.stderr).to.equal(2)
      expect(result.stderr).to.match(message)
      expect(result.stderr).to.match(/"knex" key/)
      expect(result.stderr).not.to.match(/^\s+at /m)
      const json = await ws.gantry(['migrate', 'latest', '--json'])
      expect(json.code).to.equal(2)
      expect(parseJson<{ error: { code: string } }>(json).error.code).to.equal('CONFIG_INVALID')
    })
  }
})
