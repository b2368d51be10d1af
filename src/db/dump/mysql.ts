/**
 * MySQL / MariaDB: mariadb-dump (or MySQL's mysqldump) with --single-transaction, a consistent InnoDB
 * snapshot that never locks the application out (tables of a non-transactional engine such as MyISAM are
 * read as they are at that moment, not in the snapshot). Its row counts are read from the dump itself as it
 * streams to the file (sql-dump-rows.ts), so they are exactly what the dump holds.
 *
 * Credentials and TLS travel in an option file of the run's own (mode 0600 in a private folder, deleted
 * after), passed with --defaults-file, which must come first and makes the tool read no other option file:
 * a ~/.my.cnf read after --defaults-extra-file would override the URL's user and password.
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { describeDatabaseError } from '../errors.js'
import type { DatabaseTarget } from '../url.js'
import { cleanEnvironment, locatePrograms, programVersion, runProgram, type DumpProgram } from './programs.js'
import { SqlDumpRowCounter } from './sql-dump-rows.js'
import { inTableSet, type TableSet } from './table-sets.js'
import type { DumpOptions, DumpResult } from './types.js'

type ServerTarget = Extract<DatabaseTarget, { host: string }>

/** Whose client a program is: MariaDB's and MySQL's take different TLS options. */
export type ClientFlavor = 'mariadb' | 'mysql'

/** A value in an option file: quoted, with the escapes the client's option parser reads (`#` is safe inside quotes). */
function optionValue(value: string): string {
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
  return `"${escaped}"`
}

/**
 * The option file for a client run: where, who, the password, TCP always (the client would take `localhost`
 * for its socket; Gantry's driver speaks TCP) and TLS as Gantry's settings say (tls.ts). MariaDB's client has
 * no mode that checks the chain without the host name, so VERIFY_CA is checked as strictly as
 * VERIFY_IDENTITY there (stricter, never weaker, than Gantry's own connection).
 */
export function mysqlOptionFile(target: ServerTarget, flavor: ClientFlavor): string {
  const lines = [
    '[client]',
    `host=${optionValue(target.host)}`,
    `port=${target.port}`,
    `user=${optionValue(target.user)}`,
    ...(target.password === '' ? [] : [`password=${optionValue(target.password)}`]),
    'protocol=TCP',
    'default-character-set=utf8mb4',
  ]
  const { mode, caFile } = target.tls
  const ca = caFile === undefined ? [] : [`ssl-ca=${optionValue(caFile)}`]
  if (flavor === 'mysql') {
    const name = { disable: 'DISABLED', require: 'REQUIRED', 'verify-ca': 'VERIFY_CA', 'verify-full': 'VERIFY_IDENTITY' }[mode]
    lines.push(`ssl-mode=${name}`, ...(mode === 'disable' ? [] : ca))
  } else if (mode === 'disable') {
    lines.push('skip-ssl')
  } else if (mode === 'require') {
    lines.push('ssl', 'skip-ssl-verify-server-cert')
  } else {
    lines.push('ssl', ...ca, 'ssl-verify-server-cert')
  }
  return `${lines.join('\n')}\n`
}

/** The environment for a client run: the variables the clients read instead of their options are dropped. */
const mysqlEnvironment = (): NodeJS.ProcessEnv => cleanEnvironment(['MYSQL_', 'MARIADB_'])

interface Program {
  readonly path: string
  readonly version: string
  readonly flavor: ClientFlavor
}

