/**
 * The knex client for the chosen SQLite driver (sqlite-driver.ts). knex's better-sqlite3 client hard-codes
 * `require('better-sqlite3')`, so libsql gets a subclass whose `_driver()` returns it (an npm alias would
 * lie about what is installed), with the few places where libsql differs from better-sqlite3 made equal:
 * each is a behaviour Gantry or a migration relies on, and test/integration/db/sqlite-client.test.ts holds it.
 */
import Client_BetterSQLite3 from 'knex/lib/dialects/better-sqlite3/index.js'
import type { SqliteDriver } from './sqlite-driver.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- knex's client classes and the driver's connection are untyped */

/** better-sqlite3's default busy timeout (its `timeout` option); libsql's is 0: a second writer fails at once. */
const BUSY_TIMEOUT_MS = 5000

/** Quote characters of SQLite and the character that closes each. */
const QUOTES: Record<string, string> = { "'": "'", '"': '"', '`': '`', '[': ']' }

/**
 * Whether SQL text holds a second statement after the first `;` (comments and whitespace don't count).
 * better-sqlite3 refuses such text; libsql runs the first statement and drops the rest without a word, which
 * in a migration would lose schema changes silently. A CREATE TRIGGER body holds `;` up to its END, so a
 * trigger is let through as one statement.
 */
export function hasSecondStatement(sql: string): boolean {
  if (!sql.includes(';') || /^\s*create\s+(temp\s+|temporary\s+)?trigger\b/i.test(sql)) return false
  let ended = false
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string
    if (c === '-' && sql[i + 1] === '-') {
      i = sql.indexOf('\n', i)
      if (i < 0) return false
    } else if (c === '/' && sql[i + 1] === '*') {
      i = sql.indexOf('*/', i + 2) + 1
      if (i <= 0) return false
    } else if (ended) {
      if (c !== ';' && c.trim() !== '') return true
    } else if (QUOTES[c]) {
      i = sql.indexOf(QUOTES[c], i + 1)
      if (i < 0) return false
    } else if (c === ';') {
      ended = true
    }
  }
  return false
}

/** Statements that begin, end or mark a transaction. */
const TRANSACTION_CONTROL = /^\s*(begin|commit|end|rollback|savepoint|release)\b/i

/**
 * Connections on which a statement failed as busy or locked. SQLite keeps such a statement in progress so it
 * can be retried; better-sqlite3 resets it at once, libsql only when the statement runs again or the
 * connection closes. Until then every COMMIT on the connection fails ("SQL statements in progress").
 */
const stuck = new WeakSet<object>()

/** Rows with each BLOB as a Buffer, as better-sqlite3 returns them (libsql gives ArrayBuffers). */
function blobsAsBuffers(rows: unknown): void {
  if (!Array.isArray(rows)) return
  for (const row of rows as Array<Record<string, unknown>>) {
    for (const key in row) {
      const value = row[key]
      if (value instanceof ArrayBuffer) row[key] = Buffer.from(value)
    }
  }
}

/** knex's better-sqlite3 client, driving libsql. */
function libsqlClient(driver: SqliteDriver): typeof Client_BetterSQLite3 {
  return class LibsqlClient extends Client_BetterSQLite3 {
    override _driver(): unknown {
      return driver.Database
    }

    override async acquireRawConnection(): Promise<any> {
      const { filename, options = {} } = this.connectionSettings
      let db: any
      try {
        db = new this.driver(filename)
      } catch (err) {
        // libsql reports "ConnectionFailed(… : 14)" without a code; 14 is SQLITE_CANTOPEN, which errors.ts names.
        throw Object.assign(new Error(`unable to open database file ${filename}`), { code: 'SQLITE_CANTOPEN', cause: err })
      }
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
      // libsql ignores the readonly option; query_only makes the connection refuse every write the same way.
      if (options.readonly) db.pragma('query_only = ON')
      const safeIntegers = this._optSafeIntegers(options)
      if (safeIntegers !== undefined) db.defaultSafeIntegers(safeIntegers)
      return db
    }

    override async _query(connection: any, obj: { sql: string; bindings?: unknown[]; response?: unknown; context?: unknown }): Promise<any> {
      if (obj.sql && hasSecondStatement(obj.sql)) throw new RangeError('The supplied SQL string contains more than one statement')
      if (TRANSACTION_CONTROL.test(obj.sql) && !obj.bindings?.length) {
        // Through exec, whose statement is finalized even when it fails: a BEGIN IMMEDIATE refused as busy
        // (the migration lock's probe) must not leave the connection with a statement in progress.
        connection.exec(obj.sql)
        obj.response = { changes: 0, lastInsertRowid: 0 }
        obj.context = { lastID: 0, changes: 0 }
        return obj
      }
      let result: unknown
      try {
        result = await super._query(connection, obj)
      } catch (err) {
        if (/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))) stuck.add(connection)
        throw err
      }
      blobsAsBuffers(obj.response)
      return result
    }

    /** A connection left with a statement in progress goes back to the pool only to be closed and replaced. */
    override validateConnection(connection: any): Promise<boolean> {
      return Promise.resolve(!stuck.has(connection))
    }
  }
}

/**
 * A client whose transactions take SQLite's write lock at BEGIN (BEGIN IMMEDIATE), waiting the busy timeout
 * for it. knex's deferred BEGIN takes it at the first write instead; when another connection has committed
 * since the transaction's first read, SQLite refuses that write with SQLITE_BUSY at once, without waiting
 * (the read snapshot is stale), so two `gantry users create` at the same time failed. Gantry's transactions
 * all write; a read-only connection cannot take the lock and keeps the deferred BEGIN.
 */
function immediateTransactions(Base: typeof Client_BetterSQLite3): typeof Client_BetterSQLite3 {
  return class ImmediateTransactions extends Base {
    override async _query(connection: any, obj: { sql: string; bindings?: unknown[]; response?: unknown }): Promise<any> {
      if (/^BEGIN;?$/i.test(obj.sql.trim()) && !this.connectionSettings.options?.readonly) obj.sql = 'BEGIN IMMEDIATE;'
      return super._query(connection, obj)
    }
  }
}

const clients = new WeakMap<SqliteDriver, typeof Client_BetterSQLite3>()

/**
 * The knex client class for a driver: knex's own for better-sqlite3, the subclass above for libsql, each
 * with immediate transactions; one class per driver, so the clients derived from it (dry run, recording)
 * all share one prototype chain.
 */
export function sqliteClient(driver: SqliteDriver): typeof Client_BetterSQLite3 {
  let client = clients.get(driver)
  if (!client) clients.set(driver, (client = immediateTransactions(driver.name === 'better-sqlite3' ? Client_BetterSQLite3 : libsqlClient(driver))))
  return client
}
/* eslint-enable @typescript-eslint/no-explicit-any */
