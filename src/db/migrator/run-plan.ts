/**
 * Runs the steps of one latest or rollback run in order, telling the caller as each starts and ends:
 * each in its own transaction (`each`, the default), or all in one (`batch`, knex CLI's behaviour on SQLite
 * and PostgreSQL), where a failure rolls back every step before it too.
 */
import { GantryError, inputProblem } from '../../core/errors.js'
import type { Dialect } from '../url.js'
import { runStep, type RunContext, type Step, type StepFailure } from './runner.js'
import { loadMigration, type MigrationModule } from './source.js'
import { insertRun } from './tracking.js'
import type { MigrationProgress, MigrationRun, TransactionMode } from './types.js'

/** A step with its migration loaded. */
export interface PlannedStep {
  readonly step: Step
  readonly migration: MigrationModule
}

/** What a run did: the steps it finished, and the one that failed, if one did. */
export interface PlanOutcome {
  readonly runs: MigrationRun[]
  readonly failure?: { readonly step: Step } & StepFailure
}

/** Loads every step's migration first, so a file that cannot load stops the run before anything runs. */
export async function loadPlan(steps: readonly Step[]): Promise<PlannedStep[]> {
  const planned: PlannedStep[] = []
  for (const step of steps) planned.push({ step, migration: await loadMigration(step.file) })
  return planned
}

/**
 * Refuses batch mode where one transaction cannot hold the batch, before anything runs: on MySQL/MariaDB
 * (each DDL statement commits implicitly), and when a migration of the batch opts out of transactions.
 */
export function refuseBatch(dialect: Dialect, mode: TransactionMode, planned: readonly PlannedStep[] = []): void {
  if (mode !== 'batch') return
  if (dialect === 'mysql') {
    throw new GantryError(
      'INVALID_INPUT',
      'MySQL/MariaDB commits each DDL statement implicitly, so a batch of migrations cannot run as one transaction there.',
      { details: inputProblem(['transaction'], 'batch-unsupported', { dialect }) },
    )
  }
  const outside = planned.filter((p) => !p.migration.transactional).map((p) => `${p.step.file.set}/${p.step.file.fileName}`)
  if (outside.length > 0) {
    throw new GantryError(
      'INVALID_INPUT',
      `The batch cannot run as one transaction: ${outside.join(', ')} opt${outside.length === 1 ? 's' : ''} out of transactions (config.transaction = false).`,
      { details: inputProblem(['transaction'], 'batch-not-transactional', { migrations: outside }) },
    )
  }
}

/** Runs the planned steps in `mode`, telling `onProgress` as each starts and ends; never throws for a failing migration. */
export async function runPlan(
  ctx: RunContext,
  planned: readonly PlannedStep[],
  mode: TransactionMode,
  onProgress: ((event: MigrationProgress) => void) | undefined,
): Promise<PlanOutcome> {
  const total = planned.length
  const runAll = async (c: RunContext): Promise<PlanOutcome> => {
    const runs: MigrationRun[] = []
    for (const [i, { step, migration }] of planned.entries()) {
      const index = i + 1
      onProgress?.({ phase: 'start', direction: step.direction, set: step.file.set, name: step.file.name, index, total })
      const outcome = await runStep(c, step, migration)
      if (!outcome.ok) return { runs, failure: { step, ...outcome.failure } }
      runs.push(outcome.run)
      onProgress?.({ phase: 'done', direction: step.direction, run: outcome.run, index, total })
    }
    return { runs }
  }
  if (mode === 'each') return recordFailure(ctx, await runAll(ctx))
  // One transaction on the recording knex (PostgreSQL) or a savepoint of the run's (SQLite); each step
  // takes a savepoint of it. A failure throws out of it, so the steps before it roll back too.
  let outcome: PlanOutcome = { runs: [] }
  try {
    await (ctx.db.dialect === 'postgres' ? ctx.run.knex : ctx.k).transaction(async (batch) => {
      outcome = await runAll({ ...ctx, batch })
      if (outcome.failure) throw outcome.failure.error
    })
  } catch (err) {
    if (!outcome.failure) throw err
  }
  return recordFailure(ctx, outcome)
}

/** Writes the failed step's record when it is the caller's to write (its transaction is gone by now). */
async function recordFailure(ctx: RunContext, outcome: PlanOutcome): Promise<PlanOutcome> {
  const record = outcome.failure?.record
  if (record) await insertRun(ctx.k, ctx.db.dialect, record)
  return outcome
}
