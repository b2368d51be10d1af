/**
 * Runs one migration up or down, per dialect (DESIGN.md): PostgreSQL in its own transaction with its run
 * record; SQLite in a savepoint of the run's transaction, checked with foreign_key_check; MySQL/MariaDB,
 * where DDL commits implicitly, behind a committed 'running' record that lists each statement as it runs.
 */
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { driverMessage } from '../errors.js'
import type { RecordingKnex } from './clients.js'
import { loadMigration, type MigrationFile } from './source.js'
import { deleteApplied, insertApplied, insertRun, updateRun, type AppliedRow, type RunStatus } from './tracking.js'
import type { MigrationRun } from './types.js'

/** Everything a step needs: the database, the recording knex, and `k`, the knex for tracking writes. */
export interface RunContext {
  readonly db: Database
  readonly run: RecordingKnex
  /** On SQLite the run's transaction; elsewhere the database's own knex. */
  readonly k: Knex
  readonly actor: string
}

/** One migration to run: up (recorded as `writeName`) or down (removing `row`). */
export type Step =
  | { readonly direction: 'up'; readonly file: MigrationFile; readonly table: string; readonly batch: number; readonly writeName: string }
  | { readonly direction: 'down'; readonly file: MigrationFile; readonly table: string; readonly batch: number; readonly row: AppliedRow }

/** A step's outcome: its run, or the error that stopped it (the caller decides when to throw). */
export type StepOutcome = { readonly ok: true; readonly run: MigrationRun } | { readonly ok: false; readonly error: GantryError }

/** Runs one step and records it; never throws for a failing migration. */
export async function runStep(ctx: RunContext, step: Step): Promise<StepOutcome> {
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
  const migration = await loadMigration(step.file)
  const body = async (k: Knex): Promise<void> => {
    const orphansBefore = ctx.db.dialect === 'sqlite' ? await danglingRows(k) : undefined
    ctx.run.recorder.start()
    await migration[step.direction](k)
    ctx.run.recorder.stop()
    if (orphansBefore) await foreignKeyCheck(k, orphansBefore)
  }
  try {
    if (ctx.db.dialect === 'mysql') {
      const id = await insertRun(ctx.k, 'mysql', { ...base, status: 'running', statements: '[]' })
      try {
        ctx.run.recorder.start((statements) => updateRun(ctx.k, id, { statements: JSON.stringify(statements) }))
        await migration[step.direction](ctx.run.knex)
        ctx.run.recorder.stop()
      } catch (err) {
        ctx.run.recorder.stop()
        const partial = ctx.run.recorder.statements.length > 0
        await updateRun(ctx.k, id, finished(partial ? 'partial' : 'failed', { error: describe(err) }))
        return { ok: false, error: partial ? partialError(step.file, ctx.run.recorder.statements, err) : failedError(ctx, step, err) }
      }
      await track(ctx.k)
      await updateRun(ctx.k, id, finished('done'))
    } else {
      // PostgreSQL: its own transaction on the recording knex; SQLite: a savepoint of the run's transaction.
      const runner = ctx.db.dialect === 'postgres' ? ctx.run.knex : ctx.k
      await runner.transaction(async (trx) => {
        await body(trx)
        await track(trx)
        await insertRun(trx, ctx.db.dialect, { ...base, ...finished('done') })
      })
    }
  } catch (err) {
    ctx.run.recorder.stop()
    await insertRun(ctx.k, ctx.db.dialect, { ...base, ...finished('failed', { error: describe(err) }) })
    return { ok: false, error: err instanceof GantryError ? err : failedError(ctx, step, err) }
  }
  return { ok: true, run: { set: step.file.set, name: step.file.name, durationMs: Math.round(performance.now() - started) } }
}

interface DanglingRow {
  table: string
  rowid: number | null
  parent: string
  fkid: number
}

/** SQLite's rows that point to no row, keyed so two checks can be compared. */
async function danglingRows(k: Knex): Promise<Map<string, DanglingRow>> {
  const rows = (await k.raw('PRAGMA foreign_key_check')) as DanglingRow[]
  return new Map(rows.map((r) => [`${r.table}\u0000${r.rowid}\u0000${r.parent}\u0000${r.fkid}`, r]))
}

/**
 * SQLite with foreign keys off: refuse a migration that left rows pointing nowhere. Rows that already
 * pointed nowhere before it ran are not its doing and do not block it.
 */
async function foreignKeyCheck(k: Knex, before: Map<string, DanglingRow>): Promise<void> {
  const created = [...(await danglingRows(k)).entries()].filter(([key]) => !before.has(key)).map(([, row]) => row)
  if (created.length === 0) return
  const tables = [...new Set(created.map((r) => `${r.table} -> ${r.parent}`))].join(', ')
  throw new Error(`foreign key check failed: ${created.length} row(s) in ${tables} point to no row`)
}

function describe(err: unknown): string {
  return err instanceof Error ? driverMessage(err.message) : String(err)
}

function failedError(ctx: RunContext, step: Step, err: unknown): GantryError {
  const statement = ctx.run.recorder.failedStatement
  const at = statement ? ` at statement: ${statement}` : ''
  const what = step.direction === 'up' ? 'Migration' : 'Rollback of migration'
  return new GantryError('MIGRATION_FAILED', `${what} ${step.file.set}/${step.file.fileName} failed${at}: ${describe(err)}`, {
    cause: err,
    hint:
      ctx.db.dialect === 'mysql'
        ? 'No statement of it ran: fix the migration and run it again.'
        : 'It was rolled back whole: fix the migration and run it again.',
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
