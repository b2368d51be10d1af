/**
 * Runs one migration up or down, per dialect (DESIGN.md): PostgreSQL in its own transaction with its run
 * record; SQLite in a savepoint of the run's transaction, checked with foreign_key_check; MySQL/MariaDB,
 * where DDL commits implicitly, behind a committed 'running' record that lists each statement as it runs.
 * A PostgreSQL migration that opts out of transactions (knex's `config.transaction = false`, for statements
 * such as CREATE INDEX CONCURRENTLY) runs the MySQL way, so a failure part way is recorded as partial. On
 * SQLite the run's write transaction is the migration lock, so such a migration still runs in a savepoint.
 * In batch mode every migration runs in a savepoint of the batch's one transaction instead.
 */
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { driverMessage } from '../errors.js'
import type { RecordingKnex } from './clients.js'
import type { MigrationFile, MigrationModule } from './source.js'
import { deleteApplied, insertApplied, insertRun, updateRun, type AppliedRow, type NewRun, type RunStatus } from './tracking.js'
import type { MigrationRun } from './types.js'

/** Everything a step needs: the database, the recording knex, and `k`, the knex for tracking writes. */
export interface RunContext {
  readonly db: Database
  readonly run: RecordingKnex
  /** On SQLite the run's transaction; elsewhere the database's own knex. */
  readonly k: Knex
  readonly actor: string
  /** In batch mode, the batch's transaction: each migration runs in a savepoint of it. */
  readonly batch?: Knex | undefined
}

/** One migration to run: up (recorded as `writeName`) or down (removing `row`). */
export type Step =
  | { readonly direction: 'up'; readonly file: MigrationFile; readonly table: string; readonly batch: number; readonly writeName: string }
  | { readonly direction: 'down'; readonly file: MigrationFile; readonly table: string; readonly batch: number; readonly row: AppliedRow }

/** How a step failed: the error, the statement that failed, the statements of it that ran before that one. */
export interface StepFailure {
  readonly error: GantryError
  readonly statement: string | null
  readonly ran: readonly string[]
  /** The statements in `ran` stay committed (it ran outside a transaction). */
  readonly partial: boolean
  /**
   * The failed run's record when it is the caller's to write: a transaction's record is written once that
   * transaction is gone (in batch mode, the batch's), or it would be rolled back with it.
   */
  readonly record: NewRun | undefined
}

/** A step's outcome: its run, or how it failed (the caller decides when to throw). */
export type StepOutcome = { readonly ok: true; readonly run: MigrationRun } | { readonly ok: false; readonly failure: StepFailure }

/** Whether a migration runs outside any transaction here: MySQL/MariaDB always, PostgreSQL when it opts out. */
export function runsOutsideTransaction(dialect: Database['dialect'], migration: MigrationModule): boolean {
  return dialect === 'mysql' || (dialect === 'postgres' && !migration.transactional)
}

/** Runs one loaded step and records it; never throws for a failing migration. */
export async function runStep(ctx: RunContext, step: Step, migration: MigrationModule): Promise<StepOutcome> {
  const started = performance.now()
  const base = {
    migration_set: step.file.set,
    name: step.file.name,
    direction: step.direction,
    batch: step.batch,
    checksum: step.file.checksum,
    actor: ctx.actor,
  }
  const finished = (status: RunStatus, extra: { error?: string } = {}) => ({
    status,
    statements: JSON.stringify(ctx.run.recorder.statements),
    finished_at: new Date(),
    duration_ms: Math.round(performance.now() - started),
    ...extra,
  })
  const track = async (k: Knex): Promise<void> => {
    if (step.direction === 'up') await insertApplied(k, step.table, step.writeName, step.batch)
    else await deleteApplied(k, step.table, step.row.id)
  }
  const body = async (k: Knex): Promise<void> => {
    const orphansBefore = ctx.db.dialect === 'sqlite' ? (danglingAfterLastStep.get(ctx.k) ?? (await danglingRows(k))) : undefined
    danglingAfterLastStep.delete(ctx.k)
    ctx.run.recorder.start()
    await migration[step.direction](k)
    ctx.run.recorder.stop()
    if (orphansBefore) afterThisStep = await foreignKeyCheck(k, orphansBefore)
  }
  let afterThisStep: Map<string, DanglingRow> | undefined
  const outside = runsOutsideTransaction(ctx.db.dialect, migration)
  const failure = (error: GantryError, partial: boolean, record?: NewRun): StepOutcome => ({
    ok: false,
    failure: { error, statement: ctx.run.recorder.failedStatement ?? null, ran: [...ctx.run.recorder.statements], partial, record },
  })
  try {
    if (outside) {
      const id = await insertRun(ctx.k, ctx.db.dialect, { ...base, status: 'running', statements: '[]' })
      try {
        ctx.run.recorder.start((statements) => updateRun(ctx.k, id, { statements: JSON.stringify(statements) }))
        await migration[step.direction](ctx.run.knex)
        ctx.run.recorder.stop()
      } catch (err) {
        ctx.run.recorder.stop()
        const partial = ctx.run.recorder.statements.length > 0
        await updateRun(ctx.k, id, finished(partial ? 'partial' : 'failed', { error: describe(err) }))
        return failure(partial ? partialError(step.file, ctx.run.recorder.statements, err) : failedError(ctx, step, err, outside), partial)
      }
      await track(ctx.k)
      await updateRun(ctx.k, id, finished('done'))
    } else {
      // PostgreSQL: its own transaction on the recording knex; SQLite: a savepoint of the run's transaction;
      // batch mode: a savepoint of the batch's transaction.
      const runner = ctx.batch ?? (ctx.db.dialect === 'postgres' ? ctx.run.knex : ctx.k)
      await runner.transaction(async (trx) => {
        await body(trx)
        await track(trx)
        await insertRun(trx, ctx.db.dialect, { ...base, ...finished('done') })
      })
      if (afterThisStep) danglingAfterLastStep.set(ctx.k, afterThisStep)
    }
  } catch (err) {
    ctx.run.recorder.stop()
    const error = err instanceof GantryError ? err : failedError(ctx, step, err, outside)
    return failure(error, false, { ...base, ...finished('failed', { error: describe(err) }) })
  }
  return { ok: true, run: { set: step.file.set, name: step.file.name, durationMs: Math.round(performance.now() - started) } }
}

