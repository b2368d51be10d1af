/**
 * The checks behind `GET /api/health/ready`, in the application/health+json shape
 * (draft-inadarei-api-health-check). The rules are DESIGN.md's: database unreachable or migrations pending
 * fail; an edited migration or a held lock warns; Redis unreachable warns while the rules fail open, and
 * fails when one fails closed. Each
 * check is bounded, so a hung dependency makes readiness fail fast instead of hanging the probe.
 */
import type { Clock } from '../core/clock.js'
import { isGantryError } from '../core/errors.js'
import type { Health, HealthCheck } from '../core/health/health.schema.js'
import { ping } from '../db/connect.js'
import { migrationCheck, type Outcome } from '../readiness.js'
import type { Runtime } from '../runtime.js'

/** How long one check may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 1000
/** Migration status reads every file; probes come every few seconds, so its answer is reused this long. */
const MIGRATIONS_CACHE_MS = 2000

type Status = Health['status']

export interface ReadinessProbe {
  /** Runs the checks (at most CHECK_TIMEOUT_MS each) and sums them up. */
  check(): Promise<Health>
}

/** A check of the application's own (createGantry's `checks`): resolves when ready, throws when not. */
export type ExtraCheck = () => Promise<void>

/** Builds the readiness probe of a runtime; `checks` (an app's own, by name) join Gantry's, bounded and reported the same way. */
export function createReadinessProbe(options: {
  runtime: Runtime
  version: string
  clock: Clock
  timeoutMs?: number
  failsClosed?: () => boolean
  /** Whether the feature flags loaded: until they do, flags serve the code's defaults, and readiness warns. */
  flagsLoaded?: () => boolean
  checks?: Readonly<Record<string, ExtraCheck>>
  /** The job backlog, and how long the oldest due job may wait before readiness warns (no worker keeps up, or none runs). */
  jobs?: { backlog: () => Promise<{ due: number; oldestDueMs: number | null }>; maxDueAgeMs: number }
  /** Scheduled backups (backups.schedule set): warns when the last one failed or one is overdue. */
  backups?: (() => Promise<Outcome>) | undefined
}): ReadinessProbe {
  const { runtime, version, clock } = options
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS
  let migrations: { at: number; outcome: Outcome } | undefined

  const database = async (): Promise<Outcome> => ({ status: 'ok', latencyMs: await ping(await runtime.database()), message: 'answers' })
  const redis = async (): Promise<Outcome> => {
    const latencyMs = await runtime.pingRedis()
    return latencyMs === null ? { status: 'ok', message: 'in-memory store' } : { status: 'ok', latencyMs, message: 'answers' }
  }
  const migrationState = async (): Promise<Outcome> => {
    const now = clock.now()
    if (migrations && now - migrations.at < MIGRATIONS_CACHE_MS) return migrations.outcome
    const outcome = await migrationCheck(runtime)
    migrations = { at: now, outcome }
    return outcome
  }

  const jobs = async (): Promise<Outcome> => {
    if (!options.jobs) return { status: 'skipped', message: 'not checked' }
    const { due, oldestDueMs } = await options.jobs.backlog()
    const waited = Math.round((oldestDueMs ?? 0) / 1000)
    if (oldestDueMs !== null && oldestDueMs > options.jobs.maxDueAgeMs) {
      return { status: 'warn', message: `${due} background jobs due, the oldest waiting ${waited} s: is a worker running (gantry serve or gantry worker)?` }
    }
    return { status: 'ok', message: `${due} due` }
  }

  const flags = (loaded: () => boolean): Outcome =>
    loaded()
      ? { status: 'ok', message: 'loaded' }
      : { status: 'warn', message: "the flag store was unreachable since start: flags serve the code's defaults until it answers" }

  const extra = Object.entries(options.checks ?? {})
  const runExtra = async (check: ExtraCheck): Promise<Outcome> => {
    await check()
    return { status: 'ok', message: 'passes' }
  }

  return {
    async check() {
      const time = new Date(clock.now()).toISOString()
      const others = Promise.all(extra.map(([, check]) => bounded(runExtra(check), timeoutMs, 'fail')))
      const [db, mig, red, job, backup] = await Promise.all([
        bounded(database(), timeoutMs, 'fail'),
        bounded(migrationState(), timeoutMs, 'fail'),
        // Redis down: while every rule fails open (or falls back to memory) the instance still serves: warn. A
        // rule that fails closed refuses its requests then: fail, so the load balancer sends them elsewhere.
        bounded(redis(), timeoutMs, options.failsClosed?.() ? 'fail' : 'warn'),
        // A late job never stops this instance serving: warn at most.
        bounded(jobs(), timeoutMs, 'warn'),
        // Nor does a missed backup.
        options.backups ? bounded(options.backups(), timeoutMs, 'warn') : undefined,
      ])
      const checks: Health['checks'] = {
        'database:responseTime': [entry('datastore', db, time)],
        'migrations:status': [entry('component', mig, time)],
        'redis:responseTime': [entry('datastore', red, time)],
        ...(options.jobs ? { 'jobs:backlog': [entry('component', job, time)] } : {}),
        ...(backup ? { 'backups:schedule': [entry('component', backup, time)] } : {}),
      }
      const flagState = options.flagsLoaded && flags(options.flagsLoaded)
      if (flagState) checks['flags:snapshot'] = [entry('component', flagState, time)]
      const outcomes = await others
      extra.forEach(([name], i) => (checks[name] = [entry('component', outcomes[i]!, time)]))
      const statuses = [
        db.status,
        mig.status,
        red.status,
        job.status,
        flagState?.status ?? 'skipped',
        backup?.status ?? 'skipped',
        ...outcomes.map((o) => o.status),
      ]
      return { status: worst(statuses.map(toStatus)), version, checks }
    },
  }
}

/** The outcome of a check, or `onFailure` with the error's code when it throws or takes too long. */
async function bounded(work: Promise<Outcome>, timeoutMs: number, onFailure: 'fail' | 'warn'): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: onFailure, message: `no answer within ${timeoutMs} ms` }), timeoutMs)
  })
  try {
    // The message of a failure names only the catalog code: readiness is public, hosts and SQL are not.
    return await Promise.race([
      work.catch((err: unknown) => ({ status: onFailure, message: `unavailable (${isGantryError(err) ? err.code : 'error'})` })),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

function entry(componentType: string, outcome: Outcome, time: string): HealthCheck {
  const status = toStatus(outcome.status)
  return {
    componentType,
    status,
    ...(outcome.latencyMs === undefined ? {} : { observedValue: outcome.latencyMs, observedUnit: 'ms' }),
    ...(status === 'pass' ? {} : { output: outcome.message }),
    time,
  }
}

function toStatus(status: Outcome['status']): Status {
  return status === 'ok' || status === 'skipped' ? 'pass' : status
}

/** fail beats warn beats pass. */
export function worst(statuses: readonly Status[]): Status {
  return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass'
}
