/**
 * The bundled server's app over a real, migrated database of one dialect, built the way `gantry serve`
 * builds it but with a manual clock (token expiry, rate limits, caches move only when a test says) and
 * the log captured. Seeded with one user per built-in role.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import { manualClock } from '../../src/core/clock.js'
import { localContext } from '../../src/core/context.js'
import { createServices, type Services } from '../../src/core/services.js'
import { backupDirectory, listBackups } from '../../src/db/backups.js'
import { workspaceMigrator } from '../../src/db/migrator/index.js'
import type { Dialect } from '../../src/db/url.js'
import { createMemoryStore, createProbe, startLiveRules, type LiveRules } from '../../src/ratelimit/index.js'
import { openRuntime, type Runtime } from '../../src/runtime.js'
import { createApp, type GantryApp } from '../../src/server/app.js'
import { decisionObserver, ruleNames } from '../../src/server/compose.js'
import { createLifecycle, type Lifecycle } from '../../src/server/listen.js'
import { createMetrics, type Metrics, type PoolStats } from '../../src/server/metrics.js'
import { createReadinessProbe } from '../../src/server/readiness.js'
import { createTrafficRing } from '../../src/server/traffic.js'
import { createTestDatabase } from './services.js'
import { BUILTIN_RULE_ROUTES } from '../../src/server/builtin-routes.js'
import { createWebhookSender } from '../../src/client/webhook-sender.js'
import { jobBacklog } from '../../src/core/jobs/job-queue.js'
import { parseDuration } from '../../src/core/duration.js'
import { parseDataKeys } from '../../src/core/encryption/data-keys.js'

export const PASSWORD = 'plenty long passphrase 1'
export const USERS = { admin: 'admin@example.com', operator: 'operator@example.com', viewer: 'viewer@example.com' } as const

export interface TestServer {
  readonly app: GantryApp
  readonly runtime: Runtime
  readonly services: Services
  readonly clock: ReturnType<typeof manualClock>
  readonly metrics: Metrics
  readonly lifecycle: Lifecycle
  /** The rules in force; `refresh()` reloads them after a change (the app polls every second too). */
  readonly rateLimits: LiveRules
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, unknown>[]
  /** An access token of a seeded user (admin, operator or viewer), signed now. */
  token(role: keyof typeof USERS): Promise<string>
  cleanup(): Promise<void>
}

export interface TestServerOptions {
  /** Extra fields of the development environment in gantry.config.json (server, rateLimits, auth …). */
  readonly environment?: Record<string, unknown>
  /** Apply Gantry's migrations and seed USERS (default); false leaves the database without Gantry's tables. */
  readonly migrated?: boolean
}

/** Builds the app over a fresh database of `dialect`, migrated and seeded (unless `migrated: false`). */
export async function createTestServer(dialect: Dialect, options: TestServerOptions = {}): Promise<TestServer> {
  const testDb = await createTestDatabase(dialect)
  const root = mkdtempSync(join(tmpdir(), 'gantry-server-'))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: testDb.url, ...options.environment } } }))
  const workspace = loadWorkspace({ cwd: root })
  const environment = resolveEnvironment(workspace, 'development', { GANTRY_AUTH_SECRET: randomBytes(48).toString('base64') })
  const runtime = await openRuntime({ workspace, environment })
  const db = await runtime.database()
  if (options.migrated !== false) await workspaceMigrator(db, workspace.migrations, { actor: 'test' }).latest()

  const clock = manualClock(Date.now())
  const store = createMemoryStore({ clock })
  // Webhook secrets sealed under a key of this server's own; deliveries really sent (development allows loopback receivers).
  const dataKeys = parseDataKeys(randomBytes(32).toString('base64'))
  const sender = createWebhookSender({ allowPrivateTargets: true })
  const services = createServices({
    rateLimitRoutes: BUILTIN_RULE_ROUTES,
    knex: db.knex,
    clock,
    environmentName: environment.name,
    auth: environment.auth,
    passwordPolicy: { minLength: environment.auth.passwordMinLength },
    lockout: { maxFailures: environment.auth.lockout.maxFailures, lockMinutes: environment.auth.lockout.minutes },
    loginFloor: environment.auth.loginFloor,
    rateLimits: { defaults: environment.rateLimits.default, probe: createProbe({ store, shared: false, clock }) },
    webhooks: {
      keys: () => dataKeys,
      send: sender.send,
      settings: { attemptTimeoutMs: 2000, disableAfterMs: 86_400_000, allowPrivateTargets: true, retentionMs: 30 * 86_400_000 },
      userAgent: 'Gantry-Webhooks/test',
    },
    // As the runtime lists them: backups.directory from the workspace root (none there until a test takes one).
    backups: {
      list: async () => {
        const directory = backupDirectory(environment, workspace.root)
        return { directory, data: await listBackups(directory) }
      },
    },
  })
  const ctx = localContext('local:test@host')
  if (options.migrated !== false) for (const [role, email] of Object.entries(USERS)) await services.users.create(ctx, { email, role, password: PASSWORD })

  const logs: Record<string, unknown>[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) })
  const rateLimits = await startLiveRules({
    source: services.rateLimits,
    store,
    fallback: createMemoryStore({ clock }),
    clock,
    onReloadError: (err) => logs.push({ msg: 'reload failed', err: String(err) }),
  })
  const lifecycle = createLifecycle()
  const metrics = createMetrics({ defaults: false, pool: (db.knex.client as { pool?: PoolStats }).pool, rules: () => ruleNames(rateLimits) })
  const app = createApp({
    environment,
    services,
    rateLimits,
    observeDecision: decisionObserver(metrics),
    logger,
    clock,
    version: '0.0.0-test',
    readiness: createReadinessProbe({
      runtime,
      version: '0.0.0-test',
      clock,
      // As the composed server has it (src/server/compose.ts): the job backlog against webhooks.maxDueAge.
      jobs: { backlog: () => jobBacklog(db.knex, clock.now()), maxDueAgeMs: parseDuration(environment.webhooks.maxDueAge) },
    }),
    metrics,
    traffic: createTrafficRing(clock),
    draining: lifecycle.draining,
  })
  return {
    app,
    runtime,
    services,
    clock,
    metrics,
    lifecycle,
    rateLimits,
    logs,
    async token(role) {
      return (await services.sessions.login(USERS[role], PASSWORD, ctx)).accessToken
    },
    async cleanup() {
      sender.close()
      rateLimits.close()
      await runtime.close()
      await testDb.drop()
      rmSync(root, { recursive: true, force: true })
    },
  }
}