interface DanglingRow {
  table: string
  rowid: number | null
  parent: string
  fkid: number
}

/**
 * SQLite: the dangling rows a committed step left, by the run's transaction. The next step of the run starts
 * from exactly that state (only tracking rows are written in between), so it reuses the set instead of
 * scanning every foreign key again: one check per migration instead of two. A failed step leaves none.
 */
const danglingAfterLastStep = new WeakMap<Knex, Map<string, DanglingRow>>()

/** SQLite's rows that point to no row, keyed so two checks can be compared. */
async function danglingRows(k: Knex): Promise<Map<string, DanglingRow>> {
  const rows = (await k.raw('PRAGMA foreign_key_check')) as DanglingRow[]
  return new Map(rows.map((r) => [`${r.table}\u0000${r.rowid}\u0000${r.parent}\u0000${r.fkid}`, r]))
}

/**
 * SQLite with foreign keys off: refuse a migration that left rows pointing nowhere. Rows that already
 * pointed nowhere before it ran are not its doing and do not block it. Returns the rows pointing nowhere now.
 */
async function foreignKeyCheck(k: Knex, before: Map<string, DanglingRow>): Promise<Map<string, DanglingRow>> {
  const after = await danglingRows(k)
  const created = [...after.entries()].filter(([key]) => !before.has(key)).map(([, row]) => row)
  if (created.length === 0) return after
  const tables = [...new Set(created.map((r) => `${r.table} -> ${r.parent}`))].join(', ')
  throw new Error(`foreign key check failed: ${created.length} row(s) in ${tables} point to no row`)
}

function describe(err: unknown): string {
  return err instanceof Error ? driverMessage(err.message) : String(err)
}

function failedError(ctx: RunContext, step: Step, err: unknown, outside: boolean): GantryError {
  const statement = ctx.run.recorder.failedStatement
  const at = statement ? ` at statement: ${statement}` : ''
  const what = step.direction === 'up' ? 'Migration' : 'Rollback of migration'
  return new GantryError('MIGRATION_FAILED', `${what} ${step.file.set}/${step.file.fileName} failed${at}: ${describe(err)}`, {
    cause: err,
    hint: outside ? 'No statement of it ran: fix the migration and run it again.' : 'It was rolled back whole: fix the migration and run it again.',
    details: { set: step.file.set, name: step.file.name, statement: statement ?? null },
  })
}

/** The error for a partial migration, with the statements that ran and the exact way out. */
export function partialError(file: Pick<MigrationFile, 'set' | 'name'>, statements: readonly string[], cause?: unknown): GantryError {
  const ran = statements.length ? statements.map((s) => `  ${s}`).join('\n') : '  (none recorded)'
  const why = cause === undefined ? '' : ` (${describe(cause)})`
  return new GantryError(
    'MIGRATION_PARTIAL',
    `Migration ${file.set}/${file.name} is partial${why}; these statements ran:\n${ran}\nFix the schema by hand, then \`gantry migrate resolve ${file.name} --applied\` or \`--rolled-back\`.`,
    {
      cause,
      hint: `gantry migrate resolve ${file.name} --applied (or --rolled-back) once the schema is fixed by hand.`,
      details: { set: file.set, name: file.name, statements },
    },
  )
}
