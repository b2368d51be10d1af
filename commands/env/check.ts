import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import type { Environment } from '../../src/config/schema.js'
import type { Workspace } from '../../src/config/workspace.js'
import { GantryError, isGantryError } from '../../src/core/errors.js'
import { ping, type Database } from '../../src/db/connect.js'
import { createMigrator } from '../../src/db/migrator/index.js'
import { pingRedis } from '../../src/db/redis.js'
import { redact } from '../../src/db/url.js'

const checkSchema = z.object({
  name: z.enum(['config', 'database', 'redis', 'migrations']),
  status: z.enum(['ok', 'warn', 'fail', 'skipped']),
  latencyMs: z.number().nullable(),
  message: z.string(),
})
const resultSchema = z.object({ environment: z.string(), ready: z.boolean(), checks: z.array(checkSchema) })

type Check = z.infer<typeof checkSchema>
type Outcome = Omit<Check, 'name' | 'latencyMs'> & { latencyMs?: number }

export default class EnvCheck extends GantryCommand<typeof EnvCheck> {
  static override summary = 'Check that an environment is ready: config, database, Redis, migrations.'
  static override description =
    'Runs each check in order and reports ok, warn or fail with its latency: the config resolves; the database answers; ' +
    'Redis answers (or the in-memory store is used); no migration is pending, edited or partial. Exits 3 when a check fails; ' +
    'with --json the failing run still lists the checks, in error.details.checks.'
  static override examples = ['<%= config.bin %> env check', '<%= config.bin %> env check -e production --json']
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const workspace = this.workspace()
    const name = this.envName
    const checks: Check[] = []
    const step = async (check: Check['name'], label: string, work: () => Promise<Outcome>): Promise<Check> => {
      const outcome = await this.ui.spin(label, () => work().catch((err: unknown) => failure(err)))
      const result = { name: check, status: outcome.status, latencyMs: outcome.latencyMs ?? null, message: outcome.message }
      checks.push(result)
      return result
    }

    let environment: Environment | undefined
    await step('config', 'Checking the config', async () => {
      environment = this.environment(workspace)
      return { status: 'ok', message: `${workspace.configPath} is valid; ${name} resolves.` }
    })
    let db: Database | undefined
    if (environment) {
      const env = environment
      await step('database', 'Checking the database', async () => {
        db = await (await this.runtime()).database()
        return { status: 'ok', latencyMs: await ping(db), message: `${db.target.display} answers.` }
      })
      await step('redis', 'Checking Redis', async () =>
        env.redis === null
          ? { status: 'ok', message: 'memory: no Redis configured, the in-memory store is used.' }
          : { status: 'ok', latencyMs: await pingRedis(env.redis), message: `${redact(env.redis)} answers.` },
      )
    }
    const database = db
    if (database) await step('migrations', 'Checking migrations', () => migrationCheck(database, workspace))
    for (const missing of ['database', 'redis', 'migrations'] as const) {
      if (!checks.some((c) => c.name === missing)) checks.push({ name: missing, status: 'skipped', latencyMs: null, message: 'not checked: an earlier check failed.' })
    }

    this.render(checks)
    const failed = checks.filter((c) => c.status === 'fail')
    if (failed.length > 0) {
      throw new GantryError('NOT_READY', `${name} is not ready: ${failed.map((c) => `${c.name}: ${c.message.replace(/\.$/, '')}`).join('; ')}`, {
        details: { environment: name, checks },
      })
    }
    return { environment: name, ready: true, checks }
  }

  private render(checks: readonly Check[]): void {
    const { color } = this.ui
    const paint = { ok: color.green, warn: color.yellow, fail: color.red, skipped: color.dim }
    this.ui.table(
      checks.map((c) => ({ ...c, status: paint[c.status](c.status), latency: c.latencyMs === null ? '' : `${c.latencyMs} ms` })),
      [['name', 'CHECK'], ['status', 'STATUS'], ['latency', 'LATENCY'], ['message', 'MESSAGE']],
    )
  }
}

/**
 * The migrations check: pending ones warn (with the command that applies them); an edited or partial one
 * fails; a lock held by a run in progress warns. Kept in one function so readiness can share it later.
 */
async function migrationCheck(db: Database, workspace: Workspace): Promise<Outcome> {
  const started = performance.now()
  const status = await createMigrator({ db, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName }).status()
  const latencyMs = Math.round((performance.now() - started) * 10) / 10
  const blocked = status.migrations.filter((m) => m.state === 'modified' || m.state === 'partial')
  if (blocked.length > 0) {
    const list = blocked.map((m) => `${m.name} (${m.state})`).join(', ')
    return { status: 'fail', latencyMs, message: `${list}; see \`gantry migrate status\`.` }
  }
  if (status.pending > 0) {
    return { status: 'warn', latencyMs, message: `${status.pending} pending migration${status.pending === 1 ? '' : 's'}: run \`gantry migrate latest\`.` }
  }
  if (status.lock) return { status: 'warn', latencyMs, message: `up to date; a migration run holds the lock (${status.lock.host} pid ${status.lock.pid}).` }
  const applied = status.migrations.filter((m) => m.state === 'applied').length
  return { status: 'ok', latencyMs, message: `up to date (${applied} applied).` }
}

/** A failed check; an unknown environment is a usage error, not a readiness failure. */
function failure(err: unknown): Outcome {
  if (isGantryError(err) && err.code !== 'ENV_UNKNOWN') return { status: 'fail', message: `${err.message.replace(/\.$/, '')} (${err.code})` }
  throw err
}
