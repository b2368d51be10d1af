/**
 * The migration lock, bound to a database session (TOOLCHAIN §8) so a killed run never leaves a lock that
 * needs a human: GET_LOCK on MySQL/MariaDB, an advisory lock on PostgreSQL, and on SQLite the run's own
 * write transaction (BEGIN IMMEDIATE under a busy timeout). knex types `client` as any: its uses stay here.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { LOCK_TABLE } from './tracking.js'
import type { LockHolder } from './types.js'

/** How the lock is taken: wait at most `timeoutSeconds`; `onWait` hears who holds it before waiting. */
export interface LockOptions {
  readonly timeoutSeconds: number
  readonly actor: string
  readonly onWait?: ((holder: LockHolder | null) => void) | undefined
}

type Connection = unknown
/* eslint-disable @typescript-eslint/no-explicit-any -- knex's client is untyped */
const clientOf = (k: Knex): any => k.client
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A MySQL lock name (server-wide, so it names the database; at most 64 characters). */
function mysqlLockName(db: Database): string {
  const database = db.target.dialect === 'sqlite' ? '' : db.target.database
  const name = `gantry_migrate:${database}`
  return name.length <= 64 ? name : `gantry_migrate:${createHash('sha256').update(database).digest('hex').slice(0, 40)}`
}

/** The PostgreSQL advisory key: 63 bits of a hash (advisory locks are per database already). */
const PG_KEY = (BigInt('0x' + createHash('sha256').update('gantry_migrate').digest('hex').slice(0, 16)) & 0x7fffffffffffffffn).toString()

const holderFile = (db: Database): string => (db.target.dialect === 'sqlite' ? `${db.target.filename}.gantry-lock.json` : '')

const timeoutError = (seconds: number): GantryError => new GantryError('MIGRATION_LOCK_TIMEOUT', `Timed out after ${seconds} s waiting for the migration lock.`)

/**
 * Runs `work` under the migration lock. `work` gets the knex to use for the run: on SQLite the run's
 * transaction (taken on `runKnex`, whose SQLite transactions begin IMMEDIATE), elsewhere `db.knex`.
 */
export async function withLock<T>(db: Database, runKnex: Knex, options: LockOptions, work: (k: Knex) => Promise<T>): Promise<T> {
  if (db.dialect === 'sqlite') return withSqliteLock(db, runKnex, options, work)
  const client = clientOf(db.knex)
  const conn = (await client.acquireConnection()) as Connection
  try {
    await acquireServerLock(db, conn, options)
    try {
      await writeHolderRow(db, options.actor)
      return await work(db.knex)
    } finally {
      await releaseServerLock(db, conn)
    }
  } finally {
    await client.releaseConnection(conn)
  }
}

async function acquireServerLock(db: Database, conn: Connection, options: LockOptions): Promise<void> {
  const k = db.knex
  const ms = Math.max(0, Math.round(options.timeoutSeconds * 1000))
  if (db.dialect === 'mysql') {
    const name = mysqlLockName(db)
    const first = (await k.raw('SELECT GET_LOCK(?, 0) AS got', [name]).connection(conn)) as [Array<{ got: number | null }>]
    if (Number(first[0][0]?.got) === 1) return
    options.onWait?.(await lockHolder(db))
    const second = (await k.raw('SELECT GET_LOCK(?, ?) AS got', [name, ms / 1000]).connection(conn)) as [Array<{ got: number | null }>]
    if (Number(second[0][0]?.got) !== 1) throw timeoutError(options.timeoutSeconds)
    return
  }
  const first = (await k.raw('SELECT pg_try_advisory_lock(?::bigint) AS got', [PG_KEY]).connection(conn)) as { rows: Array<{ got: boolean }> }
  if (first.rows[0]?.got) return
  options.onWait?.(await lockHolder(db))
  await k.raw(`SET lock_timeout = ${ms === 0 ? 1 : ms}`).connection(conn)
  try {
    await k.raw('SELECT pg_advisory_lock(?::bigint)', [PG_KEY]).connection(conn)
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') throw timeoutError(options.timeoutSeconds)
    throw err
  } finally {
    await k.raw('RESET lock_timeout').connection(conn)
  }
}

async function releaseServerLock(db: Database, conn: Connection): Promise<void> {
  const k = db.knex
  await k(LOCK_TABLE)
    .delete()
    .catch(() => undefined)
  if (db.dialect === 'mysql') await k.raw('SELECT RELEASE_LOCK(?)', [mysqlLockName(db)]).connection(conn)
  else await k.raw('SELECT pg_advisory_unlock(?::bigint)', [PG_KEY]).connection(conn)
}

/** Records who holds the lock (created under the lock, so concurrent first runs cannot race on it). */
async function writeHolderRow(db: Database, actor: string): Promise<void> {
  const k = db.knex
  if (!(await k.schema.hasTable(LOCK_TABLE))) {
    await k.schema.createTable(LOCK_TABLE, (t) => {
      t.integer('id').primary()
      t.string('host', 255)
      t.integer('pid')
      t.string('actor', 255)
      t.timestamp('since').nullable()
    })
  }
  await k(LOCK_TABLE).delete()
  await k(LOCK_TABLE).insert({ id: 1, host: hostname(), pid: process.pid, actor, since: new Date() })
}

