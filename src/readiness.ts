import { z } from 'zod'
import type { Environment } from './config/schema.js'
import { GantryError, isGantryError } from './core/errors.js'
import { ping } from './db/connect.js'
import { createMigrator } from './db/migrator/index.js'
import { redact } from './db/url.js'
import type { Runtime } from './runtime.js'

/**
 * Whether an environment is ready, check by check: the config resolves, the database answers, Redis
 * answers (or the in-memory store is used), no migration is pending, edited or partial. `env check` shows
 * it; the server's readiness endpoint is meant to share these rules.
 */
export const checkSchema = z.object({
  name: z.enum(['config', 'database', 'redis', 'migrations']),
  status: z.enum(['ok', 'warn', 'fail', 'skipped']),
  latencyMs: z.number().nullable(),
  message: z.string(),
})
export const readinessSchema = z.object({ environment: z.string(), ready: z.boolean(), checks: z.array(checkSchema) })

export type Check = z.infer<typeof checkSchema>
export type Readiness = z.infer<typeof readinessSchema>
/** What one check found. */
export type Outcome = Omit<Check, 'name' | 'latencyMs'> & { latencyMs?: number | undefined }

/** What the checks need: the environment (resolving it is the config check) and its runtime. */
export interface ReadinessInputs {
  readonly name: string
  readonly configPath: string
  resolve(): Environment
  runtime(): Promise<Runtime>
  /** Wraps each check (a spinner on a terminal). */
  step?<T>(label: string, work: () => Promise<T>): Promise<T>
}

/** Runs the checks in order; a check that cannot run because an earlier one failed is `skipped`. */
export async function checkReadiness(inputs: ReadinessInputs): Promise<Readiness> {
  const checks: Check[] = []
  const wrap = inputs.step ?? (<T>(_label: string, work: () => Promise<T>) => work())
  const run = async (name: Check['name'], label: string, work: () => Promise<Outcome>): Promise<boolean> => {
    const outcome = await wrap(label, () => work().catch(failure))
    checks.push({ name, status: outcome.status, latencyMs: outcome.latencyMs ?? null, message: outcome.message })
    return outcome.status !== 'fail'
  }

  const configOk = await run('config', 'Checking the config', async () => {
    inputs.resolve()
    return { status: 'ok', message: `${inputs.configPath} is valid; ${inputs.name} resolves.` }
  })
  if (configOk) {
    const runtime = await inputs.runtime()
    const dbOk = await run('database', 'Checking the database', async () => {
      const db = await runtime.database()
      return { status: 'ok', latencyMs: await ping(db), message: `${db.target.display} answers (driver ${db.driver}).` }
    })
    await run('redis', 'Checking Redis', async () => {
      const latencyMs = await runtime.pingRedis()
      return latencyMs === null
        ? { status: 'ok', message: 'memory: no Redis configured, the in-memory store is used.' }
        : { status: 'ok', latencyMs, message: `${redact(runtime.environment.redis ?? '')} answers.` }
    })
    if (dbOk) await run('migrations', 'Checking migrations', () => migrationCheck(runtime, 'warn'))
  }
  for (const name of ['database', 'redis', 'migrations'] as const) {
    if (!checks.some((c) => c.name === name)) checks.push({ name, status: 'skipped', latencyMs: null, message: 'not checked: an earlier check failed.' })
  }
  return { environment: inputs.name, ready: !checks.some((c) => c.status === 'fail'), checks }
}

/** The error a failed readiness report becomes (exit 3), carrying the checks for --json. */
export function notReadyError(report: Readiness): GantryError {
  const failed = report.checks.filter((c) => c.status === 'fail')
  const reasons = failed.map((c) => `${c.name}: ${c.message.replace(/\.$/, '')}`).join('; ')
  return new GantryError('NOT_READY', `${report.environment} is not ready: ${reasons}`, { details: { environment: report.environment, checks: report.checks } })
}

/**
 * The migrations check. An edited or partial migration fails; pending ones warn for `env check` (with the
 * command that applies them) and fail for the server, which must not take traffic on an old schema; a
 * lock held by a run in progress warns; migrations applied that this version does not know pass (a newer
 * release ran them).
 */
export async function migrationCheck(runtime: Runtime, pending: 'warn' | 'fail'): Promise<Outcome> {
  const started = performance.now()
  const { migrations } = runtime.workspace
  const status = await createMigrator({ db: await runtime.database(), appDirectory: migrations.directory, appTable: migrations.tableName }).status()
  const latencyMs = Math.round((performance.now() - started) * 10) / 10
  const list = (state: string) => status.migrations.filter((m) => m.state === state).map((m) => `${m.name} (${state})`)
  // A partial migration left the schema half-changed: fail. An edited one ran as it was: the schema is what
  // this version expects, so it serves, with a warning (DESIGN.md "HTTP API").
  const partial = list('partial')
  if (partial.length > 0) return { status: 'fail', latencyMs, message: `${partial.join(', ')}; see \`gantry migrate status\`.` }
  if (status.pending > 0) {
    return { status: pending, latencyMs, message: `${status.pending} pending migration${status.pending === 1 ? '' : 's'}: run \`gantry migrate latest\`.` }
  }
  const modified = list('modified')
  if (modified.length > 0) return { status: 'warn', latencyMs, message: `${modified.join(', ')}; see \`gantry migrate status\`.` }
  if (status.lock) return { status: 'warn', latencyMs, message: `up to date; a migration run holds the lock (${status.lock.host} pid ${status.lock.pid}).` }
  const applied = status.migrations.filter((m) => m.state === 'applied').length
  return { status: 'ok', latencyMs, message: `up to date (${applied} applied).` }
}

/** A failed check; an unknown environment is a usage error, not a readiness failure. */
function failure(err: unknown): Outcome {
  if (isGantryError(err) && err.code !== 'ENV_UNKNOWN') return { status: 'fail', message: `${err.message.replace(/\.$/, '')} (${err.code})` }
  throw err
}
