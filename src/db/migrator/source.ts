import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, relative } from 'node:path'
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

/**
 * The package that loads TypeScript. An optional peer of Gantry, not a dependency (with esbuild it is 3
 * packages, 12 MB, that only `.ts` migrations, seeds and knex setup modules need): `gantry init` adds it to
 * a TypeScript project's own dependencies.
 */
export const TYPESCRIPT_LOADER = 'tsx'

/**
 * The folder of the tsx that loads `file`: the one the file itself would import (its project's
 * node_modules, walking up), else one installed beside Gantry (a global install that has it, or this
 * repository's devDependency); undefined when neither has one.
 */
export function resolveTsx(file: string, fallbacks: readonly string[] = [join(packageRoot(), 'package.json')]): string | undefined {
  for (const from of [file, ...fallbacks]) {
    try {
      return dirname(createRequire(from).resolve(`${TYPESCRIPT_LOADER}/package.json`))
    } catch {
      // not installed where `from` looks: try the next place
    }
  }
  return undefined
}

type Exports = string | { readonly [condition: string]: Exports } | null | undefined

/** The ES module a package's `exports` gives for `import` (not its CommonJS twin). */
function importTarget(target: Exports): string | undefined {
  if (typeof target === 'string' || !target) return target ?? undefined
  for (const condition of ['import', 'node', 'default']) {
    const found = importTarget(target[condition])
    if (found) return found
  }
  return undefined
}

/** Imports subpath `sub` ('./esm/api') of the package in `dir` as its `import` condition resolves it. */
async function importFrom(dir: string, sub: string): Promise<{ register(): unknown }> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: Record<string, Exports> }
  const target = importTarget(manifest.exports?.[sub])
  if (!target) throw new Error(`${TYPESCRIPT_LOADER} in ${dir} has no ${sub} export`)
  return (await import(pathToFileURL(join(dir, target)).href)) as { register(): unknown }
}

/** Why a TypeScript file cannot load: tsx is installed neither in its project nor beside Gantry. */
export function typescriptLoaderMissing(file: string): GantryError {
  const shown = relative(process.cwd(), file)
  return new GantryError(
    'TSX_MISSING',
    `${shown.startsWith('..') || isAbsolute(shown) ? file : shown} is TypeScript: loading it needs the package ${TYPESCRIPT_LOADER}, which is installed neither in its project nor beside Gantry.`,
    {
      hint:
        `Run \`npm install ${TYPESCRIPT_LOADER}\` in the project (into dependencies, not devDependencies, where migrations run from an install ` +
        'with --omit=dev, as in the Dockerfile `gantry init` writes), or write the file in JavaScript.',
      details: { package: TYPESCRIPT_LOADER, file },
    },
  )
}

let tsRegistered: Promise<void> | undefined

/**
 * Lets import() load TypeScript from ESM and CommonJS workspaces alike (TOOLCHAIN §7: both hooks are
 * needed), with the tsx `file`'s project has (see resolveTsx); registered once per process.
 */
function registerTypeScript(file: string): Promise<void> {
  tsRegistered ??= (async () => {
    const dir = resolveTsx(file)
    if (!dir) throw typescriptLoaderMissing(file)
    const esm = await importFrom(dir, './esm/api')
    esm.register()
    const cjs = await importFrom(dir, './cjs/api')
    cjs.register()
  })().catch((err: unknown) => {
    tsRegistered = undefined // installed meanwhile (a long-running server): the next file tries again
    throw err
  })
  return tsRegistered
}

/**
 * Imports a script file (registering TypeScript support first when it is a .ts, .mts or .cts file).
 * CommonJS by Node's own rule (.cjs, or .js under a package.json that says `"type": "commonjs"`) is loaded
 * with require(), as the knex CLI does: about a third of import()'s cost (no ESM loader, no CommonJS
 * translation; issue 20), and the same module. Not once tsx is registered: its require hook would compile
 * the file its own way. `version` (its checksum) loads a file edited during a long-lived process again: a
 * required one leaves require's cache first (import() never reloaded CommonJS: it shares that cache), an
 * imported one is imported under a new URL.
 */
export async function importScript(path: string, version?: string): Promise<Record<string, unknown>> {
  if (/\.[cm]?ts$/.test(path)) await registerTypeScript(path)
  else if (declaredCommonJs(path)) {
    if (tsRegistered === undefined) return requireVersion(path, version)
    // import() of CommonJS goes through require's cache too: a new URL alone would not load the edit.
    forgetOtherVersion(path, version)
  }
  const url = pathToFileURL(path)
  if (version) url.search = `v=${version.slice(0, 16)}`
  return (await import(url.href)) as Record<string, unknown>
}

const requireScript = createRequire(import.meta.url)
/** The version of each CommonJS file loaded last. */
const requiredVersions = new Map<string, string | undefined>()
/** Each folder's nearest package.json "type" ('' when it has none or there is no package.json). */
const folderTypes = new Map<string, string>()

function declaredCommonJs(path: string): boolean {
  return path.endsWith('.cjs') || (path.endsWith('.js') && packageType(dirname(path)) === 'commonjs')
}

function packageType(dir: string): string {
  let type = folderTypes.get(dir)
  if (type !== undefined) return type
  const manifest = join(dir, 'package.json')
  if (existsSync(manifest)) {
    try {
      const declared = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type
      type = typeof declared === 'string' ? declared : ''
    } catch {
      type = '' // unreadable: import() decides, as it always did
    }
  } else type = dirname(dir) === dir ? '' : packageType(dirname(dir))
  folderTypes.set(dir, type)
  return type
}

/** Takes `path` out of require's cache when `version` is not the one loaded last, so the next load reads the file. */
function forgetOtherVersion(path: string, version: string | undefined): void {
  if (requiredVersions.has(path) && requiredVersions.get(path) !== version) delete requireScript.cache[path]
  requiredVersions.set(path, version)
}

/** require() shaped like import() of CommonJS: the exports as `default`, beside their own properties. */
function requireVersion(path: string, version: string | undefined): Record<string, unknown> {
  forgetOtherVersion(path, version)
  const exports: unknown = requireScript(path)
  return { ...(typeof exports === 'object' && exports !== null ? (exports as Record<string, unknown>) : {}), default: exports }
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
