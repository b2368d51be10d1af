/**
 * Prometheus metrics (prom-client), one registry per app so two apps in one process (tests, workers)
 * never mix their counts: requests by route, method and status, their durations, login outcomes,
 * rate-limit decisions and the database pool. Named as Prometheus names them, so `promtool check metrics`
 * passes a scrape (test/integration/server/promtool.test.ts): counters end in `_total` and nothing else
 * does, a gauge ends in what it counts, and a counter whose label values are known (the login outcomes,
 * the rules in force and their results) shows every series from the first scrape, at 0: `rate()` and
 * alerts over it have a series to read before the first event.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { RateLimitDecision } from '../ratelimit/index.js'
import type { DeliveryOutcome } from '../core/webhooks/delivery.js'

/** The pool figures knex's tarn pool exposes. */
export interface PoolStats {
  numUsed(): number
  numFree(): number
  numPendingAcquires(): number
}

export interface Metrics {
  readonly registry: Registry
  /** One finished request; `route` is the route's path template (never the raw path: bounded labels). */
  observeRequest(route: string, method: string, status: number, seconds: number): void
  /** One login's outcome; a locked account's refusal is `invalid`, since /metrics is public and must not tell a lockout. */
  observeLogin(outcome: LoginOutcome): void
  observeDecision(decision: RateLimitDecision): void
  /** How one webhook delivery attempt to an endpoint (or a delivery stopped before any) ended, and how long the receiver took. */
  observeDelivery(endpoint: string, outcome: DeliveryOutcome, seconds: number | null): void
}

/** The outcomes of gantry_webhook_deliveries_total, each a series from the start. */
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['succeeded', 'retrying', 'failed', 'skipped']

/** The login outcomes, each a series of gantry_logins_total from the start. */
export const LOGIN_OUTCOMES = ['success', 'invalid', 'throttled', 'error'] as const
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number]
/** The results of gantry_ratelimit_decisions_total, each a series of every rule in force from the start. */
export const DECISION_RESULTS = ['admitted', 'refused', 'shadow_refused'] as const

/** How long a scrape waits for the job table before it leaves the job gauges as they were. */
const JOBS_READ_TIMEOUT_MS = 1000

/** The prefix of Gantry's metrics and of the default ones (process, Node.js) prom-client collects. */
const PREFIX = 'gantry_'
/**
 * prom-client's gauges named like counters (`promtool`: non-counter metrics should not have "_total"
 * suffix), each only the sum of its `type`-labelled sibling: `sum(gantry_nodejs_active_handles)` is the
 * same figure (prometheus/client_js#283 proposes removing them upstream).
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

export interface MetricsOptions {
  /** The database pool, read at scrape time. */
  readonly pool?: PoolStats | undefined
  /** The names of the rate-limit rules in force (the chain's and the login rules), read at scrape time. */
  readonly rules?: (() => Iterable<string>) | undefined
  /** The job backlog (jobs due now and the wait of the oldest), read at scrape time. */
  readonly jobs?: (() => Promise<{ due: number; oldestDueMs: number | null; scheduled: number }>) | undefined
  /** prom-client's process and Node.js metrics (default: on). */
  readonly defaults?: boolean | undefined
}

