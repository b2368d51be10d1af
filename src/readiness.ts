import { z } from 'zod'
import type { Environment } from './config/schema.js'
import { GantryError, isGantryError } from './core/errors.js'
import { secretBytes } from './core/sessions/token-keys.js'
import { ping, transport, type Database, type Transport } from './db/connect.js'
import { createMigrator } from './db/migrator/index.js'
import { redact } from './db/url.js'
import type { Runtime } from './runtime.js'

/**
 * Whether an environment is ready, check by check: the config resolves, the token secret is set, the
 * database answers, Redis answers (or the in-memory store is used), no migration is pending, edited or
 * partial. `env check` shows it; the server's readiness endpoint shares the migration rule (migrationCheck),
 * and the server refuses to start without the secret (compose.ts), so both doors agree on what ready means.
 */
export const checkSchema = z.object({
  name: z.enum(['config', 'auth', 'database', 'redis', 'migrations']),
  status: z.enum(['ok', 'warn', 'fail', 'skipped']),
  latencyMs: z.number().nullable(),
  message: z.string(),
})
export const readinessSchema = z.object({ environment: z.string(), ready: z.boolean(), checks: z.array(checkSchema) })

export type Check = z.infer<typeof checkSchema>
export type Readiness = z.infer<typeof readinessSchema>
/**
 * What one check found. `fix` and `error` are for callers that word a next step (`gantry doctor`); they
 * stay out of Check, so the documents of `env check` and the server keep their shape.
 */
export type Outcome = Omit<Check, 'name' | 'latencyMs'> & {
  latencyMs?: number | undefined
  /** The command or edit that fixes a warn or fail, where the check knows it. */
  fix?: string | undefined
  /** The error a failed check caught: its code and hint say what to do. */
  error?: GantryError | undefined
}

/** What the checks need: the environment (resolving it is the config check) and its runtime. */
export interface ReadinessInputs {
  readonly name: string
  readonly configPath: string
  resolve(): Environment
  runtime(): Promise<Runtime>
  /** Wraps each check (a spinner on a terminal, ending with the outcome's mark); `name` is the check's. */
  step?(label: string, work: () => Promise<Outcome>, name: Check['name']): Promise<Outcome>
}

/** Runs the checks in order; a check that cannot run because an earlier one failed is `skipped`. */
export async function checkReadiness(inputs: ReadinessInputs): Promise<Readiness> {
  const checks: Check[] = []
  const wrap = inputs.step ?? ((_label: string, work: () => Promise<Outcome>) => work())
  const run = async (name: Check['name'], label: string, work: () => Promise<Outcome>): Promise<boolean> => {
    const outcome = await wrap(label, () => work().catch(failure), name)
    checks.push({ name, status: outcome.status, latencyMs: outcome.latencyMs ?? null, message: outcome.message })
    return outcome.status !== 'fail'
  }

  let environment: Environment | undefined
  const configOk = await run('config', 'Checking the config', async () => {
    environment = inputs.resolve()
    return { status: 'ok', message: `${inputs.configPath} is valid; ${inputs.name} resolves.` }
  })
  if (configOk && environment) {
    const resolved = environment
    await run('auth', 'Checking the token secret', async () => authCheck(resolved))
    const runtime = await inputs.runtime()
    const dbOk = await run('database', 'Checking the database', async () => {
      const db = await runtime.database()
      const latencyMs = await ping(db)
      return databaseOutcome(db, await transport(db), latencyMs, resolved.protected)
    })
    await run('redis', 'Checking Redis', async () => {
      const latencyMs = await runtime.pingRedis()
      return latencyMs === null
        ? { status: 'ok', message: 'memory: no Redis configured, the in-memory store is used.' }
        : { status: 'ok', latencyMs, message: `${redact(runtime.environment.redis ?? '')} answers.` }
    })
    if (dbOk) await run('migrations', 'Checking migrations', () => migrationCheck(runtime))
  }
  for (const name of ['auth', 'database', 'redis', 'migrations'] as const) {
    if (!checks.some((c) => c.name === name)) checks.push({ name, status: 'skipped', latencyMs: null, message: 'not checked: an earlier check failed.' })
  }
  return { environment: inputs.name, ready: !checks.some((c) => c.status === 'fail'), checks }
}

/**
 * The database check: it answers, over which driver and whether encrypted. A protected environment whose
 * database is on another host and not encrypted warns: its credentials and data cross the network in clear.
 */
