/**
 * A job enqueued on a cron schedule by whichever worker gets there first, exactly once per slot however
 * many workers run: the next due time lives in gantry_settings, and the worker that finds it passed locks
 * that row, reads it again, enqueues the job and moves the due time on in one transaction. Every other
 * worker queues behind the lock and then finds the due time in the future.
 *
 * The due time moves to the first slot after *now*, not after the slot just run: slots missed while no
 * worker ran come to one run when a worker is back, never to a burst of them. While the job of an earlier
 * slot is still queued or running, a due slot waits (the due time stays passed) and is enqueued once that
 * job has finished: two runs never overlap, and a run that outlasts its interval is followed by one more,
 * not by a queue of them.
 *
 * Workers may disagree on the expression for a while (a rolling deploy that changes it, an old `gantry
 * worker` left running). The due time is then never moved later by a worker whose own next slot comes after
 * it, only earlier: a slot either expression names still runs, and two workers cannot keep resetting each
 * other's due time past every slot (which would take no backup at all). A change to a later time runs the
 * old slot once more.
 */
import type { Knex } from 'knex'
import { enqueueJobs, JOBS_TABLE } from '../jobs/job-queue.js'
import { getSetting, lockSetting, setSetting } from '../settings/settings.repo.js'
import type { Schedule } from './cron.js'

/** What gantry_settings holds for a schedule: the expression it was computed for and the next due slot (null: never again). */
export interface ScheduleState {
  readonly expression: string
  readonly nextAt: number | null
}

export interface ScheduledJob {
  /** The gantry_settings key of its state (`schedule:backups`). */
  readonly key: string
  readonly schedule: Schedule
  /** The job type enqueued; its payload is `{ slot }`, the due time it was enqueued for. */
  readonly type: string
}

/** The state stored under `key`, if it reads as one. */
export async function readScheduleState(k: Knex, key: string): Promise<ScheduleState | undefined> {
  const value = (await getSetting(k, key)) as Partial<ScheduleState> | undefined
  return typeof value?.expression === 'string' && (typeof value.nextAt === 'number' || value.nextAt === null)
    ? { expression: value.expression, nextAt: value.nextAt }
    : undefined
}

/** Whether `state` stands as it is for this worker at `now`: not due, and not later than its own next slot. */
function settled(state: ScheduleState | undefined, job: ScheduledJob, now: number): boolean {
  if (!state) return false
  if (state.expression === job.schedule.expression) return state.nextAt === null || state.nextAt > now
  const mine = job.schedule.nextAfter(now)
  return state.nextAt !== null && state.nextAt > now && (mine === undefined || mine >= state.nextAt)
}

/**
 * Enqueues the job's due slot, if one is due at `now` and no earlier run is unfinished; returns the slot
 * enqueued (epoch ms), or undefined. A first call only sets the first due time: a schedule starts at its
 * next slot.
 */
export async function enqueueDueSlot(knex: Knex, job: ScheduledJob, now: number): Promise<number | undefined> {
  // The common case (not due) reads one row and writes nothing: every worker asks on every poll.
  if (settled(await readScheduleState(knex, job.key), job, now)) return undefined
  return knex.transaction(async (trx) => {
    // The lock is the statement that orders the workers: each reads the state the one before it committed.
    await lockSetting(trx, job.key)
    const state = await readScheduleState(trx, job.key)
    const at = new Date(now)
    if (settled(state, job, now)) return undefined
    if (!state || state.nextAt === null || state.nextAt > now) {
      // First use, or another expression's due time that this worker's next slot comes before.
      await setSetting(trx, job.key, { expression: job.schedule.expression, nextAt: job.schedule.nextAfter(now) ?? null }, at)
      return undefined
    }
    const unfinished = await trx(JOBS_TABLE).where({ type: job.type }).whereIn('status', ['queued', 'running']).first('id')
    if (unfinished) return undefined
    await enqueueJobs(trx, [{ type: job.type, payload: { slot: state.nextAt } }], now)
    await setSetting(trx, job.key, { expression: job.schedule.expression, nextAt: job.schedule.nextAfter(now) ?? null }, at)
    return state.nextAt
  })
}