/** Builds the metrics of one app. */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry()
  if (options.defaults !== false) {
    collectDefaultMetrics({ register: registry, prefix: PREFIX })
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(PREFIX + name)
  }
  const requests = new Counter({
    name: 'gantry_http_requests_total',
    help: 'HTTP requests answered',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  })
  const durations = new Histogram({
    name: 'gantry_http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const logins = new Counter({ name: 'gantry_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers: [registry] })
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0)
  const rules = options.rules
  // A rule's series appear at the first scrape that finds it in force (adding 0 leaves a count as it is);
  // a rule removed since keeps its series, as any counter does.
  const decisions = new Counter({
    name: 'gantry_ratelimit_decisions_total',
    help: 'Rate-limit decisions by rule and result',
    labelNames: ['rule', 'result'],
    registers: [registry],
    collect() {
      for (const rule of rules?.() ?? []) for (const result of DECISION_RESULTS) this.inc({ rule, result }, 0)
    },
  })
  const storeErrors = new Counter({
    name: 'gantry_ratelimit_store_errors_total',
    help: "Rate-limit decisions the store could not make (the rule's onStoreError decided)",
    labelNames: ['rule'],
    registers: [registry],
    collect() {
      for (const rule of rules?.() ?? []) this.inc({ rule }, 0)
    },
  })
  const pool = options.pool
  if (pool) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read())
        },
      })
    gauge('gantry_db_pool_used_connections', 'Database connections in use', () => pool.numUsed())
    gauge('gantry_db_pool_free_connections', 'Idle database connections', () => pool.numFree())
    gauge('gantry_db_pool_pending_acquires', 'Requests waiting to acquire a database connection', () => pool.numPendingAcquires())
  }
  const deliveries = new Counter({
    name: 'gantry_webhook_deliveries_total',
    help: 'Webhook delivery attempts by endpoint and outcome (skipped: the endpoint’s creator may no longer read the event)',
    // Bounded: an environment holds at most 100 endpoints (webhooks.service.ts).
    labelNames: ['endpoint', 'outcome'],
    registers: [registry],
  })
  const seenEndpoints = new Set<string>()
  const attemptTimes = new Histogram({
    name: 'gantry_webhook_attempt_duration_seconds',
    help: 'Time a receiver took to answer a webhook delivery attempt',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  })
  const jobs = options.jobs
  if (jobs) {
    // One read of the job table per scrape, shared by the gauges that show it. A read that fails or hangs (the
    // database away) leaves the gauges as they were: the rest of the scrape is what an outage needs most.
    let backlog: Promise<{ due: number; oldestDueMs: number | null; scheduled: number } | undefined> | undefined
    const read = () =>
      (backlog ??= Promise.race([jobs(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), JOBS_READ_TIMEOUT_MS).unref())])
        .catch(() => undefined)
        .finally(() => setImmediate(() => (backlog = undefined))))
    new Gauge({
      name: 'gantry_jobs_due',
      help: 'Background jobs (webhook deliveries …) due now and not yet done',
      registers: [registry],
      async collect() {
        const now = await read()
        if (now) this.set(now.due)
      },
    })
    new Gauge({
      name: 'gantry_jobs_scheduled',
      help: 'Background jobs waiting for a later time (retries)',
      registers: [registry],
      async collect() {
        const now = await read()
        if (now) this.set(now.scheduled)
      },
    })
    new Gauge({
      name: 'gantry_jobs_oldest_due_age_seconds',
      help: 'How long the oldest job due has waited (0 when none is due)',
      registers: [registry],
      async collect() {
        const now = await read()
        if (now) this.set((now.oldestDueMs ?? 0) / 1000)
      },
    })
  }
  // Labelled children looked up once per label set: hashing the labels on every request costs more than the count.
  const requestSeries = new Map<string, { count: ReturnType<typeof requests.labels>; time: ReturnType<typeof durations.labels> }>()
  return {
    registry,
    observeRequest(route, method, status, seconds) {
      const key = `${route} ${method} ${status}`
      let series = requestSeries.get(key)
      if (!series) {
        series = { count: requests.labels({ route, method, status: String(status) }), time: durations.labels({ route, method }) }
        requestSeries.set(key, series)
      }
      series.count.inc()
      series.time.observe(seconds)
    },
    observeLogin: (outcome) => logins.inc({ outcome }),
    observeDecision(decision) {
      for (const applied of decision.applied) {
        decisions.inc({ rule: applied.rule, result: applied.allowed ? 'admitted' : applied.shadow ? 'shadow_refused' : 'refused' })
        if (applied.storeError) storeErrors.inc({ rule: applied.rule })
      }
    },
    observeDelivery(endpoint, outcome, seconds) {
      // An endpoint's series all appear with its first attempt, so rate() over any of them has a series to read.
      if (!seenEndpoints.has(endpoint)) {
        seenEndpoints.add(endpoint)
        for (const o of DELIVERY_OUTCOMES) deliveries.inc({ endpoint, outcome: o }, 0)
      }
      deliveries.inc({ endpoint, outcome })
      if (seconds !== null) attemptTimes.observe(seconds)
    },
  }
}
