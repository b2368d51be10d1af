/**
 * The migration history fixture (test/fixtures/migration-history): a realistic app history of CommonJS knex
 * migrations that runs on SQLite, MySQL/MariaDB and PostgreSQL, where later migrations alter, rename,
 * backfill and move what earlier ones created. Tests and the migrate-history benchmark copy it into a
 * workspace's migrations folder of their own.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The fixture folder (its package.json says "commonjs", so Gantry and the knex CLI load the same files). */
export const MIGRATION_HISTORY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'migration-history')

/** The migration files, in the order they apply. */
export const MIGRATION_HISTORY_FILES: readonly string[] = readdirSync(MIGRATION_HISTORY_DIR)
  .filter((f) => f.endsWith('.js'))
  .sort()

/** How many migrations the history holds. */
export const MIGRATION_HISTORY_COUNT = MIGRATION_HISTORY_FILES.length

/** Copies the history (migrations and its package.json) into `directory`, created if missing; returns it. */
export function copyMigrationHistory(directory: string): string {
  mkdirSync(directory, { recursive: true })
  cpSync(MIGRATION_HISTORY_DIR, directory, { recursive: true })
  return directory
}
