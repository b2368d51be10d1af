/**
 * Gantry's migrator (not knex's): two sets, Gantry's own schema then the app's, each in a knex-format
 * tracking table, with checksums and run records in gantry_migration_runs, a session-bound lock, honest
 * partial state on MySQL/MariaDB and a dry run. See DESIGN.md "Database and migrations".
 */
import type { Knex } from 'knex'
import { GantryError } from '../../core/errors.js'
import { localActor } from '../../local-actor.js'
import type { Database } from '../connect.js'
import { createRunKnex } from './clients.js'
import { previewBatch, type PreviewOptions } from './preview.js'
import { lockHolder, withLock } from './lock.js'
import { runReport, withReport } from './report.js'
import { loadPlan, refuseBatch, runPlan, type PlannedStep } from './run-plan.js'
import { partialError, type RunContext, type Step } from './runner.js'
import { bareName, gantryMigrationsDirectory, listMigrations, type MigrationFile } from './source.js'
import { countStates, deriveEntries, recordedStatements, toInfo, type MigrationEntry, type SetSnapshot } from './status.js'
import {
  GANTRY_TABLE,
  clearKnexLock,
  deleteApplied,
  ensureTables,
  insertApplied,
  insertRun,
  knexLocked,
  nameToWrite,
  nextBatch,
  readApplied,
  readRuns,
} from './tracking.js'
import type {
  LockHolder,
  MigrationProgress,
  MigrationRun,
  MigrationSet,
  MigrationStatus,
  ResolveResult,
  RollbackResult,
  TransactionMode,
  ValidateResult,
  LatestResult,
} from './types.js'

export * from './types.js'

/** Where the migrations are and how a run behaves. */
export interface MigratorOptions {
  readonly db: Database
  /** The workspace's migrations folder and tracking table (workspace.migrations). */
  readonly appDirectory: string
  readonly appTable: string
  /** Gantry's own migrations (default: resolved from the package root). */
  readonly gantryDirectory?: string | undefined
  readonly actor?: string | undefined
  /** How long to wait for another run's lock, in seconds (default 60). */
  readonly lockTimeoutSeconds?: number | undefined
  /** Told who holds the lock before this run starts waiting for it. */
  readonly onWait?: ((holder: LockHolder | null) => void) | undefined
  /** Whether latest and rollback commit each migration on its own (default) or the whole run at once. */
  readonly transaction?: TransactionMode | undefined
  /** Told as each migration of a latest or rollback run starts and ends. */
  readonly onProgress?: ((event: MigrationProgress) => void) | undefined
}

/** Which migrations `rollback` undoes: the last batch (default), the last N, all after NAME, or all. */
export interface LatestOptions {
  readonly dryRun?: boolean | undefined
  readonly preview?: PreviewOptions | undefined
  /**
   * Runs under the lock once the pending migrations are known and loaded, before the first one runs, and
   * only when there is one: `migrate latest --backup` takes its backup here, so no other run can change
   * the schema between the copy and the migrations.
   */
  readonly beforeRun?: ((pending: readonly MigrationFile[]) => Promise<void>) | undefined
}

export interface RollbackOptions {
  readonly step?: number | undefined
  readonly to?: string | undefined
  readonly all?: boolean | undefined
  readonly dryRun?: boolean | undefined
  readonly preview?: PreviewOptions | undefined
}

/** One migration a rollback would undo, and the batch it was applied in. */
export interface PlannedRollback {
  readonly set: MigrationSet
  readonly name: string
  readonly batch: number
}

export interface Migrator {
  status(): Promise<MigrationStatus>
  latest(options?: LatestOptions): Promise<LatestResult>
  rollback(options?: RollbackOptions): Promise<RollbackResult>
  /** What `rollback` with these options would undo, in undo order; reads only (a protected environment lists it before asking). */
  planRollback(options?: RollbackOptions): Promise<PlannedRollback[]>
  validate(): Promise<ValidateResult>
  resolve(name: string, outcome: 'applied' | 'rolled-back'): Promise<ResolveResult>
  /** Clears the knex CLI's `<table>_lock` row; returns whether it was set. */
  unlockKnex(): Promise<{ cleared: boolean }>
}

