/**
 * The running server composed once — the token secret checked, the services, the live rate-limit rules
 * over the environment's store with the shared decision counts, sessions ended elsewhere heard at once,
 * the metrics and the readiness probe — for `gantry serve`, each of its `--workers`, and an app's
 * createGantry alike, so a token, a key, a permission or a rule means the same behind each.
 */
import type { Logger } from 'pino'
import type { Environment } from '../config/schema.js'
import { systemClock, type Clock } from '../core/clock.js'
import { GantryError } from '../core/errors.js'
import type { Services } from '../core/services.js'
import type { DecisionCounts, LiveRules, RateLimitDecision } from '../ratelimit/index.js'
import type { Runtime } from '../runtime.js'
import { createMetrics, type Metrics, type PoolStats } from './metrics.js'
import { backgroundSubscription } from './announcements.js'
import { startLiveFlags, type LiveFlags } from './live-flags.js'
import { startRateLimiting } from './rate-limiting.js'
import { createReadinessProbe, type ExtraCheck, type ReadinessProbe } from './readiness.js'
import { createTrafficRing, type TrafficRing } from './traffic.js'
import { parseDuration } from '../core/duration.js'
import { jobBacklog } from '../core/jobs/job-queue.js'
import { scheduledBackupCheck } from '../worker/backup-schedule.js'
import { startJobWorker } from '../worker/start.js'
import type { Worker } from '../worker/worker.js'

export interface ServerParts {
  readonly services: Services
  readonly logger: Logger
  readonly clock: Clock
  /** The rules in force, reloaded as they change. */
  readonly rateLimits: LiveRules
  readonly counts: DecisionCounts
  readonly metrics: Metrics
  /** This process's requests and 429s per minute over the last hour, for the admin console. */
  readonly traffic: TrafficRing
  readonly readiness: ReadinessProbe
  /** What every rate-limit decision goes to: the metrics and the counts shared across instances. */
  readonly observeDecision: (decision: RateLimitDecision) => void
  /** The feature flags in force, reloaded as they change (not loaded while the store was unreachable since start). */
  readonly flags: LiveFlags
  /** The job worker (webhook deliveries …), when this composition runs one. */
  readonly worker: Worker | undefined
  /** Stops the worker (letting its jobs in hand finish), the rules' reload, and flushes the last counts; the runtime stays the caller's to close. */
  close(): Promise<void>
}

export interface ComposeOptions {
  readonly version: string
  /** The logger to use (a worker's child logger); default: the runtime's. */
  readonly logger?: Logger | undefined
  /** An app's own readiness checks, beside Gantry's. */
  readonly checks?: Readonly<Record<string, ExtraCheck>> | undefined
  /** Run a job worker (webhook deliveries …) beside the server: serve always does, an app when it asks. */
  readonly worker?: boolean | undefined
}

/** Throws AUTH_SECRET_MISSING unless the environment can sign and check tokens: no server starts without. */
export function requireAuthSecret(environment: Environment): void {
  if (!environment.auth.secret) {
    throw new GantryError('AUTH_SECRET_MISSING', `Environment "${environment.name}" has no token secret (auth.secret): no token could be signed or checked.`)
  }
}

/** A decision observer: the metrics, and the counts when there are. */
export function decisionObserver(metrics: Metrics, counts?: DecisionCounts): (decision: RateLimitDecision) => void {
  return (decision) => {
    metrics.observeDecision(decision)
    counts?.record(decision)
  }
}

/** The names of the rules in force, the chain's and the login rules: each a series of the rate-limit metrics. */
export function ruleNames(rules: LiveRules): string[] {
  const { rules: chain, login } = rules.current()
  return [...new Set([...chain, ...login].map((rule) => rule.name))]
}

export async function composeServer(runtime: Runtime, options: ComposeOptions): Promise<ServerParts> {
  requireAuthSecret(runtime.environment)
  const clock = systemClock
  const [db, services, logger] = await Promise.all([runtime.database(), runtime.services(), options.logger ?? runtime.logger()])
  const { rules, counts } = await startRateLimiting({ runtime, services, logger, clock })
  const flags = await startLiveFlags({
    source: services.flags,
    subscribe: backgroundSubscription((onChange) => runtime.subscribeFlagChanges(onChange)),
    onReloadError: (err) => logger.warn({ err }, "feature flags could not be loaded; the snapshot in force (or the code's defaults) stays"),
    onListenerError: (err) => logger.error({ err }, 'a listener of feature-flag changes threw; the other listeners were told'),
  })
  services.flags.evaluateFrom(flags.current)
  // Sessions ended by a server, a command or another app instance reach this one at once (runtime.close() unsubscribes).
  await runtime.subscribeAccessChanges((change) => services.sessions.forget(change))
  const metrics = createMetrics({
    pool: (db.knex.client as { pool?: PoolStats }).pool,
    rules: () => ruleNames(rules),
    jobs: () => jobBacklog(db.knex, clock.now()),
  })
  const readiness = createReadinessProbe({
    runtime,
    version: options.version,
    clock,
    failsClosed: rules.failsClosed,
    flagsLoaded: flags.loaded,
    checks: options.checks,
    jobs: { backlog: () => jobBacklog(db.knex, clock.now()), maxDueAgeMs: parseDuration(runtime.environment.webhooks.maxDueAge) },
    backups: runtime.environment.backups.schedule ? () => scheduledBackupCheck(db.knex, runtime.environment, clock.now()) : undefined,
  })
  const worker = options.worker
    ? await startJobWorker({
        runtime,
        services,
        logger,
        clock,
        observeDelivery: (endpoint, outcome, ms) => metrics.observeDelivery(endpoint, outcome, ms === null ? null : ms / 1000),
      })
    : undefined
  return {
    services,
    logger,
    clock,
    rateLimits: rules,
    flags,
    counts,
    metrics,
    traffic: createTrafficRing(clock),
    readiness,
    observeDecision: decisionObserver(metrics, counts),
    worker,
    async close() {
      await worker?.stop()
      rules.close()
      flags.close()
      await counts.close()
    },
  }
}
