/**
 * createGantry: Gantry inside a team's own app. It opens the workspace's environment once, through the
 * same composition root as every command (openRuntime), and wires the pieces the way `gantry serve` does —
 * the services, the live rate-limit rules over the environment's store with the shared decision counts,
 * the metrics, the readiness probe and the authenticator — so a token, a key, a permission or a rule
 * means in the app exactly what it means in the bundled server.
 */
import { DEFAULT_ENVIRONMENT } from '../../config/defaults.js'
import { loadWorkspace, resolveEnvironment } from '../../config/workspace.js'
import { systemClock } from '../../core/clock.js'
import { GantryError } from '../../core/errors.js'
import { createAuthenticator } from '../../core/sessions/authenticate.js'
import { packageVersion } from '../../package-root.js'
import { openRuntime } from '../../runtime.js'
import { createMetrics, type PoolStats } from '../metrics.js'
import { rateLimitEdge } from '../middleware/rate-limit.js'
import { startRateLimiting } from '../rate-limiting.js'
import { createReadinessProbe } from '../readiness.js'
import { embedMiddleware } from './middleware.js'
import { permissionCatalog } from './permissions.js'
import type { Gantry, GantryOptions } from './types.js'

/** Opens the environment and gives the app its middleware; call close() when the app stops. */
export async function createGantry(options: GantryOptions = {}): Promise<Gantry> {
  const cwd = options.cwd ?? process.cwd()
  const workspace = loadWorkspace({ cwd, configPath: options.config })
  const environment = resolveEnvironment(workspace, options.env ?? (process.env.GANTRY_ENV || DEFAULT_ENVIRONMENT))
  if (!environment.auth.secret) {
    throw new GantryError('AUTH_SECRET_MISSING', `Environment "${environment.name}" has no token secret (auth.secret): the app could not check a token.`)
  }
  // Before any client opens: a bad declared permission is a mistake in the app's code.
  const permission = permissionCatalog(options.permissions)
  const runtime = await openRuntime({ workspace, environment, logTo: 'stdout', logger: options.logger })
  try {
    const [db, services, logger] = await Promise.all([runtime.database(), runtime.services(), runtime.logger()])
    const clock = systemClock
    const { rules, counts } = await startRateLimiting({ runtime, services, logger, clock })
    // Sessions ended by a server, a command or another app instance reach this one at once (runtime.close() unsubscribes).
    await runtime.subscribeAccessChanges((change) => services.sessions.forget(change))
    const metrics = createMetrics({ pool: (db.knex.client as { pool?: PoolStats }).pool })
    const observe = (decision: Parameters<typeof metrics.observeDecision>[0]): void => {
      metrics.observeDecision(decision)
      counts.record(decision)
    }
    const limits = rateLimitEdge(rules, observe)
    const authenticator = createAuthenticator(services)
    const apiKeys = createAuthenticator(services, 'apiKey')
    const tokens = createAuthenticator(services, 'token')
    const readiness = createReadinessProbe({ runtime, version: packageVersion(), clock, failsClosed: rules.failsClosed, checks: options.checks })
    const middleware = embedMiddleware({ authenticator, apiKeys, limits, permission, readiness, logger, environmentName: environment.name })
    let closing: Promise<void> | undefined

    return {
      environment: environment.name,
      ...middleware,
      metrics: metrics.registry,
      verifyAccessToken: (token, ip) => tokens.authenticate(token, ip),
      checkApiKey: (key, ip) => apiKeys.authenticate(key, ip),
      async checkRateLimit(request) {
        const { method, path, ip, user, apiKey } = request
        const decision = await rules.chain.check({ method, path, ip, ...(user === undefined ? {} : { user: String(user) }), ...(apiKey === undefined ? {} : { apiKey }) })
        observe(decision)
        return decision
      },
      close: () =>
        (closing ??= (async () => {
          rules.close()
          try {
            await counts.close()
          } finally {
            await runtime.close()
          }
        })()),
    }
  } catch (err) {
    await runtime.close()
    throw err
  }
}
