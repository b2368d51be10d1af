/**
 * PostgreSQL: pg_dump's custom format, taken in a snapshot Gantry exports and counts rows in first, so the
 * manifest's row counts are exactly what the dump holds, whatever the application writes meanwhile.
 */
import { existsSync } from 'node:fs'
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { describeDatabaseError } from '../errors.js'
import type { DatabaseTarget } from '../url.js'
import { cleanEnvironment, locatePrograms, missingProgram, programVersion, runProgram } from './programs.js'
import { inTableSet, type TableSet } from './table-sets.js'
import type { DumpOptions, DumpResult } from './types.js'

type ServerTarget = Extract<DatabaseTarget, { host: string }>

/** A pinned connection of the knex pool (knex types them loosely). */
type Connection = object

/** Where Debian keeps the system's trusted CAs: what libpq < 16 is pointed at for a verified mode without a CA file. */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'

/**
 * The environment that tells libpq what Gantry's URL says: where, who, the password (never on the command
 * line, where `ps` shows it) and TLS, mapped from Gantry's settings (tls.ts) so the tool is held to the same
 * checks as Gantry's own connection. Inherited PG* variables are dropped first.
 */
export function postgresEnvironment(target: ServerTarget, toolMajor: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {
    ...cleanEnvironment(['PG'], env),
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
    PGAPPNAME: 'gantry-backup',
    PGCONNECT_TIMEOUT: '10',
    PGSSLMODE: target.tls.mode,
  }
  if (target.password !== '') out.PGPASSWORD = target.password
  if (target.tls.caFile !== undefined) out.PGSSLROOTCERT = target.tls.caFile
  else if (target.tls.mode === 'require') {
    // libpq's `require` verifies the chain when ~/.postgresql/root.crt exists; Gantry's does not (tls.ts):
    // a root file that is not there keeps it to encryption alone, as the URL asks.
    out.PGSSLROOTCERT = '/nonexistent/gantry-no-root-certificate'
  } else if (target.tls.mode !== 'disable') {
    // A verified mode without a CA file: Gantry trusts the usual public CAs; libpq 16+ says so with
    // `system`, older versions take the system's bundle as a file.
    out.PGSSLROOTCERT = toolMajor >= 16 || !existsSync(SYSTEM_CA_BUNDLE) ? 'system' : SYSTEM_CA_BUNDLE
  }
  return out
}

/** The major version in a `pg_dump (PostgreSQL) 15.6 (Debian …)` line, or NaN. */
export function toolMajorVersion(versionLine: string): number {
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(versionLine)
  return match ? Number(match[1]) : Number.NaN
}

interface ServerInfo {
  readonly version: string
  readonly major: number
}

async function serverInfo(db: Database): Promise<ServerInfo> {
  try {
    const { rows } = (await db.knex.raw("select version() as version, current_setting('server_version_num')::int as num")) as {
      rows: Array<{ version: string; num: number }>
    }
    const row = rows[0] as { version: string; num: number }
    return { version: row.version, major: Math.floor(row.num / 10000) }
  } catch (err) {
    throw describeDatabaseError(err, db.target)
  }
}

/**
 * The first installed copy of `program` whose major version is at least the server's: pg_dump refuses (or
 * worse, misreads) a newer server, and pg_restore cannot read a newer archive. PATH comes first; Debian's
 * versioned folders may hold a newer one.
 */
async function suitableProgram(
  program: 'pg_dump' | 'pg_restore',
  configured: string | undefined,
  server: ServerInfo,
): Promise<{ path: string; version: string; major: number }> {
  const seen: string[] = []
  for (const path of locatePrograms(program, configured)) {
    const version = await programVersion(program, path, cleanEnvironment(['PG']))
    const major = toolMajorVersion(version)
    if (major >= server.major) return { path, version, major }
    seen.push(`${path} (${version || 'unknown version'})`)
  }
  throw missingProgram(
    program,
    `${program} must be at least as new as the server (PostgreSQL ${server.major}), and the one${seen.length > 1 ? 's' : ''} installed ${seen.length > 1 ? 'are' : 'is'} older: ${seen.join(', ')}.`,
  )
}

/**
 * The tables pg_dump dumps the rows of: ordinary tables of every schema but the system's (partitioned
 * tables' rows are in their partitions, counted there), not temporary, not an extension's own. A table of
 * the current schema (where Gantry's and a knex app's tables live: `public` by default) is keyed by its
 * name, any other by `schema.name`.
 */
const TABLES_SQL = `
  select n.nspname as schema, c.relname as name, n.nspname = current_schema() as current
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and c.relpersistence <> 't'
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'
    and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
  order by 1, 2`

interface PgTable {
  readonly schema: string
  readonly name: string
  readonly current: boolean
}

/** A table's key in row counts: its name in the current schema, else `schema.name`. */
const tableKey = (t: PgTable): string => (t.current ? t.name : `${t.schema}.${t.name}`)

/** Row counts of every table pg_dump dumps (of `set`), as `k` (a transaction, or a pinned connection) sees them. */
export async function postgresRowCounts(k: Knex, conn?: Connection, set: TableSet = 'all'): Promise<Record<string, number>> {
  return (await countTables(k, conn, set)).counts
}

