/**
 * SQLite: `VACUUM INTO` through the open database (any driver; no program to install) writes a compact copy
 * that is one read transaction's snapshot; writers carry on meanwhile (WAL). The row counts are taken in the
 * copy itself, so they are exactly the snapshot's.
 *
 * Restore happens inside the live database, in one transaction on one connection, rather than by replacing
 * the file: other connections (the server's pool, a worker) keep valid handles and see the old tables or the
 * restored ones, never a mix, and the WAL stays the database's own. Each table, view, index and trigger of
 * the backup replaces the object of that name; tables the database has that the backup lacks stay as they
 * are. Foreign keys are checked before the commit: a restore that would leave a dangling reference (from a
 * table the backup lacks) changes nothing.
 */
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { describeDatabaseError } from '../errors.js'
import { inTableSet, type TableSet } from './table-sets.js'
import type { DumpResult } from './types.js'

/** The schema name a copy is attached under while it is read. */
const ATTACHED = 'gantry_backup'

type Connection = object

function clientOf(k: Knex): { acquireConnection(): Promise<unknown>; releaseConnection(conn: unknown): Promise<unknown> } {
  return k.client as never
}

/** An SQLite identifier, quoted. */
const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** Rows of a raw query on SQLite (knex's better-sqlite3 client answers an array). */
async function rows<T>(k: Knex, conn: Connection, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  return (await k.raw(sql, bindings).connection(conn)) as unknown as T[]
}

/** Runs `work` on one connection of the pool with `file` attached (read-only use) as `gantry_backup`. */
async function withAttached<T>(db: Database, file: string, work: (k: Knex, conn: Connection) => Promise<T>): Promise<T> {
  const k = db.knex
  const client = clientOf(k)
  const conn = (await client.acquireConnection()) as Connection
  try {
    await k.raw(`attach database ? as ${ATTACHED}`, [file]).connection(conn)
    try {
      return await work(k, conn)
    } finally {
      await k.raw(`detach database ${ATTACHED}`).connection(conn)
    }
  } finally {
    await client.releaseConnection(conn)
  }
}

/** Row counts of every table of `schema` (not SQLite's own sqlite_* tables). */
async function countRows(k: Knex, conn: Connection, schema: string): Promise<Record<string, number>> {
  const tables = await rows<{ name: string }>(
    k,
    conn,
    `select name from ${schema}.sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name`,
  )
  const counts: Record<string, number> = {}
  for (const { name } of tables) {
    const [row] = await rows<{ n: number }>(k, conn, `select count(*) as n from ${schema}.${quote(name)}`)
    counts[name] = Number(row?.n ?? 0)
  }
  return counts
}

/** Row counts of the database's tables, now. */
export async function sqliteRowCounts(db: Database): Promise<Record<string, number>> {
  const client = clientOf(db.knex)
  const conn = (await client.acquireConnection()) as Connection
  try {
    return await countRows(db.knex, conn, 'main')
  } finally {
    await client.releaseConnection(conn)
  }
}

function requireFile(db: Database): string {
  const target = db.target
  if (target.dialect !== 'sqlite') throw new Error('not a SQLite database')
  if (target.filename === ':memory:') {
    throw new GantryError('INVALID_INPUT', 'An in-memory SQLite database (sqlite::memory:) cannot be backed up or restored: it lives only in this process.', {
      details: { fields: ['database'], reason: 'memory-database' },
    })
  }
  return target.filename
}

/**
 * `file` (empty, created by the caller with mode 0600) becomes a copy of the database, or of `set`'s
 * tables: the copy is the whole snapshot, the other tables dropped from it (Gantry's set drops the views
 * too, which are the app's), then compacted.
 */
export async function dumpSqlite(db: Database, file: string, set: TableSet): Promise<DumpResult> {
  requireFile(db)
  try {
    const [version] = (await db.knex.raw('select sqlite_version() as v')) as unknown as Array<{ v: string }>
    // VACUUM INTO takes an expression: the path is bound, never spliced into the SQL.
    await db.knex.raw('vacuum into ?', [file])
    const rowCounts = await withAttached(db, file, async (k, conn) => {
      if (set !== 'all') await keepOnly(k, conn, set)
      return countRows(k, conn, ATTACHED)
    })
    return { tool: `VACUUM INTO (${db.driver})`, serverVersion: version?.v ?? 'unknown', rowCounts, format: 'sqlite' }
  } catch (err) {
    throw err instanceof GantryError ? err : describeDatabaseError(err, db.target)
  }
}

/** Drops from the attached copy every table (and, for Gantry's set, view) that is not in `set`. */
async function keepOnly(k: Knex, conn: Connection, set: TableSet): Promise<void> {
  const objects = await rows<{ type: 'table' | 'view'; name: string }>(
    k,
    conn,
    `select type, name from ${ATTACHED}.sqlite_master where type in ('table', 'view') and name not like 'sqlite\\_%' escape '\\'`,
  )
  const gantryTables = objects.filter((o) => o.type === 'table' && inTableSet('gantry', o.name))
  if (set === 'gantry' && gantryTables.length === 0) {
    throw new GantryError(
      'INVALID_INPUT',
      'The database has no Gantry tables (gantry_*) to back up: run `gantry migrate latest` first, or back up --tables app.',
      {
        details: { fields: ['tables'], reason: 'no-tables' },
      },
    )
  }
  // Foreign keys off on this connection while dropping: a kept table may reference a dropped one (the
  // restore checks references against the database it lands in).
  await k.raw('pragma foreign_keys = off').connection(conn)
  try {
    for (const o of objects.filter((o) => (o.type === 'view' ? set === 'gantry' : !inTableSet(set, o.name)))) {
      await k.raw(`drop ${o.type} ${ATTACHED}.${quote(o.name)}`).connection(conn)
    }
  } finally {
    await k.raw('pragma foreign_keys = on').connection(conn)
  }
  await k.raw(`vacuum ${ATTACHED}`).connection(conn)
}

interface SchemaObject {
  readonly type: 'table' | 'index' | 'view' | 'trigger'
  readonly name: string
  readonly sql: string | null
}

/** Replaces the database's tables (and views, indexes, triggers) with those of the SQLite file `file`. */
export async function restoreSqlite(db: Database, file: string): Promise<void> {
  requireFile(db)
  try {
    await withAttached(db, file, async (k, conn) => {
      const run = (sql: string, bindings: readonly Knex.RawBinding[] = []) => k.raw(sql, bindings).connection(conn)
      const objects = await rows<SchemaObject>(
        k,
        conn,
        `select type, name, sql from ${ATTACHED}.sqlite_master where name not like 'sqlite\\_%' escape '\\' and sql is not null order by rowid`,
      )
      const virtual = objects.find((o) => o.type === 'table' && /^create\s+virtual\s/i.test(o.sql ?? ''))
      if (virtual) {
        throw new GantryError('DUMP_TOOL_FAILED', `The backup holds the virtual table ${virtual.name}, which Gantry cannot restore in place.`, {
          hint: 'Stop every process using the database and copy the backup file over it instead.',
        })
      }
      const [{ foreign_keys: fkBefore = 1 } = {}] = await rows<{ foreign_keys?: number }>(k, conn, 'pragma foreign_keys')
      // SQLite ignores the switch inside a transaction: set it before, restore it after.
      await run('pragma foreign_keys = off')
      try {
        await run('begin immediate')
        try {
          await replaceObjects(k, conn, objects)
          const dangling = await rows<{ table: string; parent: string }>(k, conn, 'pragma main.foreign_key_check')
          if (dangling.length > 0) {
            const first = dangling[0] as { table: string; parent: string }
            throw new GantryError(
              'DUMP_TOOL_FAILED',
              `Restoring would leave ${dangling.length} row(s) referencing rows that are gone (first: ${first.table} → ${first.parent}); nothing was changed.`,
            )
          }
          await run('commit')
        } catch (err) {
          await run('rollback').catch(() => undefined)
          throw err
        }
      } finally {
        await run(`pragma foreign_keys = ${fkBefore ? 'on' : 'off'}`)
      }
    })
  } catch (err) {
    throw err instanceof GantryError ? err : describeDatabaseError(err, db.target)
  }
}

async function replaceObjects(k: Knex, conn: Connection, objects: readonly SchemaObject[]): Promise<void> {
  const run = (sql: string) => k.raw(sql).connection(conn)
  const existing = new Map((await rows<{ type: string; name: string }>(k, conn, `select type, name from main.sqlite_master`)).map((o) => [o.name, o.type]))
  // Out with whatever holds a name the backup uses (dropping a table drops its indexes and triggers).
  for (const { name } of objects) {
    const type = existing.get(name)
    if (type === 'table' || type === 'view' || type === 'index' || type === 'trigger') {
      await run(`drop ${type} if exists main.${quote(name)}`)
      existing.delete(name)
    }
  }
  const tables = objects.filter((o) => o.type === 'table')
  for (const table of tables) await run(table.sql as string)
  for (const { name } of tables) {
    // Generated columns (hidden 2 and 3) are computed, not copied.
    const columns = (await rows<{ name: string; hidden: number }>(k, conn, `pragma ${ATTACHED}.table_xinfo(${quote(name)})`))
      .filter((c) => c.hidden === 0)
      .map((c) => quote(c.name))
      .join(', ')
    await run(`insert into main.${quote(name)} (${columns}) select ${columns} from ${ATTACHED}.${quote(name)}`)
  }
  // AUTOINCREMENT counters as the backup had them (the copy above set them to the highest id).
  const sequences = await rows<{ n: number }>(k, conn, `select count(*) as n from ${ATTACHED}.sqlite_master where name = 'sqlite_sequence'`)
  if (Number(sequences[0]?.n ?? 0) > 0) {
    const names = tables.map((t) => t.name)
    await k.raw(`delete from main.sqlite_sequence where name in (${names.map(() => '?').join(', ') || 'null'})`, names).connection(conn)
    await run(`insert into main.sqlite_sequence (name, seq) select name, seq from ${ATTACHED}.sqlite_sequence`)
  }
  // Indexes once the rows are in, triggers after (they must not fire on the copy), views last.
  for (const type of ['index', 'trigger', 'view'] as const) {
    for (const o of objects) if (o.type === type) await run(o.sql as string)
  }
}
