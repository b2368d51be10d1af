/**
 * Scheduled backups (`backups.schedule`): every worker of the environment asks on each pass whether a slot
 * is due, and the one that enqueues it (src/core/schedules/scheduled-job.ts: once per slot, however many
 * workers) leaves the `backup.scheduled` job to whichever worker claims it. The job takes a backup with
 * trigger `schedule` into backups.directory, then deletes the scheduled backups `backups.keep` no longer
 * keeps (src/core/backups/retention.ts). How the last one went is kept in gantry_settings, for readiness:
 * a failed or overdue scheduled backup warns.
 */
import { rm } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { backupContext } from '../backup-context.js'
import type { Environment } from '../config/schema.js'
import { backupsToDelete } from '../core/backups/retention.js'
import type { Clock } from '../core/clock.js'
import { localContext } from '../core/context.js'
import { isGantryError } from '../core/errors.js'
import { parseSchedule } from '../core/schedules/cron.js'
import { enqueueDueSlot, readScheduleState, type ScheduledJob } from '../core/schedules/scheduled-job.js'
import { getSetting, setSetting } from '../core/settings/settings.repo.js'
import { deleteUploaded } from '../db/backup-storage.js'
import { backupDirectory, listBackups, takeBackup, type BackupContext } from '../db/backups.js'
import type { Outcome } from '../readiness.js'
import type { Runtime } from '../runtime.js'
import { errorFields, STORE_WARN_EVERY_MS, throttled } from '../throttle.js'
import type { JobHandler } from './worker.js'

export const BACKUP_JOB = 'backup.scheduled'
/** gantry_settings: the schedule's next due slot, and how the last scheduled backup went. */
const SCHEDULE_KEY = 'schedule:backups'
const LAST_KEY = 'backups:last-scheduled'
/** Who the audit log names for a scheduled backup. */
export const BACKUP_SCHEDULE_ACTOR = 'system:backups'
/** A due slot no worker has started this long after its time warns in readiness (a backup in progress keeps the next slot waiting too). */
const OVERDUE_AFTER_MS = 60 * 60_000

/** How the last scheduled backup went (gantry_settings LAST_KEY). */
interface LastScheduled {
  readonly slot: number | null
  readonly at: number
  readonly ok: boolean
  readonly file?: string | undefined
  readonly error?: string | undefined
}

export interface ScheduledBackups {
  /** Enqueues a due slot (the worker's beforeClaim). */
  readonly tick: (now: number) => Promise<void>
  readonly handler: JobHandler
}

/**
 * The environment's scheduled backups as a worker runs them; undefined when it has no schedule, or when
 * this machine lacks the dump tool (then this worker leaves the job to one that has it, and says so once).
 */