/** Every table pg_dump dumps (`all`), and the row counts of those in `set`. */
async function countTables(k: Knex, conn: Connection | undefined, set: TableSet): Promise<{ all: PgTable[]; counts: Record<string, number> }> {
  const raw = (sql: string, bindings: readonly Knex.RawBinding[] = []) => (conn ? k.raw(sql, bindings).connection(conn) : k.raw(sql, bindings))
  const { rows: all } = (await raw(TABLES_SQL)) as { rows: PgTable[] }
  const tables = all.filter((t) => inTableSet(set, tableKey(t)))
  const counts: Record<string, number> = {}
  // One round trip per hundred tables: a union of counts.
  for (let i = 0; i < tables.length; i += 100) {
    const batch = tables.slice(i, i + 100)
    const sql = batch.map((t, j) => `select ${j}::int as i, count(*)::bigint as n from ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`).join(' union all ')
    const { rows } = (await raw(sql)) as { rows: Array<{ i: number; n: string }> }
    for (const row of rows) counts[tableKey(batch[row.i] as PgTable)] = Number(row.n)
  }
  return { all, counts }
}

/**
 * pg_dump's arguments selecting `set`'s tables: the current schema's `gantry_*` relations — tables, and
 * their sequences, which pg_dump matches by name and would otherwise keep with the app's (a restore would
 * then drop a sequence a Gantry table still uses) — included for Gantry's set, excluded for the app's.
 */
function tableArguments(set: TableSet, all: readonly PgTable[], database: string): string[] {
  if (set === 'all') return []
  const gantry = all.filter((t) => inTableSet('gantry', tableKey(t)))
  const current = all.find((t) => t.current)?.schema
  if (set === 'gantry' && (gantry.length === 0 || current === undefined)) {
    throw new GantryError(
      'INVALID_INPUT',
      `${database} has no Gantry tables (gantry_*) to back up: run \`gantry migrate latest\` first, or back up --tables app.`,
      {
        details: { fields: ['tables'], reason: 'no-tables' },
      },
    )
  }
  if (current === undefined) return []
  // The schema quoted (a literal name); the rest a pattern: `*` any characters, `_` itself.
  const pattern = `${quoteIdent(current)}.gantry_*`
  return [set === 'gantry' ? `--table=${pattern}` : `--exclude-table=${pattern}`]
}

/** A PostgreSQL identifier, quoted (knex's `??` would split a name that holds a dot). */
const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

function clientOf(k: Knex): { acquireConnection(): Promise<unknown>; releaseConnection(conn: unknown): Promise<unknown> } {
  return k.client as never
}

/** Throws what a dump would: DUMP_TOOL_MISSING when no pg_dump as new as the server is installed. */
export async function checkPostgresDump(db: Database, options: DumpOptions): Promise<void> {
  await suitableProgram('pg_dump', options.programs?.pg_dump, await serverInfo(db))
}

export async function dumpPostgres(db: Database, file: string, options: DumpOptions, set: TableSet): Promise<DumpResult> {
  const target = db.target as ServerTarget
  const server = await serverInfo(db)
  const tool = await suitableProgram('pg_dump', options.programs?.pg_dump, server)
  const env = postgresEnvironment(target, tool.major)
  const k = db.knex
  const client = clientOf(k)
  const conn = (await client.acquireConnection()) as Connection
  let open = false
  try {
    // The snapshot pg_dump will read, exported from a transaction Gantry holds until pg_dump has run: the
    // counts below and the dump see the same committed rows. Read-only, and never cut off by the server's
    // idle-in-transaction or statement timeouts while pg_dump works.
    await k.raw('begin transaction isolation level repeatable read, read only').connection(conn)
    open = true
    await k.raw('set local idle_in_transaction_session_timeout = 0').connection(conn)
    await k.raw('set local statement_timeout = 0').connection(conn)
    const { rows } = (await k.raw('select pg_export_snapshot() as id').connection(conn)) as { rows: Array<{ id: string }> }
    const snapshot = (rows[0] as { id: string }).id
    const { all, counts: rowCounts } = await countTables(k, conn, set)
    const selection = tableArguments(set, all, target.database)
    await runProgram('pg_dump', tool.path, ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snapshot}`, ...selection, `--file=${file}`], {
      env,
      secrets: [target.password],
      what: `pg_dump of ${target.database} at ${target.host}:${target.port}`,
    })
    return { tool: tool.version, serverVersion: server.version, rowCounts, format: 'pg-custom' }
  } catch (err) {
    throw err instanceof GantryError ? err : describeDatabaseError(err, db.target)
  } finally {
    if (open)
      await k
        .raw('rollback')
        .connection(conn)
        .catch(() => undefined)
    await client.releaseConnection(conn)
  }
}

/** A libpq connection string naming only the database (the rest comes from the environment): `dbname='…'`. */
function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/**
 * pg_restore in one transaction: each object of the dump is dropped if it exists and created again, with
 * its rows; on any error nothing changes. Tables the database has that the dump lacks stay as they are
 * (and one whose foreign key references a table of the dump makes the drop, so the restore, fail: nothing
 * is dropped with CASCADE behind the operator's back).
 */
export async function restorePostgres(db: Database, file: string, options: DumpOptions): Promise<void> {
  const target = db.target as ServerTarget
  const server = await serverInfo(db)
  const tool = await suitableProgram('pg_restore', options.programs?.pg_restore, server)
  await runProgram(
    'pg_restore',
    tool.path,
    ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', `--dbname=${dbnameConninfo(target.database)}`, file],
    { env: postgresEnvironment(target, tool.major), secrets: [target.password], what: `pg_restore into ${target.database} at ${target.host}:${target.port}` },
  )
}