/** Builds the migrator of one database. */
export function createMigrator(options: MigratorOptions): Migrator {
  const { db, appTable } = options
  const actor = options.actor ?? localActor()
  const lockOptions = { timeoutSeconds: options.lockTimeoutSeconds ?? 60, actor, onWait: options.onWait }
  const tableOf = (set: MigrationFile['set']): string => (set === 'gantry' ? GANTRY_TABLE : appTable)
  const mode = options.transaction ?? 'each'

  const snapshot = async (k: Knex): Promise<SetSnapshot[]> => [
    {
      set: 'gantry',
      table: GANTRY_TABLE,
      files: listMigrations('gantry', options.gantryDirectory ?? gantryMigrationsDirectory()),
      applied: await readApplied(k, GANTRY_TABLE),
    },
    { set: 'app', table: appTable, files: listMigrations('app', options.appDirectory), applied: await readApplied(k, appTable) },
  ]
  /** `otherRunActive`: another run holds the lock, so its 'running' records are live, not partial. */
  const entriesOf = async (k: Knex, otherRunActive: boolean): Promise<{ sets: SetSnapshot[]; entries: MigrationEntry[] }> => {
    const sets = await snapshot(k)
    return { sets, entries: deriveEntries(sets, await readRuns(k), otherRunActive) }
  }

  /** Runs `work` under the lock with the tracking tables in place and a recording knex. */
  const locked = async <T>(work: (ctx: RunContext) => Promise<T>): Promise<T> => {
    const run = await createRunKnex(db)
    try {
      return await withLock(db, run.knex, lockOptions, async (k) => {
        await ensureTables(k, [GANTRY_TABLE, appTable])
        return work({ db, run, k, actor })
      })
    } finally {
      await run.destroy()
    }
  }

  const pendingOf = (entries: readonly MigrationEntry[]) => entries.filter((e) => e.file && (e.state === 'pending' || e.state === 'failed'))

  /** The steps with their migrations loaded, refused before anything runs when the mode cannot hold them. */
  const plan = async (steps: readonly Step[]): Promise<PlannedStep[]> => {
    const planned = await loadPlan(steps)
    refuseBatch(db.dialect, mode, planned)
    return planned
  }

  /**
   * Runs the planned steps in the run's transaction mode. A failure comes back as its error carrying the
   * run's report; `rerun(kept)` names the command that goes on once `kept` steps stay done.
   */
  const execute = async (
    ctx: RunContext,
    planned: readonly PlannedStep[],
    rerun: (kept: number) => string,
  ): Promise<{ runs: MigrationRun[]; failure?: GantryError }> => {
    const { runs, failure } = await runPlan(ctx, planned, mode, options.onProgress)
    if (!failure) return { runs }
    const last = (await readApplied(ctx.k, failure.step.table)).at(-1)
    const report = runReport({ mode, runs, failure, last, rerun: rerun(mode === 'each' ? runs.length : 0) })
    return { runs, failure: withReport(failure.error, report) }
  }

  return {
    async status() {
      const holder = await lockHolder(db)
      const { entries } = await entriesOf(db.knex, holder !== null)
      const migrations = entries.map(toInfo)
      return { dialect: db.dialect, tableName: appTable, migrations, pending: pendingOf(entries).length, counts: countStates(migrations), lock: holder }
    },

    async latest(latestOptions = {}) {
      if (latestOptions.dryRun) {
        const { sets, entries } = await entriesOf(db.knex, false)
        refuseBlocked(entries)
        const pending = pendingOf(entries).map((e) => ({ file: e.file!, direction: 'up' as const }))
        return { applied: [], batch: { gantry: null, app: null }, ...(await previewBatch(db, sets, pending, latestOptions.preview)) }
      }
      refuseBatch(db.dialect, mode)
      if (await knexLocked(db.knex, appTable)) {
        throw new GantryError('MIGRATION_KNEX_LOCKED', `The knex CLI's lock row in ${appTable}_lock is set: a knex migration run holds it, or one was killed.`)
      }
      const outcome = await locked(async (ctx) => {
        const { sets, entries } = await entriesOf(ctx.k, false)
        refuseBlocked(entries)
        const batch: LatestResult['batch'] = { gantry: null, app: null }
        const steps: Step[] = []
        for (const snapshot of sets) {
          const pending = pendingOf(entries).filter((e) => e.set === snapshot.set)
          if (pending.length === 0) continue
          const number = nextBatch(snapshot.applied)
          batch[snapshot.set] = number
          for (const { file } of pending) {
            const writeName = nameToWrite(snapshot.set, file!.fileName, file!.name, snapshot.applied)
            steps.push({ direction: 'up', file: file!, table: snapshot.table, batch: number, writeName })
          }
        }
        const planned = await plan(steps)
        if (steps.length > 0) await latestOptions.beforeRun?.(steps.map((s) => s.file))
        await adopt(ctx, entries)
        return { batch, ...(await execute(ctx, planned, () => 'gantry migrate latest')) }
      })
      if (outcome.failure) throw outcome.failure
      return { applied: outcome.runs, batch: outcome.batch }
    },

    async rollback(rollbackOptions = {}) {
      if (rollbackOptions.dryRun) {
        const { sets, entries } = await entriesOf(db.knex, false)
        const steps = planRollback(sets[1]!, entries, rollbackOptions).map((s) => ({ file: s.file, direction: 'down' as const }))
        return { rolledBack: [], ...(await previewBatch(db, sets, steps, rollbackOptions.preview)) }
      }
      refuseBatch(db.dialect, mode)
      const outcome = await locked(async (ctx) => {
        const { sets, entries } = await entriesOf(ctx.k, false)
        const planned = await plan(planRollback(sets[1]!, entries, rollbackOptions))
        return execute(ctx, planned, (kept) => rerunRollback(rollbackOptions, kept))
      })
      if (outcome.failure) throw outcome.failure
      return { rolledBack: outcome.runs }
    },

    async planRollback(rollbackOptions = {}) {
      const { sets, entries } = await entriesOf(db.knex, false)
      return planRollback(sets[1]!, entries, rollbackOptions).map((s) => ({ set: s.file.set, name: s.file.name, batch: s.batch }))
    },

    async validate() {
      const status = await this.status()
      const names = (state: string) => status.migrations.filter((m) => m.state === state).map((m) => `${m.set}/${m.name}`)
      const modified = names('modified')
      const partial = names('partial')
      return { ok: modified.length === 0 && partial.length === 0, modified, partial, missing: names('missing') }
    },

    async resolve(name, outcome) {
      return locked(async (ctx) => {
        const { sets, entries } = await entriesOf(ctx.k, false)
        const wanted = bareName(name)
        const entry = entries.find((e) => e.set === 'app' && e.name === wanted) ?? entries.find((e) => e.name === wanted)
        if (!entry) throw new GantryError('MIGRATION_NOT_FOUND', `No migration named ${name}.`)
        if (entry.state !== 'partial' && entry.state !== 'failed') {
          throw new GantryError(
            'MIGRATION_STATE',
            `Migration ${entry.set}/${entry.name} is ${entry.state}; only a partial or failed migration can be resolved.`,
          )
        }
        if (entry.state === 'failed' && outcome === 'applied') {
          // A failed migration changed nothing (rolled back whole, or stopped before its first statement).
          throw new GantryError(
            'MIGRATION_STATE',
            `Migration ${entry.set}/${entry.name} failed without changing the schema; it cannot be recorded as applied.`,
            {
              hint: 'Fix the migration and run `gantry migrate latest` again.',
            },
          )
        }
        const snapshot = sets.find((s) => s.set === entry.set)!
        if (outcome === 'applied' && !entry.row) {
          const writeName = entry.file ? nameToWrite(entry.set, entry.file.fileName, entry.name, snapshot.applied) : entry.name
          await insertApplied(ctx.k, snapshot.table, writeName, entry.latest?.batch ?? nextBatch(snapshot.applied))
        }
        if (outcome === 'rolled-back' && entry.row) await deleteApplied(ctx.k, snapshot.table, entry.row.id)
        await insertRun(ctx.k, db.dialect, {
          migration_set: entry.set,
          name: entry.name,
          direction: 'resolve',
          batch: entry.latest?.batch ?? null,
          checksum: entry.file?.checksum ?? null,
          status: outcome === 'applied' ? 'resolved-applied' : 'resolved-rolled-back',
          statements: JSON.stringify(recordedStatements(entry.latest)),
          actor,
          finished_at: new Date(),
          duration_ms: 0,
        })
        return { set: entry.set, name: entry.name, outcome }
      })
    },

    async unlockKnex() {
      return { cleared: await clearKnexLock(db.knex, appTable) }
    },
  }

  /** Gives an applied migration without a checksum (an adopted knex history) one, from its file as it is now. */
  async function adopt(ctx: RunContext, entries: readonly MigrationEntry[]): Promise<void> {
    for (const e of entries) {
      if (!e.row || !e.file || e.appliedChecksum || e.state !== 'applied') continue
      await insertRun(ctx.k, db.dialect, {
        migration_set: e.set,
        name: e.name,
        direction: 'up',
        batch: e.row.batch,
        checksum: e.file.checksum,
        status: 'adopted',
        actor,
        finished_at: new Date(),
        duration_ms: 0,
      })
    }
  }

  function planRollback(app: SetSnapshot, entries: readonly MigrationEntry[], o: RollbackOptions): Step[] {
    const partial = entries.find((e) => e.set === 'app' && e.state === 'partial')
    if (partial) throw partialError(partial, recordedStatements(partial.latest))
    const rows = [...app.applied]
    let chosen: typeof rows
    if (o.all) chosen = rows
    else if (o.to !== undefined) {
      const index = rows.findIndex((r) => bareName(r.name) === bareName(o.to!))
      if (index < 0) throw new GantryError('MIGRATION_NOT_FOUND', `Migration ${o.to} is not applied in ${appTable}.`)
      chosen = rows.slice(index + 1)
    } else if (o.step !== undefined) chosen = o.step > 0 ? rows.slice(-o.step) : []
    else {
      const last = Math.max(0, ...rows.map((r) => r.batch))
      chosen = rows.filter((r) => r.batch === last)
    }
    const files = new Map(app.files.map((f) => [f.name, f]))
    return chosen.reverse().map((row) => {
      const file = files.get(bareName(row.name))
      if (!file) throw new GantryError('MIGRATION_STATE', `Cannot roll back ${row.name}: its file is missing from ${options.appDirectory}.`)
      return { direction: 'down' as const, file, table: tableOf('app'), batch: row.batch, row }
    })
  }
}

