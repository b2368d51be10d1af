/**
 * createGantry: Gantry inside a team's own app. It opens the workspace's environment once, through the
 * same composition root as every command (openRuntime), and composes the running server's parts as
 * `gantry serve` does (compose.ts), so a token, a key, a permission or a rule means in the app exactly
 * what it means in the bundled server; this adds only the app-facing middleware and checks.
 */
import { DEFAULT_ENVIRONMENT } from '../../config/defaults.js'
import { loadWorkspace, resolveEnvironment } from '../../config/workspace.js'
import { createAuthenticator } from '../../core/sessions/authenticate.js'
import { packageVersion } from '../../package-root.js'
import { openRuntime } from '../../runtime.js'
import { composeServer, requireAuthSecret } from '../compose.js'
import { rateLimitEdge } from '../middleware/rate-limit.js'
import { libraryFlags } from './flags.js'
import { embedMiddleware } from './middleware.js'
import { permissionCatalog } from './permissions.js'
import type { Gantry, GantryOptions } from './types.js'

/** Opens the environment and gives the app its middleware; call close() when the app stops. */
export async function createGantry(options: GantryOptions = {}): Promise<Gantry> {
  const cwd = options.cwd ?? process.cwd()
  const workspace = loadWorkspace({ cwd, configPath: options.config })
  const environment = resolveEnvironment(workspace, options.env ?? (process.env.GANTRY_ENV || DEFAULT_ENVIRONMENT))
  requireAuthSecret(environment)
  // Before any client opens: a bad declared permission is a mistake in the app's code.
  const permission = permissionCatalog(options.permissions)
  const runtime = await openRuntime({ workspace, environment, logTo: 'stdout', logger: options.logger })
  try {
    const parts = await composeServer(runtime, { version: packageVersion(), checks: options.checks, worker: options.worker === true })
    const { services, logger, readiness, metrics, rateLimits: rules, observeDecision } = parts
    const limits = rateLimitEdge(rules, observeDecision)
    const authenticator = createAuthenticator(services)
    const apiKeys = createAuthenticator(services, 'apiKey')
    const tokens = createAuthenticator(services, 'token')
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
        const decision = await rules.chain.check({
          method,
          path,
          ip,
          ...(user === undefined ? {} : { user: String(user) }),
          ...(apiKey === undefined ? {} : { apiKey }),
        })
        observeDecision(decision)
        return decision
      },
      flags: libraryFlags(parts.flags),
      events: {
        async emit(type, payload, emitOptions) {
          await services.events.emit(type, payload, emitOptions)
          // Without a transaction of the app's the event has committed: this process's worker starts on it now.
          if (emitOptions?.trx === undefined) parts.worker?.wake()
        },
      },
      close: () =>
        (closing ??= (async () => {
          try {
            await parts.close()
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