export async function scheduledBackups(options: {
  runtime: Runtime
  knex: Knex
  clock: Clock
  logger: Logger
  leaseMs: number
  /** What the backup is taken with (default: backupContext(runtime), on this clock, as BACKUP_SCHEDULE_ACTOR). */
  context?: (() => Promise<BackupContext>) | undefined
}): Promise<ScheduledBackups | undefined> {
  const { runtime, knex, clock, logger, leaseMs } = options
  const { environment } = runtime
  if (environment.backups.schedule === undefined) return undefined
  const context = options.context ?? (async () => ({ ...(await backupContext(runtime)), clock, ctx: localContext(BACKUP_SCHEDULE_ACTOR) }))
  try {
    await (await context()).tool?.check()
  } catch (err) {
    if (isGantryError(err) && err.code === 'DUMP_TOOL_MISSING') {
      logger.warn({ err: errorFields(err) }, 'scheduled backups are left to workers that have the dump tool')
      return undefined
    }
    // Anything else (the database away at start) is no reason to give the schedule up: each job reports its own.
  }
  const job: ScheduledJob = { key: SCHEDULE_KEY, schedule: parseSchedule(environment.backups.schedule), type: BACKUP_JOB }
  const tickFailed = throttled((err) => logger.warn({ err: errorFields(err) }, 'cannot check the backup schedule; retrying'), STORE_WARN_EVERY_MS)

  const record = (k: Knex, last: LastScheduled) => setSetting(k, LAST_KEY, last, new Date(last.at))

  const handler: JobHandler = async (claimed, finish, renew) => {
    const slot = (claimed.payload as { slot?: unknown } | null)?.slot
    const slotAt = typeof slot === 'number' ? slot : null
    // A dump can outlast the lease: renewed while it runs, so no other worker starts a second one. A renewal
    // refused (the database away past the lease) means another worker may have taken the job over.
    let leaseLost = false
    const keep = (held: boolean): void => void (held || (leaseLost = true))
    const renewal = setInterval(() => void renew().then(keep, () => undefined), Math.max(1000, Math.floor(leaseMs / 3)))
    renewal.unref()
    try {
      let result
      try {
        result = await takeBackup(await context(), { trigger: 'schedule' })
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err)
        logger.error({ err: errorFields(err), slot: isoOrNull(slotAt) }, 'scheduled backup failed')
        await knex.transaction(async (trx) => {
          await record(trx, { slot: slotAt, at: clock.now(), ok: false, error: error.slice(0, 1000) })
          // Not retried: the next slot tries again, and readiness warns until one succeeds.
          await finish(trx, { status: 'failed', error })
        })
        return
      }
      let deleted: string[] = []
      try {
        // The worker that took the job over runs retention after its own backup: two at once could each
        // delete what the other just decided to keep.
        if (leaseLost) logger.warn({ file: result.file }, 'scheduled backup taken after its lease was lost; retention left to the worker that took it over')
        else deleted = await applyRetention(environment, runtime.workspace.root, clock.now(), result.file)
      } catch (err) {
        logger.warn({ err: errorFields(err) }, 'scheduled backup taken; deleting old scheduled backups failed')
      }
      await knex.transaction(async (trx) => {
        await record(trx, { slot: slotAt, at: clock.now(), ok: true, file: result.file })
        await finish(trx, { status: 'succeeded' })
      })
      logger.info({ file: result.file, bytes: result.bytes, deleted }, 'scheduled backup taken')
    } finally {
      clearInterval(renewal)
    }
  }

  return {
    handler,
    async tick(now) {
      try {
        const slot = await enqueueDueSlot(knex, job, now)
        if (slot !== undefined) logger.info({ slot: new Date(slot).toISOString() }, 'scheduled backup queued')
      } catch (err) {
        tickFailed(err)
      }
    },
  }
}

/**
 * Deletes the scheduled backups of `environment` that its backups.keep no longer keeps, and returns them:
 * only files listBackups lists in backups.directory, never `justTaken`.
 */
export async function applyRetention(environment: Environment, root: string, now: number, justTaken: string): Promise<string[]> {
  const directory = backupDirectory(environment, root)
  const listed = await listBackups(directory)
  const doomed = backupsToDelete(
    listed.map((b) => ({
      file: b.file,
      environment: b.manifest?.environment ?? null,
      trigger: b.manifest?.trigger ?? null,
      startedAt: b.manifest?.startedAt ?? null,
    })),
    { environment: environment.name, keep: environment.backups.keep, now, justTaken },
  ).filter((file) => dirname(file) === directory)
  for (const file of doomed) await rm(file, { force: true })
  // Their uploaded copies go too: the bucket keeps what backups.keep keeps, no more.
  if (environment.backups.s3)
    await deleteUploaded(
      environment.backups.s3,
      doomed.map((file) => basename(file)),
    )
  return doomed
}

/**
 * The readiness check `backups:schedule`: warns when the last scheduled backup failed, when a slot is
 * overdue (no worker took it up, or a backup has run past the next slot), or when no worker has taken the
 * schedule up yet. The messages are public: they name times, never paths or errors (the worker's log has them).
 */
export async function scheduledBackupCheck(knex: Knex, environment: Environment, now: number): Promise<Outcome> {
  if (environment.backups.schedule === undefined) return { status: 'skipped', message: 'no schedule' }
  const [state, last] = await Promise.all([readScheduleState(knex, SCHEDULE_KEY), getSetting(knex, LAST_KEY) as Promise<LastScheduled | undefined>])
  if (!state)
    return { status: 'warn', message: 'no worker has taken up the backup schedule yet: is one running (gantry serve or gantry worker) with the dump tool?' }
  if (last && !last.ok) return { status: 'warn', message: `the last scheduled backup (${new Date(last.at).toISOString()}) failed; see the worker's log` }
  if (state.nextAt !== null && now - state.nextAt > OVERDUE_AFTER_MS)
    return {
      status: 'warn',
      message: `the scheduled backup due at ${new Date(state.nextAt).toISOString()} has not started: is a worker with the dump tool running?`,
    }
  const next = state.nextAt === null ? 'none' : new Date(state.nextAt).toISOString()
  return { status: 'ok', message: last ? `last at ${new Date(last.at).toISOString()}; next due ${next}` : `next due ${next}` }
}

function isoOrNull(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString()
}