export function databaseOutcome(db: Database, via: Transport, latencyMs: number, isProtected: boolean): Outcome {
  const { target } = db
  const encryption = encryptionOf(target, via)
  const message = `${target.display} answers (driver ${db.driver}; ${encryption}).`
  const remote = target.dialect !== 'sqlite' && !isLoopback(target.host)
  if (isProtected && remote && via.kind === 'plain') {
    const fix = target.dialect === 'postgres' ? 'add sslmode=verify-full&sslrootcert=PATH to the URL' : 'add ssl-mode=VERIFY_IDENTITY&ssl-ca=PATH to the URL'
    return { status: 'warn', latencyMs, fix, message }
  }
  return { status: 'ok', latencyMs, message }
}

/** In words: a local file, not encrypted, or TLS with its version and whether the certificate was checked. */
function encryptionOf(target: Database['target'], via: Transport): string {
  if (via.kind === 'local') return 'a local file'
  if (via.kind === 'plain') return 'not encrypted'
  const mode = target.dialect === 'sqlite' ? undefined : target.tls.mode
  const checked = mode === 'verify-ca' || mode === 'verify-full' ? `certificate checked (${mode})` : 'certificate not checked'
  return `${via.version ? `TLS (${via.version})` : 'TLS'}, ${checked}`
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

/** The error a failed readiness report becomes (exit 3), carrying the checks for --json. */
export function notReadyError(report: Readiness): GantryError {
  const failed = report.checks.filter((c) => c.status === 'fail')
  const reasons = failed.map((c) => `${c.name}: ${c.message.replace(/\.$/, '')}`).join('; ')
  return new GantryError('NOT_READY', `${report.environment} is not ready: ${reasons}`, { details: { environment: report.environment, checks: report.checks } })
}

/**
 * The token secret: without one (or with one under 32 bytes) no token can be signed or checked and `gantry
 * serve` does not start. That fails a protected environment (production) and warns elsewhere, where the
 * CLI's local commands work without it.
 */
export function authCheck(environment: Environment): Outcome {
  const status = environment.protected ? 'fail' : 'warn'
  const fix = `Set GANTRY_AUTH_SECRET in .env.${environment.name} to the output of \`openssl rand -base64 48\`.`
  if (!environment.auth.secret) return { status, fix, message: 'no token secret: set GANTRY_AUTH_SECRET (at least 32 random bytes).' }
  try {
    secretBytes(environment.auth.secret)
  } catch (err) {
    if (isGantryError(err)) return { status, fix, message: `${err.message.replace(/\.$/, '')}: set a longer GANTRY_AUTH_SECRET.` }
    throw err
  }
  return { status: 'ok', message: 'the token secret is set.' }
}

/**
 * The migrations check, the same for `env check` and the server's readiness: a pending or partial migration
 * fails (the server must not take traffic on an old schema; the message names the command that applies
 * them); an edited one or a lock held by a run in progress warns; migrations applied that this version does
 * not know pass (a newer release ran them).
 */
export async function migrationCheck(runtime: Runtime): Promise<Outcome> {
  const started = performance.now()
  const { migrations } = runtime.workspace
  const status = await createMigrator({ db: await runtime.database(), appDirectory: migrations.directory, appTable: migrations.tableName }).status()
  const latencyMs = Math.round((performance.now() - started) * 10) / 10
  const list = (state: string) => status.migrations.filter((m) => m.state === state).map((m) => `${m.name} (${state})`)
  const env = runtime.environment.name
  const inspect = `gantry migrate status -e ${env}`
  // A partial migration left the schema half-changed: fail. An edited one ran as it was: the schema is what
  // this version expects, so it serves, with a warning (DESIGN.md "HTTP API").
  const partial = list('partial')
  if (partial.length > 0) return { status: 'fail', latencyMs, fix: inspect, message: `${partial.join(', ')}; see \`gantry migrate status\`.` }
  if (status.pending > 0) {
    const message = `${status.pending} pending migration${status.pending === 1 ? '' : 's'}: run \`gantry migrate latest\`.`
    return { status: 'fail', latencyMs, fix: `gantry migrate latest -e ${env}`, message }
  }
  const modified = list('modified')
  if (modified.length > 0) return { status: 'warn', latencyMs, fix: inspect, message: `${modified.join(', ')}; see \`gantry migrate status\`.` }
  if (status.lock) {
    return { status: 'warn', latencyMs, fix: inspect, message: `up to date; a migration run holds the lock (${status.lock.host} pid ${status.lock.pid}).` }
  }
  const applied = status.migrations.filter((m) => m.state === 'applied').length
  return { status: 'ok', latencyMs, message: `up to date (${applied} applied).` }
}

/** A failed check; an unknown environment is a usage error, not a readiness failure. */
function failure(err: unknown): Outcome {
  if (isGantryError(err) && err.code !== 'ENV_UNKNOWN') return { status: 'fail', message: `${err.message.replace(/\.$/, '')} (${err.code})`, error: err }
  throw err
}
