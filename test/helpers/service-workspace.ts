import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { openDatabase, type Database } from '../../src/db/connect.js'
import { createMigrator, type Migrator, type MigratorOptions } from '../../src/db/migrator/index.js'
import type { Dialect } from '../../src/db/url.js'
import { createTestDatabase, type TestDatabase } from './services.js'

/** A temporary ESM workspace with a migrations folder, and a migrator on a fresh database. */
export interface MigratorFixture {
  readonly root: string
  readonly dir: string
  readonly db: Database
  readonly testDb: TestDatabase
  migrator(options?: Partial<MigratorOptions>): Migrator
  write(fileName: string, up: string, down?: string): string
  cleanup(): Promise<void>
}

/** A fresh database and workspace for one test. */
export async function migratorFixture(dialect: Dialect): Promise<MigratorFixture> {
  const testDb = await createTestDatabase(dialect)
  const root = mkdtempSync(join(tmpdir(), 'gantry-mig-'))
  const dir = join(root, 'migrations')
  mkdirSync(dir)
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  const db = await openDatabase(testDb.url, root)
  return {
    root,
    dir,
    db,
    testDb,
    migrator: (options = {}) => createMigrator({ db, appDirectory: dir, appTable: 'knex_migrations', actor: 'test', lockTimeoutSeconds: 5, ...options }),
    write(fileName, up, down = '') {
      const path = join(dir, fileName)
      writeFileSync(path, `export async function up(knex) {\n${up}\n}\nexport async function down(knex) {\n${down}\n}\n`)
      return path
    },
    async cleanup() {
      await db.close()
      await testDb.drop()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** Tables (without the knex/gantry bookkeeping ones) and their columns, for before/after comparisons. */
export async function schemaOf(db: Database): Promise<Record<string, string[]>> {
  const k: Knex = db.knex
  let tables: string[]
  if (db.dialect === 'sqlite') {
    const rows = (await k.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")) as Array<{ name: string }>
    tables = rows.map((r) => r.name)
  } else if (db.dialect === 'mysql') {
    const [rows] = (await k.raw('select table_name as name from information_schema.tables where table_schema = database()')) as [Array<{ name: string }>]
    tables = rows.map((r) => r.name)
  } else {
    const res = (await k.raw("select table_name as name from information_schema.tables where table_schema = 'public'")) as { rows: Array<{ name: string }> }
    tables = res.rows.map((r) => r.name)
  }
  const out: Record<string, string[]> = {}
  for (const table of tables.sort()) out[table] = Object.keys(await k(table).columnInfo()).sort()
  return out
}
