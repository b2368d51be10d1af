/**
 * The migration history fixture (test/fixtures/migration-history): a realistic app history of CommonJS knex
 * migrations that runs on SQLite, MySQL/MariaDB and PostgreSQL, where later migrations alter, rename,
 * backfill and move what earlier ones created. Tests and the migrate-history benchmark copy it into a
 * workspace's migrations folder of their own.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The fixture folder (its package.json says "commonjs", so Gantry and the knex CLI load the same files). */
export const MIGRATION_HISTORY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'migration-history')

/** The migration files, in the order they apply. */
export const MIGRATION_HISTORY_FILES: readonly string[] = readdirSync(MIGRATION_HISTORY_DIR)
  .filter((f) => f.endsWith('.js'))
  .sort()

/** How many migrations the history holds. */
export const MIGRATION_HISTORY_COUNT = MIGRATION_HISTORY_FILES.length

/** Copies the history's package.json and its first `count` migrations (all by default) into `directory`, created if missing; returns it. */
export function copyMigrationHistory(directory: string, count = MIGRATION_HISTORY_COUNT): string {
  mkdirSync(directory, { recursive: true })
  for (const file of ['package.json', ...MIGRATION_HISTORY_FILES.slice(0, count)]) copyFileSync(join(MIGRATION_HISTORY_DIR, file), join(directory, file))
  return directory
}

/**
 * Writes a CommonJS migration into `directory` whose name sorts right after the history's `after`-th file
 * (`20240106000003z_<label>.js` after `20240106000003_…`); returns its name without the extension.
 */
export function insertMigration(directory: string, after: number, label: string, source: string): string {
  const previous = MIGRATION_HISTORY_FILES[after - 1]
  if (!previous) throw new Error(`the history has no migration number ${after}`)
  const name = `${previous.slice(0, 14)}z_${label}`
  writeFileSync(join(directory, `${name}.js`), source)
  return name
}