/** The rollback command that undoes the rest of what `o` asked for, once `kept` of it stay rolled back. */
function rerunRollback(o: RollbackOptions, kept: number): string {
  if (o.all) return 'gantry migrate rollback --all'
  if (o.to !== undefined) return `gantry migrate rollback --to ${o.to}`
  // The last batch's remaining migrations are still the last batch.
  return o.step === undefined ? 'gantry migrate rollback' : `gantry migrate rollback --step ${o.step - kept}`
}

/** latest never runs past a partial migration or over an edited one. */
function refuseBlocked(entries: readonly MigrationEntry[]): void {
  const partial = entries.find((e) => e.state === 'partial')
  if (partial) throw partialError(partial, recordedStatements(partial.latest))
  const modified = entries.filter((e) => e.state === 'modified')
  if (modified.length > 0) {
    const names = modified.map((e) => `${e.set}/${e.file?.fileName ?? e.name}`).join(', ')
    throw new GantryError('MIGRATION_MODIFIED', `Applied migration${modified.length > 1 ? 's' : ''} edited since it ran: ${names}.`, {
      details: { migrations: modified.map((e) => ({ set: e.set, name: e.name })) },
    })
  }
}

/** The migrator of a workspace's database (its migrations folder and tracking table). */
export function workspaceMigrator(
  db: Database,
  migrations: { readonly directory: string; readonly tableName: string; readonly transaction?: TransactionMode | undefined },
  options: Omit<MigratorOptions, 'db' | 'appDirectory' | 'appTable'> = {},
): Migrator {
  const transaction = options.transaction ?? migrations.transaction
  return createMigrator({ db, appDirectory: migrations.directory, appTable: migrations.tableName, ...options, transaction })
}

export { makeScript } from './make.js'
export { unpreviewedError, type PreviewOptions } from './preview.js'
export { runSeeds, type SeedRun } from './seeds.js'

/** "local:ana@ci-3 on ci-3 (pid 412) since 2026-…": who holds the lock, in words. */
export function describeHolder(holder: LockHolder | null): string {
  if (!holder) return 'another run'
  return `${holder.actor ?? 'a run'} on ${holder.host} (pid ${holder.pid}) since ${holder.since}`
}
