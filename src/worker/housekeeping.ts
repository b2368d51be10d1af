/**
 * What the worker cleans up beside finished jobs: the service layer's own list (webhook messages, expired
 * refresh tokens, audit entries past audit.retention) and what needs more than the core may reach — migration-run records live in src/db's
 * tracking tables, under a workspace setting. Each task deletes up to CLEAN_UP_BATCH rows of what `now`
 * makes old and says how many; a retention of `forever` adds no task.
 */
import type { Knex } from 'knex'
import type { Workspace } from '../config/workspace.js'
import { parseDuration } from '../core/duration.js'
import { CLEAN_UP_BATCH } from '../core/jobs/job-queue.js'
import type { Services } from '../core/services.js'
import { pruneMigrationRuns } from '../db/migrator/run-retention.js'

export type HousekeepingTask = (now: number) => Promise<number>

/** The worker's clean-up tasks for one environment. */
export function workerHousekeeping(options: { knex: Knex; services: Services; workspace: Workspace }): HousekeepingTask[] {
  const { knex, services, workspace } = options
  const tasks: HousekeepingTask[] = [...services.housekeeping]
  const runRetention = workspace.migrations.runRetention
  if (runRetention !== 'forever') {
    const keepMs = parseDuration(runRetention)
    tasks.push((now) => pruneMigrationRuns(knex, new Date(now - keepMs), CLEAN_UP_BATCH))
  }
  return tasks
}
