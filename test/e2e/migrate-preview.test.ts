/**
 * `gantry migrate latest --dry-run` through the built CLI on the migration history fixture: where it ran and
 * each migration's SQL in order, Gantry's own only with --all, the same as --json; a migration that cannot
 * be previewed exits 1 (MIGRATION_FAILED) after the rest was printed; a configured shadow database with a
 * ${VAR} in its URL.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseDatabaseUrl } from '../../src/db/url.js'
import { parseJson } from '../helpers/cli.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import { migrateWorkspace, type MigrateWorkspace } from '../helpers/migrate-workspace.js'
import { copyMigrationHistory, MIGRATION_HISTORY_COUNT, MIGRATION_HISTORY_FILES } from '../helpers/migration-history.js'
import { createTestDatabase, requireDialect, type TestDatabase } from '../helpers/services.js'

const HISTORY = MIGRATION_HISTORY_FILES.map((f) => f.replace(/\.js$/, ''))

interface PreviewJson {
  preview: { mode: string; on: string; reason?: string }
  dryRun: Array<{ set: string; name: string; statements: string[]; error?: string }>
}

/** The migrations a human preview lists, as `set/name`, in the order printed. */
const listed = (stdout: string): string[] => [...stdout.matchAll(/^-- (gantry|app)\/(\S+) \(up\)/gm)].map((m) => `${m[1]}/${m[2]}`)

describe('gantry migrate latest --dry-run (built CLI)', function () {
  this.timeout(120_000)
  const made: Array<{ ws: MigrateWorkspace; db: TestDatabase }> = []
  const workspace = async (dialect: 'sqlite' | 'postgres'): Promise<MigrateWorkspace> => {
    const db = await createTestDatabase(dialect)
    const ws = migrateWorkspace(db.url)
    made.push({ ws, db })
    copyMigrationHistory(ws.migrations)
    return ws
  }
  afterEach(async () => {
    for (const { ws, db } of made.splice(0)) {
      ws.cleanup()
      await db.drop()
    }
  })

  it("on SQLite: where it ran, then every migration of the history with its SQL in order; --all adds Gantry's own; --json says the same", async () => {
    const ws = await workspace('sqlite')
    const human = await ws.gantry(['migrate', 'latest', '--dry-run'])
    expect(human.code, human.stderr).to.equal(0)
    const [first] = human.stdout.split('\n')
    expect(first).to.match(/^-- Ran on a copy of the database \(sqlite:\/.+\), deleted afterwards: each migration's SQL, in the order it would run\.$/)
    expect(listed(human.stdout)).to.deep.equal(HISTORY.map((n) => `app/${n}`))
    expect(human.stdout).to.match(/-- app\/20240101000001_create_accounts \(up\)\ncreate table `accounts`/)
    expect(human.stdout).to.match(/create view active_projects/)
    expect(human.stdout).to.not.contain('could not be previewed')

    const all = await ws.gantry(['migrate', 'latest', '--dry-run', '--all'])
    expect(all.code, all.stderr).to.equal(0)
    expect(listed(all.stdout)).to.deep.equal([...GANTRY_MIGRATIONS.map((n) => `gantry/${n}`), ...HISTORY.map((n) => `app/${n}`)])

    const json = await ws.gantry(['migrate', 'latest', '--dry-run', '--json'])
    expect(json.code, json.stderr).to.equal(0)
    const result = parseJson<PreviewJson & { applied: unknown[] }>(json)
    expect(result.preview.mode).to.equal('copy')
    expect(result.applied).to.deep.equal([])
    expect(result.dryRun.map((p) => p.name)).to.deep.equal(HISTORY)
    expect(result.dryRun.every((p) => p.statements.length > 0 && p.error === undefined)).to.equal(true)

    const alone = await ws.gantry(['migrate', 'latest', '--all'])
    expect(alone.code).to.equal(2)
    expect(alone.stderr).to.contain('--dry-run')
    expect(await ws.query((k) => k.schema.hasTable('accounts'))).to.equal(false)
    expect(await ws.query((k) => k.schema.hasTable('gantry_migrations'))).to.equal(false)
  })

  it('a migration that fails in the preview: the others are printed, then exit 1 with MIGRATION_FAILED; --json keeps them in the error details', async () => {
    const ws = await workspace('sqlite')
    // The history's folder is CommonJS (its package.json says so).
    ws.addMigration('20250101000000_broken', "exports.up = (knex) => knex.raw('alter table no_such_table add x int')\nexports.down = async () => {}\n")
    const human = await ws.gantry(['migrate', 'latest', '--dry-run'])
    expect(human.code).to.equal(1)
    expect(listed(human.stdout)).to.have.length(MIGRATION_HISTORY_COUNT + 1)
    expect(human.stdout).to.match(/-- app\/20250101000000_broken \(up\)\n-- could not be previewed: .*no_such_table/)
    expect(human.stderr).to.contain(
      `Error (MIGRATION_FAILED): 1 of ${MIGRATION_HISTORY_COUNT + 1} migrations could not be previewed: app/20250101000000_broken.`,
    )

    const json = await ws.gantry(['migrate', 'latest', '--dry-run', '--json'])
    expect(json.code).to.equal(1)
    const { error } = parseJson<{ error: { code: string; details: PreviewJson } }>(json)
    expect(error.code).to.equal('MIGRATION_FAILED')
    expect(error.details.preview.mode).to.equal('copy')
    expect(error.details.dryRun.filter((p) => p.error === undefined)).to.have.length(MIGRATION_HISTORY_COUNT)
  })

  it('on PostgreSQL, uses migrations.shadowDatabase from the config, its ${VAR} resolved from the environment', async function () {
    await requireDialect(this, 'postgres')
    const ws = await workspace('postgres')
    const shadow = await createTestDatabase('postgres')
    try {
      const configPath = join(ws.root, 'gantry.config.json')
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>
      writeFileSync(configPath, JSON.stringify({ ...config, migrations: { shadowDatabase: '${SHADOW_DATABASE_URL}' } }))
      const on = parseDatabaseUrl(shadow.url, ws.root).display
      const human = await ws.gantry(['migrate', 'latest', '--dry-run'], { SHADOW_DATABASE_URL: shadow.url })
      expect(human.code, human.stderr).to.equal(0)
      expect(human.stdout.split('\n')[0]).to.equal(
        `-- Ran on the shadow database ${on} (the target's schema, none of its rows): each migration's SQL, in the order it would run.`,
      )
      expect(listed(human.stdout)).to.deep.equal(HISTORY.map((n) => `app/${n}`))
      const json = parseJson<PreviewJson>(await ws.gantry(['migrate', 'latest', '--dry-run', '--json'], { SHADOW_DATABASE_URL: shadow.url }))
      expect(json.preview).to.deep.equal({ mode: 'shadow', on })
      const unset = await ws.gantry(['migrate', 'latest', '--dry-run', '--json'])
      expect(unset.code).to.equal(2)
      expect(parseJson<{ error: { code: string } }>(unset).error.code).to.equal('CONFIG_VAR_UNSET')
    } finally {
      await shadow.drop()
    }
  })
})
