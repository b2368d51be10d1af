/**
 * Prometheus metrics (prom-client), one registry per app so two apps in one process (tests, workers)
 * never mix their counts: requests by route, method and status, their durations, login outcomes,
 * rate-limit decisions and the database pool.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { RateLimitDecision } from '../ratelimit/index.js'

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
  observeLogin(outcome: 'success' | 'invalid' | 'throttled' | 'error'): void
  observeDecision(decision: RateLimitDecision): void
}

/** Builds the metrics of one app; `pool` is read at scrape time. */
export function createMetrics(options: { pool?: PoolStats | undefined; defaults?: boolean }): Metrics {
  const registry = new Registry()
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'gantry_' })
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
  const decisions = new Counter({
    name: 'gantry_ratelimit_decisions_total',
    help: 'Rate-limit decisions by rule and result',
    labelNames: ['rule', 'result'],
    registers: [registry],
  })
  const storeErrors = new Counter({
    name: 'gantry_ratelimit_store_errors_total',
    help: "Rate-limit decisions the store could not make (the rule's onStoreError decided)",
    labelNames: ['rule'],
    registers: [registry],
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
    gauge('gantry_db_pool_used', 'Database connections in use', () => pool.numUsed())
    gauge('gantry_db_pool_free', 'Idle database connections', () => pool.numFree())
    gauge('gantry_db_pool_pending', 'Queries waiting for a connection', () => pool.numPendingAcquires())
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
  }
}
