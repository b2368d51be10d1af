/**
 * An app of the test's own protected by createGantry, over a real workspace: gantry.config.json in a temp
 * folder naming a fresh database of one dialect (and the shared Redis, or none: the memory store), the
 * token secret in .env.development, Gantry's migrations applied. Seeded the way an operator would, through
 * the services of a second runtime (the CLI's door): one user per built-in role, a custom role holding
 * the app's own `orders:write`, and a user of it.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import express, { type Express } from 'express'
import { pino } from 'pino'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { localContext } from '../../../src/core/context.js'
import type { Services } from '../../../src/core/services.js'
import type { Dialect } from '../../../src/db/url.js'
import type * as Library from '../../../src/index.js'
import type { Gantry, GantryOptions } from '../../../src/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { runGantry } from '../../helpers/cli.js'
import { createTestDatabase, SERVICE_URLS } from '../../helpers/services.js'

export const PASSWORD = 'plenty long passphrase 1'
export const USERS = { admin: 'admin@example.com', operator: 'operator@example.com', viewer: 'viewer@example.com', packer: 'packer@example.com' } as const
/** The app's own permissions. */
export const APP_PERMISSIONS = ['orders:read', 'orders:write'] as const
export const ctx = localContext('local:test@host')

export interface EmbedFixture {
  readonly root: string
  /** The operator's door: its own runtime over the same workspace (what `gantry …` commands use). */
  readonly runtime: Runtime
  readonly services: Services
  readonly gantry: Gantry
  readonly app: Express
  /** Every line Gantry logged, parsed. */
  readonly logs: Record<string, unknown>[]
  /** What the app's own readiness check does: `fail` makes it throw, `hang` never settle. */
  readonly appCheck: { fail: boolean; hang: boolean }
  /** An access token of a seeded user, signed now. */
  token(user: keyof typeof USERS): Promise<string>
  cleanup(): Promise<void>
}

/**
 * The library as an app gets it: imported, not required. Mocha requires the test files (tsx compiles them
 * to CommonJS), while the runtime imports its services with import(), which loads the ES module copies; the
 * library loaded the same way shares those copies (one GantryError class, as in the built package).
 */
export const library = (): Promise<typeof Library> => import('../../../src/index.js')

/** The workspace, seeded, and the app over createGantry. */
export async function embedFixture(dialect: Dialect, options: { redis: boolean; gantry?: Partial<GantryOptions> }): Promise<EmbedFixture> {
  const testDb = await createTestDatabase(dialect)
  const root = mkdtempSync(join(tmpdir(), 'gantry-embed-'))
  const development = { database: testDb.url, ...(options.redis ? { redis: SERVICE_URLS.redis } : {}) }
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development } }))
  writeFileSync(
    join(root, '.env.development'),
    `GANTRY_AUTH_SECRET=${randomBytes(48).toString('base64')}\nGANTRY_ENCRYPTION_KEY=${randomBytes(32).toString('base64')}\n`,
    { mode: 0o600 },
  )
  const workspace = loadWorkspace({ cwd: root })
  // Migrated by the built CLI, as an operator would.
  const migrated = await runGantry(['migrate', 'latest', '--json'], { cwd: root })
  expect(migrated.code, migrated.stderr).to.equal(0)
  const runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'development', {}), logger: pino({ level: 'silent' }) })
  const services = await runtime.services()
  await services.roles.create(ctx, { name: 'packer', description: 'Packs orders.', permissions: ['orders:write'] })
  const roles = { admin: 'admin', operator: 'operator', viewer: 'viewer', packer: 'packer' } as const
  for (const [user, email] of Object.entries(USERS)) await services.users.create(ctx, { email, role: roles[user as keyof typeof roles], password: PASSWORD })

  const logs: Record<string, unknown>[] = []
  const appCheck = { fail: false, hang: false }
  const { createGantry } = await library()
  const gantry = await createGantry({
    cwd: root,
    env: 'development',
    permissions: APP_PERMISSIONS,
    logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    checks: {
      'orders-queue:status': async () => {
        if (appCheck.hang) await new Promise(() => undefined)
        if (appCheck.fail) throw new Error('queue unreachable')
      },
    },
    ...options.gantry,
  })
  return {
    root,
    runtime,
    services,
    gantry,
    app: ordersApp(gantry),
    logs,
    appCheck,
    async token(user) {
      return (await services.sessions.login(USERS[user], PASSWORD, ctx)).accessToken
    },
    async cleanup() {
      await gantry.close()
      await runtime.close()
      await testDb.drop()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** The team's app: its own routes, protected by Gantry's middleware as the README shows. */
export function ordersApp(gantry: Gantry): Express {
  const app = express()
  const caller = (req: express.Request, res: express.Response): void => void res.json({ caller: req.gantry ?? null })
  // Probes and scrapes before the limits, as the bundled server has them.
  app.get('/ready', gantry.readiness())
  app.get('/metrics', async (_req, res) => {
    res.type(gantry.metrics.contentType).send(await gantry.metrics.metrics())
  })
  app.use(gantry.rateLimit())
  app.get('/shared/:id', (_req, res) => void res.json({ app: true }))
  app.get('/public', gantry.authenticate({ optional: true }), caller)
  app.get('/orders', gantry.authenticate(), gantry.requirePermission('orders:read'), caller)
  app.post('/orders', gantry.authenticate(), gantry.requirePermission('orders:write'), caller)
  app.get('/admin/limits', gantry.authenticate(), gantry.requirePermission('ratelimits:write'), caller)
  app.get('/machine', gantry.verifyApiKey(), gantry.requirePermission('orders:read'), caller)
  const router = express.Router()
  router.get('/ping', gantry.authenticate(), caller)
  app.use('/v2/orders', router)
  app.use(gantry.errors())
  return app
}