/** The first installed program of the pair (mariadb-dump, else mysqldump), with its version and flavour. */
async function clientProgram(program: DumpProgram, configured: string | undefined): Promise<Program> {
  const [path] = locatePrograms(program, configured) as [string]
  const version = await programVersion(program, path, mysqlEnvironment())
  return { path, version, flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql' }
}

/** Runs `work` with the path of an option file for `target`, removed afterwards whatever happens. */
async function withOptionFile<T>(target: ServerTarget, flavor: ClientFlavor, work: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-mysql-'))
  try {
    const path = join(dir, 'client.cnf')
    await writeFile(path, mysqlOptionFile(target, flavor), { mode: 0o600, flag: 'wx' })
    return await work(path)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function serverVersion(db: Database): Promise<string> {
  try {
    const [rows] = (await db.knex.raw('select version() as version')) as [Array<{ version: string }>]
    return (rows[0] as { version: string }).version
  } catch (err) {
    throw describeDatabaseError(err, db.target)
  }
}

/** Throws what a dump would: DUMP_TOOL_MISSING when neither mariadb-dump nor mysqldump is installed. */
export async function checkMysqlDump(options: DumpOptions): Promise<void> {
  await clientProgram('mariadb-dump', options.programs?.['mariadb-dump'])
}

/**
 * mariadb-dump's arguments selecting `set`'s tables: after the database, Gantry's by name (views are the
 * app's); `--ignore-table` of each of Gantry's for the app's. They go after `--`, so a name is never an option.
 */
async function tableArguments(db: Database, set: TableSet, database: string): Promise<{ options: string[]; tables: string[] }> {
  if (set === 'all') return { options: [], tables: [] }
  const [rows] = (await db.knex.raw(
    "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'",
  )) as [Array<{ name: string }>]
  const gantry = rows.map((r) => r.name).filter((name) => inTableSet('gantry', name))
  if (set === 'app') return { options: gantry.map((name) => `--ignore-table=${database}.${name}`), tables: [] }
  if (gantry.length === 0) {
    throw new GantryError(
      'INVALID_INPUT',
      `${database} has no Gantry tables (gantry_*) to back up: run \`gantry migrate latest\` first, or back up --tables app.`,
      {
        details: { fields: ['tables'], reason: 'no-tables' },
      },
    )
  }
  return { options: [], tables: gantry.sort() }
}

export async function dumpMysql(db: Database, file: string, options: DumpOptions, set: TableSet): Promise<DumpResult> {
  const target = db.target as ServerTarget
  const version = await serverVersion(db)
  const tool = await clientProgram('mariadb-dump', options.programs?.['mariadb-dump'])
  const selection = await tableArguments(db, set, target.database)
  // MySQL 8's mysqldump would write GTID statements a restore elsewhere trips on, and asks a MariaDB
  // server for column statistics it does not keep. (Only MariaDB's tool is tested here.)
  const mysqlOnly = tool.flavor === 'mysql' ? ['--set-gtid-purged=OFF', ...(/Ver 8\./.test(tool.version) ? ['--column-statistics=0'] : [])] : []
  const counter = new SqlDumpRowCounter()
  await withOptionFile(target, tool.flavor, (optionFile) =>
    runProgram(
      'mariadb-dump',
      tool.path,
      [
        `--defaults-file=${optionFile}`,
        '--single-transaction',
        '--quick',
        '--routines',
        '--triggers',
        // Events need the EVENT privilege and belong to the server's schedule, not to the data.
        '--skip-events',
        '--no-tablespaces',
        '--hex-blob',
        '--default-character-set=utf8mb4',
        '--add-drop-table',
        '--add-locks',
        '--extended-insert',
        '--create-options',
        '--set-charset',
        ...mysqlOnly,
        ...selection.options,
        '--',
        target.database,
        ...selection.tables,
      ],
      {
        env: mysqlEnvironment(),
        stdout: createWriteStream(file, { flags: 'w', mode: 0o600 }),
        inspect: (chunk) => counter.write(chunk),
        secrets: [target.password],
        what: `${tool.path.split('/').pop() ?? 'mariadb-dump'} of ${target.database} at ${target.host}:${target.port}`,
      },
    ),
  )
  return { tool: tool.version, serverVersion: version, rowCounts: counter.end(), format: 'sql' }
}

/**
 * Runs the dump's script in the database with the mariadb (or mysql) client, stopping at the first error.
 * The script drops and recreates each table it holds; tables the database has that the dump lacks stay as
 * they are. MySQL commits each DDL statement at once, so a restore that fails part way leaves the tables it
 * had reached restored and the others as they were: the error says where it stopped.
 */
export async function restoreMysql(db: Database, file: string, options: DumpOptions): Promise<void> {
  const target = db.target as ServerTarget
  if (target.database === '') throw new GantryError('INVALID_INPUT', 'The database URL names no database to restore into.')
  const tool = await clientProgram('mariadb', options.programs?.mariadb)
  await withOptionFile(target, tool.flavor, (optionFile) =>
    runProgram('mariadb', tool.path, [`--defaults-file=${optionFile}`, '--binary-mode', '--batch', `--database=${target.database}`], {
      env: mysqlEnvironment(),
      stdinFile: file,
      secrets: [target.password],
      what: `${tool.path.split('/').pop() ?? 'mariadb'} restore into ${target.database} at ${target.host}:${target.port}`,
    }),
  )
}
