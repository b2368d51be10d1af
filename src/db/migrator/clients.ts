/**
 * Derived knex clients (TOOLCHAIN §9): subclasses of the database's own client class, because knex builds
 * transaction clients from the prototype and patching an instance would miss them.
 */
import type { Knex } from 'knex'
import type { Database } from '../connect.js'
import { knexConfig } from '../connect.js'
import { clientConstructor } from './lock.js'

/** What a migration run sends to the database, as it goes. */
export interface Recorder {
  /** Statements are recorded only while active (around a migration's up/down). */
  active: boolean
  /** The writes that succeeded (reads and transaction control are left out). */
  statements: string[]
  /** Whether a read passed through (the migration looked at the schema). */
  readSeen: boolean
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
    readSeen: false,
    failedStatement: undefined,
    onStatement: undefined,
    start(onStatement) {
      this.active = true
      this.statements = []
      this.readSeen = false
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
type ClientClass = new (config: Knex.Config) => { _query(conn: unknown, obj: QueryObject): Promise<unknown>; _formatQuery(sql: string, bindings: unknown): string }

function sqlText(client: { _formatQuery(sql: string, bindings: unknown): string }, obj: QueryObject): string {
  try {
    return obj.bindings?.length ? client._formatQuery(obj.sql, obj.bindings) : obj.sql
  } catch {
    return obj.sql
  }
}

async function derivedKnex(db: Database, Client: any): Promise<Knex> {
  const { default: knex } = await import('knex')
  return knex({ ...knexConfig(db.target), client: Client })
}

/**
 * The knex a real run uses: records each write after it succeeds and the statement that failed; on SQLite
 * its outer transaction starts with BEGIN IMMEDIATE, which takes the write lock (the migration lock) at once.
 */
export async function createRunKnex(db: Database): Promise<RecordingKnex> {
  const recorder = createRecorder()
  const Base = clientConstructor(db.knex) as unknown as ClientClass
  const sqlite = db.dialect === 'sqlite'
  class RunClient extends Base {
    override async _query(conn: unknown, obj: QueryObject): Promise<unknown> {
      if (sqlite && /^BEGIN;?$/i.test(obj.sql.trim())) obj.sql = 'BEGIN IMMEDIATE;'
      let result: unknown
      try {
        result = await super._query(conn, obj)
      } catch (err) {
        if (recorder.active) recorder.failedStatement = sqlText(this, obj)
        throw err
      }
      if (recorder.active && !CONTROL.test(obj.sql)) {
        if (isRead(obj.sql)) recorder.readSeen = true
        else {
          recorder.statements.push(sqlText(this, obj))
          await recorder.onStatement?.(recorder.statements)
        }
      }
      return result
    }
  }
  const knex = await derivedKnex(db, RunClient)
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

/** The knex a dry run uses: reads pass through to the database, writes are recorded and never executed. */
export async function createDryKnex(db: Database): Promise<RecordingKnex> {
  const recorder = createRecorder()
  const Base = clientConstructor(db.knex) as unknown as ClientClass
  class DryClient extends Base {
    override async _query(conn: unknown, obj: QueryObject): Promise<unknown> {
      if (isRead(obj.sql)) {
        if (recorder.active) recorder.readSeen = true
        return super._query(conn, obj)
      }
      if (recorder.active && !CONTROL.test(obj.sql)) recorder.statements.push(sqlText(this, obj))
      fakeResponse(db, obj)
      return obj
    }
  }
  const knex = await derivedKnex(db, DryClient)
  return { knex, recorder, destroy: () => knex.destroy() }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
