/**
 * The dry run: the batch runs for real on a sandbox (sandbox.ts), each statement recorded as it goes, so a
 * migration that alters what an earlier pending one creates is previewed with the SQL it will send. Only
 * when no sandbox can be had does each file get previewed alone against today's schema (dry-run.ts).
 */
import { GantryError, isGantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { driverMessage } from '../errors.js'
import { createRunKnex } from './clients.js'
import { previewPerFile } from './dry-run.js'
import { openSandbox, type Sandbox } from './sandbox.js'
import { bareName, loadMigration, type MigrationFile } from './source.js'
import type { SetSnapshot } from './status.js'
import type { MigrationPreview, PreviewMode } from './types.js'

/** One migration to preview, and which way. */
export interface PreviewItem {
  readonly file: MigrationFile
  readonly direction: 'up' | 'down'
}

/** How a dry run behaves. */
export interface PreviewOptions {
  /** Also list Gantry's own migrations (they run in the preview either way; one that fails is always listed). */
  readonly includeGantry?: boolean | undefined
  /** migrations.shadowDatabase, its variables resolved: the URL of a database the dry run may empty (not on SQLite). */
  readonly shadowDatabase?: string | undefined
}

/** What a dry run found: where it ran, and each migration's SQL or why it could not be previewed. */
export interface PreviewOutcome {
  /** Absent when there was nothing to preview. */
  readonly preview?: PreviewMode
  readonly dryRun: MigrationPreview[]
}

/**
 * Reads of the schema itself (knex's hasTable, hasColumn, columnInfo, SQLite's table rebuilds): exact on a
 * shadow database, unlike reads of rows, which a shadow does not have.
 */
const SCHEMA_READ = /\b(information_schema|pg_catalog|pg_\w+|sqlite_master|sqlite_schema)\b|^\s*(pragma|show|describe|desc)\b/i

/**
 * Previews `items` (the pending batch, or the downs of a rollback) on `db`. `sets` is what the target has
 * applied: a shadow database gets it first, by running those migrations up (not recorded).
 */
export async function previewBatch(
  db: Database,
  sets: readonly SetSnapshot[],
  items: readonly PreviewItem[],
  options: PreviewOptions = {},
): Promise<PreviewOutcome> {
  if (items.length === 0) return { dryRun: [] }
  const opened = await openSandbox(
    db,
    options.shadowDatabase,
    sets.map((s) => s.table),
  )
  let reason = 'reason' in opened ? opened.reason : undefined
  if ('sandbox' in opened) {
    const { sandbox } = opened
    try {
      const replay = sandbox.mode === 'shadow' ? await replayApplied(sandbox.db, sets) : { notes: [] }
      if (replay.failed === undefined) {
        const dryRun = await runRecorded(sandbox, items)
        const note = replay.notes.length > 0 ? { reason: replay.notes.join('; ') } : {}
        return { preview: { mode: sandbox.mode, on: sandbox.on, ...note }, dryRun: listed(dryRun, options) }
      }
      reason = `the shadow database could not be given the target's schema: replaying ${replay.failed}`
    } finally {
      await sandbox.dispose()
    }
  }
  const dryRun = await previewPerFile(db, items)
  return { preview: { mode: 'per-file', on: db.target.display, ...(reason ? { reason } : {}) }, dryRun: listed(dryRun, options) }
}

/** Gantry's own migrations are listed on request, or when they could not be previewed. */
function listed(previews: MigrationPreview[], options: PreviewOptions): MigrationPreview[] {
  return previews.filter((p) => options.includeGantry || p.set !== 'gantry' || p.error !== undefined)
}

/**
 * Gives a shadow database the target's schema: each applied migration up, Gantry's first, in the order the
 * target applied them. Returns the one that failed, and notes on what could not be replayed.
 */
async function replayApplied(shadow: Database, sets: readonly SetSnapshot[]): Promise<{ failed?: string; notes: string[] }> {
  const notes: string[] = []
  const items: PreviewItem[] = []
  for (const set of sets) {
    const files = new Map(set.files.map((f) => [f.name, f]))
    const missing = []
    for (const row of set.applied) {
      const file = files.get(bareName(row.name))
      if (file) items.push({ file, direction: 'up' })
      else missing.push(`${set.set}/${bareName(row.name)}`)
    }
    if (missing.length > 0) notes.push(`applied but without a file, so not on the shadow database: ${missing.join(', ')}`)
  }
  const replayed = await runRecorded({ mode: 'shadow', db: shadow }, items)
  const failed = replayed.find((p) => p.error !== undefined)
  return failed ? { failed: `${failed.set}/${failed.name} failed: ${failed.error}`, notes } : { notes }
}

/**
 * Runs each item for real on the sandbox, recording the statements it sends, the way a real run does:
 * PostgreSQL and SQLite a transaction per migration (SQLite with foreign keys off, as around a real
 * batch), MySQL/MariaDB without one (DDL commits there). After a failure the rest is not run.
 */
async function runRecorded(sandbox: Pick<Sandbox, 'mode' | 'db'>, items: readonly PreviewItem[]): Promise<MigrationPreview[]> {
  const { db } = sandbox
  const run = await createRunKnex(db)
  try {
    if (db.dialect === 'sqlite') await run.knex.raw('PRAGMA foreign_keys = OFF')
    const previews: MigrationPreview[] = []
    let failed: string | undefined
    for (const { file, direction } of items) {
      const preview = { set: file.set, name: file.name, direction }
      if (failed) {
        previews.push({ ...preview, statements: [], approximate: false, error: `not run: ${failed} failed before it` })
        continue
      }
      const { recorder } = run
      recorder.start()
      try {
        const migration = await loadMigration(file)
        if (db.dialect === 'mysql') await migration[direction](run.knex)
        else await run.knex.transaction((trx) => migration[direction](trx))
        previews.push({ ...preview, statements: [...recorder.statements], approximate: approximate(sandbox.mode, recorder.reads) })
      } catch (err) {
        if (isGantryError(err) && err.code === 'TSX_MISSING') throw err // not this migration's fault: nothing previews
        const at = recorder.failedStatement ? ` (at: ${recorder.failedStatement})` : ''
        previews.push({ ...preview, statements: [...recorder.statements], approximate: false, error: `${driverMessage((err as Error).message)}${at}` })
        failed = `${file.set}/${file.name}`
      } finally {
        recorder.stop()
      }
    }
    return previews
  } finally {
    await run.destroy()
  }
}

/** A copy holds the target's rows; a shadow has only what its migrations wrote, so reading rows there may differ. */
function approximate(mode: Sandbox['mode'], reads: readonly string[]): boolean {
  return mode === 'shadow' && reads.some((sql) => !SCHEMA_READ.test(sql))
}

/**
 * The error a dry run ends with when a migration could not be previewed, raised after what could be was
 * printed; `details` is the whole result, so --json keeps the previews too.
 */
export function unpreviewedError(result: {
  readonly dryRun?: MigrationPreview[] | undefined
  readonly preview?: PreviewMode | undefined
}): GantryError | undefined {
  const failed = (result.dryRun ?? []).filter((p) => p.error !== undefined)
  if (failed.length === 0 || !result.preview) return undefined
  const names = failed.map((p) => `${p.set}/${p.name}`).join(', ')
  return new GantryError('MIGRATION_FAILED', `${failed.length} of ${result.dryRun?.length} migrations could not be previewed: ${names}.`, {
    details: result,
    hint:
      result.preview.mode === 'per-file'
        ? 'Set migrations.shadowDatabase, or let the database user create databases, so the batch is previewed whole: see docs/migrations.md, "Dry run".'
        : `The preview ran the batch for real on ${result.preview.mode === 'copy' ? 'a copy of the database' : 'a shadow database'}: the real run would fail the same way. Fix the migration first.`,
  })
}
