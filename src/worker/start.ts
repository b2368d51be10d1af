/**
 * The job worker of one environment, as `gantry serve`, `gantry worker` and createGantry({ worker: true })
 * run it: the environment's job settings, every job type Gantry has a handler for, failures logged.
 */
import type { Logger } from 'pino'
import type { Clock } from '../core/clock.js'
import { parseDuration } from '../core/duration.js'
import type { Services } from '../core/services.js'
import type { DeliveryObserver } from '../core/webhooks/delivery.js'
import { DELIVER_JOB } from '../core/webhooks/outbox.js'
import type { Runtime } from '../runtime.js'
import { errorFields, STORE_WARN_EVERY_MS, throttled } from '../throttle.js'
import { BACKUP_JOB, scheduledBackups } from './backup-schedule.js'
import { workerHousekeeping } from './housekeeping.js'
import { createWorker, type Worker } from './worker.js'

/** How often an idle worker looks for due jobs: the bound on how late a job queued by another process starts. */
export const POLL_MS = 1000

export async function startJobWorker(options: {
  runtime: Runtime
  services: Services
  logger: Logger
  clock: Clock
  observeDelivery?: DeliveryObserver | undefined
}): Promise<Worker> {
  const { runtime, services, logger, clock } = options
  const { jobs } = runtime.environment
  const db = await runtime.database()
  // A database that is away or not yet migrated fails every poll: said once in a while, not every second.
  const claimFailed = throttled((err) => logger.warn({ err: errorFields(err) }, 'cannot claim background jobs; retrying'), STORE_WARN_EVERY_MS)
  const leaseMs = parseDuration(jobs.leaseTimeout)
  // Only with backups.schedule set, and only where the dump tool is installed.
  const backups = await scheduledBackups({ runtime, knex: db.knex, clock, logger, leaseMs })
  const worker = createWorker({
    knex: db.knex,
    clock,
    handlers: { [DELIVER_JOB]: services.deliverWebhook(options.observeDelivery), ...(backups ? { [BACKUP_JOB]: backups.handler } : {}) },
    beforeClaim: backups ? [backups.tick] : [],
    leaseMs,
    pollMs: POLL_MS,
    concurrency: jobs.concurrency,
    retentionMs: parseDuration(jobs.retention),
    housekeeping: workerHousekeeping({ knex: db.knex, services, workspace: runtime.workspace }),
    onError: (err, job) =>
      job ? logger.error({ err: errorFields(err), job: { id: job.id, type: job.type, attempt: job.attempt } }, 'background job failed') : claimFailed(err),
  })
  worker.start()
  return worker
}
