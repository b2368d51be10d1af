/**
 * Which SQLite driver opens the embedded database. Two implement the same (better-sqlite3) API, so knex's
 * better-sqlite3 client drives both:
 * - `libsql`: a prebuilt binary per platform, shipped inside registry packages; installs without a compiler
 *   (a dependency of Gantry);
 * - `better-sqlite3`: compiled from source on install (~100 s on 2 cores); used when a project installs it
 *   and asks for it, or when no libsql binary exists for the platform (docs/sqlite-driver.md has the figures).
 * `GANTRY_SQLITE_DRIVER=libsql|better-sqlite3` picks one; unset, the first of DRIVER_PREFERENCE that opens.
 */
import { createRequire } from 'node:module'
import { GantryError } from '../core/errors.js'

export type SqliteDriverName = 'libsql' | 'better-sqlite3'

/** The variable that names the driver. */
export const SQLITE_DRIVER_VARIABLE = 'GANTRY_SQLITE_DRIVER'

/** The order in which drivers are tried when none is named. */
export const DRIVER_PREFERENCE: readonly SqliteDriverName[] = ['libsql', 'better-sqlite3']

/** What both drivers' modules export: the Database class (only what choosing needs is typed here). */
export interface SqliteDatabaseClass {
  new (filename: string, options?: Record<string, unknown>): { close(): unknown }
}

/** A driver that loaded and opened a database. */
export interface SqliteDriver {
  readonly name: SqliteDriverName
  readonly Database: SqliteDatabaseClass
}

/** Loads a driver's module; throws when it is not installed or its binary does not load. */
export type DriverLoader = (name: SqliteDriverName) => SqliteDatabaseClass

const require = createRequire(import.meta.url)
const loadInstalled: DriverLoader = (name) => require(name) as SqliteDatabaseClass

/**
 * The driver to use: the one `requested` names, else the first of DRIVER_PREFERENCE that opens an in-memory
 * database. Opening proves the binary loads: better-sqlite3's module loads without its compiled addon (a
 * failed or skipped build) and fails only at the first open.
 */
export function chooseSqliteDriver(requested: string | undefined, load: DriverLoader = loadInstalled): SqliteDriver {
  const wanted = requested?.trim()
  if (wanted && !DRIVER_PREFERENCE.includes(wanted as SqliteDriverName)) {
    throw new GantryError(
      'INVALID_INPUT',
      `${SQLITE_DRIVER_VARIABLE}="${wanted}" is not a SQLite driver: use ${DRIVER_PREFERENCE.join(' or ')}, or leave it unset.`,
    )
  }
  const candidates = wanted ? [wanted as SqliteDriverName] : DRIVER_PREFERENCE
  const failures: string[] = []
  for (const name of candidates) {
    try {
      const Database = load(name)
      new Database(':memory:').close()
      return { name, Database }
    } catch (err) {
      failures.push(`${name}: ${firstLine(err)}`)
    }
  }
  throw new GantryError('DB_UNREACHABLE', `No SQLite driver loads (${failures.join('; ')}).`, {
    hint: wanted
      ? `Install it (\`npm i ${wanted}\`), or unset ${SQLITE_DRIVER_VARIABLE} to use the one Gantry installs.`
      : 'Reinstall Gantry (`npm ci`): its libsql dependency ships a binary for this platform; where none exists, `npm i better-sqlite3` compiles one.',
  })
}

let chosen: SqliteDriver | undefined

/** The driver for this process, chosen once from GANTRY_SQLITE_DRIVER. */
export function sqliteDriver(): SqliteDriver {
  return (chosen ??= chooseSqliteDriver(process.env[SQLITE_DRIVER_VARIABLE]))
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0] ?? ''
}
