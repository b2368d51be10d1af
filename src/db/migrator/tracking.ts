import { hostname } from 'node:os'
import type { Knex } from 'knex'
import type { Dialect } from '../url.js'
import type { MigrationSet } from './types.js'

/** Gantry's own tracking table; the app's is the workspace's `migrations.tableName` (knex_migrations). */
export const GANTRY_TABLE = 'gantry_migrations'
export const RUNS_TABLE = 'gantry_migration_runs'
export const LOCK_TABLE = 'gantry_migration_lock'

/** A row of a tracking table, in knex's own format. */
export interface AppliedRow {
  readonly id: number
  readonly name: string
  readonly batch: number
  readonly migration_time: unknown
}

export type RunDirection = 'up' | 'down' | 'resolve'
export type RunStatus = 'running' | 'done' | 'failed' | 'partial' | 'adopted' | 'resolved-applied' | 'resolved-rolled-back'

/** A row of gantry_migration_runs: one run of one migration. */
export interface RunRow {
  readonly id: number
  readonly migration_set: MigrationSet
  readonly name: string
  readonly direction: RunDirection
  readonly batch: number | null
  readonly checksum: string | null
  readonly status: RunStatus
  readonly statements: string | null
  readonly error: string | null
  readonly actor: string | null
  readonly host: string | null
  readonly pid: number | null
  readonly started_at: unknown
  readonly finished_at: unknown
  readonly duration_ms: number | null
}

export type NewRun = Pick<RunRow, 'migration_set' | 'name' | 'direction' | 'batch' | 'checksum' | 'status'> &
  Partial<Pick<RunRow, 'statements' | 'error' | 'finished_at' | 'duration_ms'>> & { readonly actor: string }

/** Creates the tracking tables that do not exist yet; called under the migration lock. */
export async function ensureTables(k: Knex, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    if (await k.schema.hasTable(table)) continue
    // knex's own format, so the knex CLI keeps working on the same table.
    await k.schema.createTable(table, (t) => {
      t.increments()
      t.string('name')
      t.integer('batch')
      t.timestamp('migration_time')
    })
  }
  if (!(await k.schema.hasTable(RUNS_TABLE))) {
    await k.schema.createTable(RUNS_TABLE, (t) => {
      t.increments()
      t.string('migration_set', 16).notNullable()
      t.string('name', 255).notNullable()
      t.string('direction', 16).notNullable()
      t.integer('batch').nullable()
      t.string('checksum', 64).nullable()
      t.string('status', 32).notNullable()
      t.text('statements', 'longtext').nullable()
      t.text('error').nullable()
      t.string('actor', 255).nullable()
      t.string('host', 255).nullable()
      t.integer('pid').nullable()
      t.timestamp('started_at').nullable()
      t.timestamp('finished_at').nullable()
      t.integer('duration_ms').nullable()
      t.index(['migration_set', 'name'])
    })
  }
}

/** The rows of a tracking table in the order they were applied (none when it does not exist yet). */
export async function readApplied(k: Knex, table: string): Promise<AppliedRow[]> {
  if (!(await k.schema.hasTable(table))) return []
  const rows = await k<AppliedRow>(table).select('id', 'name', 'batch', 'migration_time').orderBy('id')
  return rows.map((r) => ({ ...r, id: Number(r.id), batch: Number(r.batch) }))
}

/** Every recorded run, oldest first (none before the first run). */
export async function readRuns(k: Knex): Promise<RunRow[]> {
  if (!(await k.schema.hasTable(RUNS_TABLE))) return []
  const rows = await k<RunRow>(RUNS_TABLE).select('*').orderBy('id')
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

/** Records the start (or the whole) of a run; returns its id. */
export async function insertRun(k: Knex, dialect: Dialect, run: NewRun): Promise<number> {
  const row = { ...run, host: hostname(), pid: process.pid, started_at: new Date() }
  const result: unknown[] = dialect === 'postgres' ? await k(RUNS_TABLE).insert(row, ['id']) : await k(RUNS_TABLE).insert(row)
  const first = result[0]
  return Number(typeof first === 'object' && first !== null ? (first as { id: number }).id : first)
}

/** Updates a run record. */
export async function updateRun(k: Knex, id: number, patch: Partial<Omit<RunRow, 'id'>>): Promise<void> {
  await k(RUNS_TABLE).where({ id }).update(patch)
}

/** Marks a migration applied in its tracking table. */
export async function insertApplied(k: Knex, table: string, name: string, batch: number): Promise<void> {
  await k(table).insert({ name, batch, migration_time: new Date() })
}

/** Removes a migration's row from its tracking table. */
export async function deleteApplied(k: Knex, table: string, id: number): Promise<void> {
  await k(table).where({ id }).delete()
}

/** The next batch number of a tracking table. */
export function nextBatch(applied: readonly AppliedRow[]): number {
  return applied.reduce((max, r) => Math.max(max, r.batch), 0) + 1
}

/**
 * The name to write for a file, in the style the table already uses: Gantry's set always bare; the app's
 * with the file's extension when its rows have one or it is empty (like knex), bare when its rows are bare.
 */
export function nameToWrite(set: MigrationSet, fileName: string, bare: string, applied: readonly AppliedRow[]): string {
  if (set === 'gantry') return bare
  if (applied.length === 0) return fileName
  return applied.some((r) => /\.(c|m)?(j|t)s$/.test(r.name)) ? fileName : bare
}

/** Whether the knex CLI's `<table>_lock` row says a knex run holds its lock. */
export async function knexLocked(k: Knex, table: string): Promise<boolean> {
  const lockTable = `${table}_lock`
  if (!(await k.schema.hasTable(lockTable))) return false
  const rows = await k(lockTable).where('is_locked', 1).select('is_locked')
  return rows.length > 0
}

/** Clears the knex CLI's lock row; returns whether it was set. */
export async function clearKnexLock(k: Knex, table: string): Promise<boolean> {
  const lockTable = `${table}_lock`
  if (!(await k.schema.hasTable(lockTable))) return false
  const changed = await k(lockTable).where('is_locked', 1).update({ is_locked: 0 })
  return Number(changed) > 0
}

/** A stored time (Date, epoch ms on SQLite, or text) as ISO 8601. */
export function isoTime(value: unknown): string | null {
  if (value === null || value === undefined) return null
  const date = value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : (value as string | number))
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString()
}
