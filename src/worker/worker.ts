/**
 * The worker loop: claims due jobs from the job table (src/core/jobs), runs each with its type's handler,
 * and prunes finished jobs past their retention. Any number of workers — `gantry serve` instances, `gantry
 * worker` processes, apps with `createGantry({ worker: true })` — share one table without a coordinator:
 * the claim decides who runs what. It polls; an emit in this process wakes it at once.
 */
import { hostname } from 'node:os'
import type { Knex } from 'knex'
import { backoffMs } from '../core/backoff.js'
import type { Clock } from '../core/clock.js'
import { CLEAN_UP_BATCH, claimJobs, finishJob, pruneJobs, renewLease, type Job, type JobOutcome } from '../core/jobs/job-queue.js'
import { randomBase62 } from '../core/random.js'

/**
 * Runs one claimed job; `finish` records its end (inside the handler's own transaction); `renew` extends
 * the lease by another leaseMs from now, for work that may outlast it (false: the lease was lost).
 */
export type JobHandler = (job: Job, finish: (trx: Knex, outcome: JobOutcome) => Promise<boolean>, renew: () => Promise<boolean>) => Promise<void>

export interface WorkerOptions {
  readonly knex: Knex
  readonly clock: Clock
  readonly handlers: Readonly<Record<string, JobHandler>>
  /** How long a claimed job is this worker's; past it another worker takes over (longer than any attempt). */
  readonly leaseMs: number
  readonly pollMs: number
  /** Jobs run at once. */
  readonly concurrency: number
  /** Finished jobs are deleted this long after they finished. */
  readonly retentionMs: number
  /** More clean-up run with the pruning of jobs (old webhook messages …): each deletes up to CLEAN_UP_BATCH rows of what `now` makes old, and says how many. */
  readonly housekeeping?: ReadonlyArray<(now: number) => Promise<number>> | undefined
  /** Run at the start of every pass, before claiming (scheduled jobs enqueue their due slot): a job they enqueue is claimed in the same pass. */
  readonly beforeClaim?: ReadonlyArray<(now: number) => Promise<unknown>> | undefined
  /** A job whose handler threw is retried after a backoff this long at most, and given up after maxAttempts. */
  readonly maxAttempts?: number | undefined
  readonly onError: (err: unknown, job?: Job) => void
}

export interface Worker {
  start(): void
  /** Claims and runs what is due now, once (tests step it with their clock); resolves when those jobs are done. */
  runOnce(): Promise<number>
  /** Wakes the loop: work was just queued in this process. */
  wake(): void
  /** Stops claiming and waits for the jobs in hand. */
  stop(): Promise<void>
}

/** How often finished jobs are pruned. */
const PRUNE_EVERY_MS = 10 * 60_000
/** Batches one pass deletes at most (100,000 rows): more than ten minutes of any real volume, and still a bounded pass. */
const PRUNE_ROUNDS = 100

/** Runs a clean-up batch again while it deleted a whole batch, at most PRUNE_ROUNDS times. */
async function untilShort(batch: () => Promise<number>): Promise<void> {
  for (let round = 0; round < PRUNE_ROUNDS; round++) if ((await batch()) < CLEAN_UP_BATCH) return
}
const THROWN_BACKOFF = { baseMs: 5_000, maxMs: 3_600_000 }

/** A worker identity for leases: host, process and a random suffix (two workers in one process differ). */
export function workerId(): string {
  return `${hostname().slice(0, 32)}:${process.pid}:${randomBase62(6)}`
}

export function createWorker(options: WorkerOptions): Worker {
  const { knex, clock, handlers, leaseMs, concurrency } = options
  const owner = workerId()
  const types = Object.keys(handlers)
  const inFlight = new Set<Promise<void>>()
  let timer: NodeJS.Timeout | undefined
  let running = false
  /** The pass under way, if any: stop() waits for it, since the jobs it claims are this worker's to finish. */
  let pass: Promise<void> | undefined
  let stopping = false
  /** Only a started worker loops; runOnce alone (tests) never wakes it. */
  let started = false
  let lastPrune = 0

  const run = async (job: Job): Promise<void> => {
    const handler = handlers[job.type]
    const finish = (trx: Knex, outcome: JobOutcome) => finishJob(trx, job, owner, outcome, clock.now())
    const renew = () => renewLease(knex, job, owner, clock.now() + leaseMs, clock.now())
    try {
      if (!handler) throw new Error(`no handler for job type ${job.type}`)
      await handler(job, finish, renew)
    } catch (err) {
      options.onError(err, job)
      const now = clock.now()
      const message = err instanceof Error ? err.message : String(err)
      const outcome: JobOutcome =
        job.attempt >= (options.maxAttempts ?? 20)
          ? { status: 'failed', error: message }
          : { status: 'retry', runAt: now + backoffMs(job.attempt - 1, THROWN_BACKOFF), error: message }
      await finish(knex, outcome).catch((e: unknown) => options.onError(e, job))
    }
  }

  /** Claims what is due into the room left and starts it; the started jobs, each settling when done. */
  const claimAndStart = async (): Promise<Array<Promise<void>>> => {
    const now = clock.now()
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now
      const cleaners = [(at: number) => pruneJobs(knex, at - options.retentionMs, CLEAN_UP_BATCH), ...(options.housekeeping ?? [])]
      for (const clean of cleaners) await untilShort(() => clean(now)).catch(options.onError)
    }
    for (const tick of options.beforeClaim ?? []) await tick(now).catch(options.onError)
    const room = concurrency - inFlight.size
    if (room <= 0 || types.length === 0) return []
    const jobs = await claimJobs(knex, { owner, now, leaseMs, limit: room, types })
    return jobs.map((job) => {
      const p = run(job).finally(() => {
        inFlight.delete(p)
        // A slot is free: fill it now rather than at the next poll.
        wake()
      })
      inFlight.add(p)
      return p
    })
  }

  /** One pass, then the next: at once while there was work, after pollMs when there was none. */
  const loop = (): Promise<void> => (pass = onePass().finally(() => (pass = undefined)))

  const onePass = async (): Promise<void> => {
    if (running || stopping) return
    running = true
    clearTimeout(timer)
    let claimed = 0
    try {
      claimed = (await claimAndStart()).length
    } catch (err) {
      options.onError(err)
    } finally {
      running = false
    }
    // Full: the next pass comes when a job finishes (wake); work found: at once; none: after pollMs.
    if (!stopping && inFlight.size < concurrency) timer = setTimeout(() => void loop(), claimed > 0 ? 0 : options.pollMs).unref()
  }

  const wake = (): void => {
    if (started && !stopping && !running) {
      clearTimeout(timer)
      timer = setTimeout(() => void loop(), 0).unref()
    }
  }

  return {
    start() {
      started = true
      void loop()
    },
    async runOnce() {
      const jobs = await claimAndStart()
      await Promise.all(jobs)
      return jobs.length
    },
    wake,
    async stop() {
      stopping = true
      clearTimeout(timer)
      await pass
      await Promise.all([...inFlight])
    },
  }
}