async function withSqliteLock<T>(db: Database, runKnex: Knex, options: LockOptions, work: (k: Knex) => Promise<T>): Promise<T> {
  const ms = Math.max(0, Math.round(options.timeoutSeconds * 1000))
  // Ignored inside a transaction, so it is switched off around the run; foreign_key_check runs per migration.
  await runKnex.raw('PRAGMA foreign_keys = OFF')
  try {
    await runKnex.raw('PRAGMA busy_timeout = 0')
    try {
      return await sqliteRun(db, runKnex, options.actor, ms, work)
    } catch (err) {
      if (!isBusy(err)) throw err
    }
    options.onWait?.(readHolderFile(db))
    await runKnex.raw(`PRAGMA busy_timeout = ${ms}`)
    try {
      return await sqliteRun(db, runKnex, options.actor, ms, work)
    } catch (err) {
      throw isBusy(err) ? timeoutError(options.timeoutSeconds) : err
    }
  } finally {
    await runKnex.raw('PRAGMA busy_timeout = 5000')
    await runKnex.raw('PRAGMA foreign_keys = ON')
  }
}

/** One run inside a write transaction: the BEGIN IMMEDIATE is the lock; a busy error there means "held". */
async function sqliteRun<T>(db: Database, runKnex: Knex, actor: string, busyMs: number, work: (k: Knex) => Promise<T>): Promise<T> {
  let began = false
  try {
    return await runKnex.transaction(async (trx) => {
      // knex calls this even when BEGIN IMMEDIATE failed (busy): only a statement that succeeds inside the
      // transaction proves the lock is ours. Until then the holder file is someone else's.
      // Holding the write lock then; reads may still meet a checkpoint or WAL recovery, so wait as usual.
      await trx.raw(`PRAGMA busy_timeout = ${Math.max(busyMs, 5000)}`)
      began = true
      writeFileSync(holderFile(db), JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString(), actor }))
      return work(trx)
    })
  } catch (err) {
    // A busy error after BEGIN comes from the work itself, not from waiting for the lock.
    if (began && isBusy(err)) throw new GantryError('DB_QUERY_FAILED', `The SQLite database was busy during the run: ${(err as Error).message}`, { cause: err })
    throw err
  } finally {
    if (began) rmSync(holderFile(db), { force: true })
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? ''
  return code.startsWith('SQLITE_BUSY') || /database is locked/.test((err as Error).message ?? '')
}

function readHolderFile(db: Database): LockHolder | null {
  const file = holderFile(db)
  if (!existsSync(file)) return null
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder
  } catch {
    return null
  }
}

/** Who holds the migration lock, when the database confirms it is held (a killed run never shows). */
export async function lockHolder(db: Database): Promise<LockHolder | null> {
  const k = db.knex
  if (db.dialect === 'sqlite') return (await sqliteLockHeld(db)) ? readHolderFile(db) : null
  if (db.dialect === 'mysql') {
    const [rows] = (await k.raw('SELECT IS_USED_LOCK(?) AS holder', [mysqlLockName(db)])) as [Array<{ holder: unknown }>]
    if (rows[0]?.holder === null || rows[0]?.holder === undefined) return null
  } else {
    const result = (await k.raw(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((classid::bigint << 32) | objid::bigint) = ?::bigint`,
      [PG_KEY],
    )) as { rows: Array<{ n: number }> }
    if (!result.rows[0]?.n) return null
  }
  if (!(await k.schema.hasTable(LOCK_TABLE))) return { host: 'unknown', pid: 0, since: new Date().toISOString() }
  const row = (await k(LOCK_TABLE).where({ id: 1 }).first()) as { host: string; pid: number; since: unknown; actor: string | null } | undefined
  if (!row) return { host: 'unknown', pid: 0, since: new Date().toISOString() }
  const since = row.since instanceof Date ? row.since.toISOString() : String(row.since)
  return { host: row.host, pid: Number(row.pid), since, ...(row.actor ? { actor: row.actor } : {}) }
}

/** Whether another connection holds SQLite's write lock: BEGIN IMMEDIATE without waiting fails. */
async function sqliteLockHeld(db: Database): Promise<boolean> {
  const client = clientOf(db.knex)
  const conn = (await client.acquireConnection()) as Connection
  const k = db.knex
  try {
    await k.raw('PRAGMA busy_timeout = 0').connection(conn)
    try {
      await k.raw('BEGIN IMMEDIATE').connection(conn)
    } catch (err) {
      if (isBusy(err)) return true
      throw err
    }
    await k.raw('ROLLBACK').connection(conn)
    return false
  } finally {
    await k.raw('PRAGMA busy_timeout = 5000').connection(conn)
    await client.releaseConnection(conn)
  }
}

/** The connection-level clients of a knex, for building derived clients (dry run, statement recording). */
export function clientConstructor(k: Knex): new (config: Knex.Config) => object {
  return clientOf(k).constructor as new (config: Knex.Config) => object
}
