/**
 * Where the database and Redis servers the tests start for themselves live. A non-root account on Debian
 * has no /usr/sbin on its PATH (mariadbd is there), and PostgreSQL's server programs live in
 * /usr/lib/postgresql/VERSION/bin, on nobody's PATH: so a test never spawns these by bare name. Each is
 * looked up on PATH and then in the usual sbin and lib folders; when it is nowhere, the error names the
 * program and the Debian package that provides it, instead of a spawn ENOENT read as "exited at start".
 */
import { accessSync, constants, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The programs the test helpers start, and the Debian package of each (Debian 12). */
export const SERVER_PROGRAMS = {
  mariadbd: 'mariadb-server-core',
  'mariadb-install-db': 'mariadb-server-core',
  initdb: 'postgresql-15',
  postgres: 'postgresql-15',
  pg_ctl: 'postgresql-15',
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
} as const

export type ServerProgram = keyof typeof SERVER_PROGRAMS

/** Other names of the same program (older MariaDB packages). */
const ALIASES: Partial<Record<ServerProgram, readonly string[]>> = { mariadbd: ['mysqld'], 'mariadb-install-db': ['mysql_install_db'] }

const FIXED_FOLDERS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** PostgreSQL's per-version bin folders (/usr/lib/postgresql/*\/bin), the newest first; then a source build's. */
function postgresFolders(): string[] {
  let versions: string[] = []
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v))
  } catch {
    // No PostgreSQL packages installed.
  }
  return [...versions.sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`), '/usr/local/pgsql/bin']
}

/** Whether `path` is a file this process may execute. */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The folders searched, in order: `env.PATH`'s, then the usual sbin and lib ones. */
export function searchFolders(env: NodeJS.ProcessEnv = process.env, postgres = false): string[] {
  const fromPath = (env.PATH ?? '').split(delimiter).filter(Boolean)
  // PostgreSQL's own folder before PATH: initdb and postgres must come from one version.
  const folders = postgres ? [...postgresFolders(), ...fromPath, ...FIXED_FOLDERS] : [...fromPath, ...FIXED_FOLDERS, ...postgresFolders()]
  return [...new Set(folders)]
}

export interface LookupOptions {
  /** Whose PATH (and GANTRY_TEST_PG_BIN) to read; process.env by default. */
  readonly env?: NodeJS.ProcessEnv
  /** Only these folders (for tests of the lookup itself). */
  readonly folders?: readonly string[]
}

const isPostgres = (program: ServerProgram): boolean => program === 'initdb' || program === 'postgres' || program === 'pg_ctl'

/** The folders `program` is looked for in. */
function foldersFor(program: ServerProgram, options: LookupOptions): readonly string[] {
  const env = options.env ?? process.env
  return options.folders ?? (isPostgres(program) ? pgBinFolders(env) : searchFolders(env))
}

/** The absolute path of `program`, or undefined when it is in none of the folders. */
export function lookupProgram(program: ServerProgram, options: LookupOptions = {}): string | undefined {
  const folders = foldersFor(program, options)
  for (const name of [program, ...(ALIASES[program] ?? [])]) {
    for (const folder of folders) {
      const path = join(folder, name)
      if (executable(path)) return path
    }
  }
  return undefined
}

/** GANTRY_TEST_PG_BIN alone when set, else PostgreSQL's folders and the rest. */
function pgBinFolders(env: NodeJS.ProcessEnv): string[] {
  return env.GANTRY_TEST_PG_BIN ? [env.GANTRY_TEST_PG_BIN] : searchFolders(env, true)
}

/** The absolute path of `program`; throws naming it and its Debian package when it is not installed. */
export function findProgram(program: ServerProgram, options: LookupOptions = {}): string {
  const found = lookupProgram(program, options)
  if (found) return found
  const where = foldersFor(program, options)
  throw new Error(`${program} is not installed: not found in ${where.join(', ')}. On Debian: apt-get install ${SERVER_PROGRAMS[program]}`)
}

/** The last `lines` lines of a process's output, for a message about its exit. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n')
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n')
}
