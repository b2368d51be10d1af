import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import { packageRoot, runsBuilt } from '../../package-root.js'
import { fileChecksum } from './checksum.js'
import type { MigrationSet } from './types.js'

/** File extensions a migration or seed may have (a .d.ts next to built files is never one). */
const EXTENSIONS = ['.js', '.cjs', '.mjs', '.ts'] as const

/** One migration file on disk. */
export interface MigrationFile {
  readonly set: MigrationSet
  /** The name without extension: how names are compared (`x.ts` in development is `x.js` once built). */
  readonly name: string
  /** The file name with its extension. */
  readonly fileName: string
  readonly path: string
  readonly checksum: string
}

/** The two functions of a loaded migration, and whether it runs inside a transaction. */
export interface MigrationModule {
  up(knex: Knex): Promise<unknown>
  down(knex: Knex): Promise<unknown>
  /** False when the file opts out the knex way, `export const config = { transaction: false }`. */
  readonly transactional: boolean
}

/** A name with its migration extension taken off, if it has one. */
export function bareName(name: string): string {
  const ext = EXTENSIONS.find((e) => name.endsWith(e))
  return ext ? name.slice(0, -ext.length) : name
}

/** The script files of a folder (.js .cjs .mjs .ts, no .d.ts), sorted by name; none when it does not exist. */
export function listScripts(directory: string): string[] {
  if (!existsSync(directory)) return []
  return readdirSync(directory, { withFileTypes: true })
    .filter((e) => e.isFile() && EXTENSIONS.some((ext) => e.name.endsWith(ext)) && !/\.d\.[cm]?ts$/.test(e.name))
    .map((e) => e.name)
    .sort()
}

/** The migration files of one set, in the order they apply. */
export function listMigrations(set: MigrationSet, directory: string): MigrationFile[] {
  return listScripts(directory).map((fileName) => {
    const path = join(directory, fileName)
    return { set, name: bareName(fileName), fileName, path, checksum: fileChecksum(path) }
  })
}

/** Gantry's own migrations: migrations/*.ts in development, dist/migrations/*.js once built (never the cwd). */
export function gantryMigrationsDirectory(): string {
  return runsBuilt() ? join(packageRoot(), 'dist', 'migrations') : join(packageRoot(), 'migrations')
}

let tsRegistered: Promise<void> | undefined

/** Lets import() load TypeScript from ESM and CommonJS workspaces alike (TOOLCHAIN §7: both hooks are needed). */
function registerTypeScript(): Promise<void> {
  tsRegistered ??= (async () => {
    const esm = await import('tsx/esm/api')
    esm.register()
    const cjs = await import('tsx/cjs/api')
    cjs.register()
  })()
  return tsRegistered
}

/**
 * Imports a script file (registering TypeScript support first when it is a .ts, .mts or .cts file).
 * `version` (its checksum) goes into the URL so a file edited during a long-lived process is loaded again.
 */
export async function importScript(path: string, version?: string): Promise<Record<string, unknown>> {
  if (/\.[cm]?ts$/.test(path)) await registerTypeScript()
  const url = pathToFileURL(path)
  if (version) url.search = `v=${version.slice(0, 16)}`
  return (await import(url.href)) as Record<string, unknown>
}

/** Loads a migration's up/down and its knex `config` from named exports or a default export. */
export async function loadMigration(file: MigrationFile): Promise<MigrationModule> {
  const mod = await importScript(file.path, file.checksum)
  const fallback = (mod.default ?? {}) as Record<string, unknown>
  const up = mod.up ?? fallback.up
  const down = mod.down ?? fallback.down
  if (typeof up !== 'function' || typeof down !== 'function') {
    throw new GantryError('MIGRATION_INVALID', `Migration ${file.fileName} does not export functions up and down.`)
  }
  const config = (mod.config ?? fallback.config) as { transaction?: unknown } | undefined
  return { up: up as MigrationModule['up'], down: down as MigrationModule['down'], transactional: config?.transaction !== false }
}
