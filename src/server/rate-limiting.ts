/**
 * The rate limiting of one process, wired the one way every front door uses (`gantry serve`, an app's
 * createGantry): the environment's store (Redis, or memory) with this process's memory as the fallback of
 * `local` rules, the rules live (reloaded on a Redis announcement, polled behind it), store failures logged
 * in storms of one line, and the decision counts flushed to the database for `gantry ratelimit list`.
 */
import type { Logger } from 'pino'
import type { Clock } from '../core/clock.js'
import type { Services } from '../core/services.js'
import type { DecisionCounts, LiveRules } from '../ratelimit/index.js'
import type { Runtime } from '../runtime.js'
import { backgroundSubscription } from './announcements.js'
import { errorFields, STORE_WARN_EVERY_MS, throttled } from '../throttle.js'

export interface RateLimiting {
  /** The rules in force, kept current until `rules.close()`. */
  readonly rules: LiveRules
  /** Where decisions are added up; `counts.close()` flushes the last of them. */
  readonly counts: DecisionCounts
}

/** Starts the live rules over the runtime's store and the decision counts. */
export async function startRateLimiting(options: { runtime: Runtime; services: Services; logger: Logger; clock: Clock }): Promise<RateLimiting> {
  const { runtime, services, logger, clock } = options
  const [store, ratelimit] = await Promise.all([runtime.rateLimitStore(), import('../ratelimit/index.js')])
  const storeWarning = throttled(
    (err, suppressed) =>
      logger.warn(
        { err: errorFields(err), suppressed },
        "rate-limit store unavailable: each rule decides by its onStoreError (open admits, closed refuses with 503, local uses this instance's memory)",
      ),
    STORE_WARN_EVERY_MS,
  )
  const rules = await ratelimit.startLiveRules({
    source: services.rateLimits,
    store,
    fallback: ratelimit.createMemoryStore({ clock }),
    clock,
    subscribe: backgroundSubscription((onChange) => runtime.subscribeRateLimitChanges(onChange)),
    onReloadError: (err) => logger.warn({ err }, 'rate-limit rules could not be reloaded; the rules in force stay'),
    onStoreError: (err) => storeWarning(err),
  })
  const counts = ratelimit.createDecisionCounts({
    write: (deltas) => services.rateLimits.addCounts(deltas),
    onError: (err) => logger.warn({ err }, 'rate-limit counts could not be saved; they are kept for the next try'),
  })
  return { rules, counts }
}
