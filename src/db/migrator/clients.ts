/**
 * Derived knex clients (TOOLCHAIN §9): subclasses of the database's own client class, because knex builds
 * transaction clients from the prototype and patching an instance would miss them.
 */
import type { Knex } from 'knex'
import type { Database } from '../connect.js'
import { clientConstructor } from './lock.js'

/** What a migration run sends to the database, as it goes. */
export interface Recorder {
  /** Statements are recorded only while active (around a migration's up/down). */
  active: boolean
  /** The writes that succeeded (reads and transaction control are left out). */
  statements: string[]
  /** The reads that passed through (the migration looked at the schema or at rows). */
  reads: string[]
  /** The statement that failed, if one did. */
  failedStatement: string | undefined
  /** Called after each recorded write succeeds (MySQL: the run record is updated, so a SIGKILL keeps the list). */
  onStatement: ((statements: readonly string[]) => Promise<void>) | undefined
  start(onStatement?: (statements: readonly string[]) => Promise<void>): void
  stop(): void
}

/** A knex whose statements a Recorder sees, and the recorder. */
export interface RecordingKnex {
  readonly knex: Knex
  readonly recorder: Recorder
  destroy(): Promise<void>
}

const CONTROL = /^\s*(begin|commit|rollback|savepoint|release\s+savepoint|start\s+transaction|set\s+(session\s+)?transaction)\b/i
const READ = /^\s*(select|show|with|explain|describe|desc\s|pragma\s+[\w.]+\s*(\(|;|$))/i

/** Whether a statement only reads. */
export function isRead(sql: string): boolean {
  return READ.test(sql)
}

function createRecorder(): Recorder {
  return {
    active: false,
    statements: [],
    reads: [],
    failedStatement: undefined,
    onStatement: undefined,
    start(onStatement) {
      this.active = true
      this.statements = []
      this.reads = []
      this.failedStatement = undefined
      this.onStatement = onStatement
    },
    stop() {
      this.active = false
      this.onStatement = undefined
    },
  }
}

interface QueryObject {
  sql: string
  bindings?: unknown[]
  response?: unknown
  context?: unknown
}

/* eslint-disable @typescript-eslint/no-explicit-any -- knex's client classes are untyped */
interface KnexClient {
  query(conn: unknown, obj: QueryObject | string): Promise<unknown>
  _query(conn: unknown, obj: QueryObject): Promise<unknown>
  _escapeBinding(value: unknown, options: Record<string, unknown>): string
}
type ClientClass = new (config: Knex.Config) => KnexClient

/**
 * Statement text with its values inlined, taken before knex renumbers PostgreSQL placeholders to $n, so a
 * partial or failed record shows which rows were written. Escaping is the dialect client's own.
 */
const statementText = new WeakMap<QueryObject, string>()

function withBindings(client: KnexClient, obj: QueryObject): string {
  const bindings = obj.bindings ?? []
  if (!bindings.length) return obj.sql
  let i = 0
  return obj.sql.replace(/\\?\?/g, (match) => {
    if (match === '\\?') return '?'
    return i < bindings.length ? client._escapeBinding(bindings[i++], {}) : match
  })
}

/** The statement as recorded: with its values when they could be inlined, else as sent. */
function sqlText(obj: QueryObject): string {
  return statementText.get(obj) ?? obj.sql
}

/** Remembers each statement's text with values before the base client rewrites it. */
function rememberText(client: KnexClient, param: QueryObject | string): QueryObject {
  const obj = typeof param === 'string' ? { sql: param } : param
  try {
    statementText.set(obj, withBindings(client, obj))
  } catch {
    // a value the dialect cannot inline: the statement is recorded as sent
  }
  return obj
}

/**
 * The knex a real run uses: records each write after it succeeds and the statement that failed. On SQLite
 * its outer transaction starts with BEGIN IMMEDIATE (as every Gantry SQLite transaction does,
 * src/db/sqlite-client.ts), which takes the write lock, the migration lock, at once.
 */
export async function createRunKnex(db: Database): Promise<RecordingKnex> {
  const recorder = createRecorder()
  const Base = clientConstructor(db.knex) as unknown as ClientClass
  class RunClient extends Base {
    override query(conn: unknown, param: QueryObject | string): Promise<unknown> {
      return super.query(conn, rememberText(this, param))
    }

    override async _query(conn: unknown, obj: QueryObject): Promise<unknown> {
      let result: unknown
      try {
        result = await super._query(conn, obj)
      } catch (err) {
        if (recorder.active) recorder.failedStatement = sqlText(obj)
        throw err
      }
      if (recorder.active && !CONTROL.test(obj.sql)) {
        if (isRead(obj.sql)) recorder.reads.push(sqlText(obj))
        else {
          recorder.statements.push(sqlText(obj))
          await recorder.onStatement?.(recorder.statements)
        }
      }
      return result
    }
  }
  const knex = await db.derive({ client: RunClient })
  return { knex, recorder, destroy: () => knex.destroy() }
}

/** A fake answer to a write the dry run does not execute, in each driver's shape. */
function fakeResponse(db: Database, obj: QueryObject): void {
  if (db.dialect === 'mysql') obj.response = [{ affectedRows: 0, insertId: 0 }, []]
  else if (db.dialect === 'postgres') obj.response = { rows: [], rowCount: 0, command: 'UPDATE' }
  else {
    obj.response = { changes: 0, lastInsertRowid: 0 }
    obj.context = { lastID: 0, changes: 0 }
  }
}

/**
 * Makes a dry-run connection unable to write, whatever a statement looks like: a "read" such as
 * `WITH d AS (DELETE …) SELECT …` or `SELECT setval(…)` is refused by the database itself.
 */
async function readOnlySession(db: Database, conn: any): Promise<void> {
  if (db.dialect === 'sqlite') {
    conn.pragma('query_only = ON')
    return
  }
  const sql = db.dialect === 'postgres' ? 'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY' : 'SET SESSION TRANSACTION READ ONLY'
  await new Promise<void>((resolve, reject) => conn.query(sql, (err: Error | null) => (err ? reject(err) : resolve())))
}

/**
 * The knex a dry run uses: statements that look like reads reach the database on a read-only session,
 * writes are recorded and never executed.
 */
export async function createDryKnex(db: Database): Promise<RecordingKnex> {
  const recorder = createRecorder()
  const Base = clientConstructor(db.knex) as unknown as ClientClass
  class DryClient extends Base {
    override query(conn: unknown, param: QueryObject | string): Promise<unknown> {
      return super.query(conn, rememberText(this, param))
    }

    override async _query(conn: unknown, obj: QueryObject): Promise<unknown> {
      if (isRead(obj.sql)) {
        if (recorder.active) recorder.reads.push(sqlText(obj))
        return super._query(conn, obj)
      }
      if (recorder.active && !CONTROL.test(obj.sql)) recorder.statements.push(sqlText(obj))
      fakeResponse(db, obj)
      return obj
    }
  }
  const knex = await db.derive({ client: DryClient, onConnect: (conn) => readOnlySession(db, conn) })
  return { knex, recorder, destroy: () => knex.destroy() }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
