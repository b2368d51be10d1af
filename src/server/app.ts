/**
 * createApp(deps): the bundled server as an Express 5 app that does not listen (listen.ts does). Every
 * dependency comes in — config, database, services, limiters, logger, clock — so tests build it over
 * SQLite and a memory store, and `gantry serve` over the environment's real clients.
 */
import cors from 'cors'
import express, { type Express, type RequestHandler } from 'express'
import helmet from 'helmet'
import type { Logger } from 'pino'
import { pinoHttp } from 'pino-http'
import type { Environment } from '../config/schema.js'
import type { Clock } from '../core/clock.js'
import type { Services } from '../core/services.js'
import { createAuthenticator } from '../core/sessions/authenticate.js'
import type { LiveRules, RateLimitDecision } from '../ratelimit/index.js'
import type { Metrics } from './metrics.js'
import { errorHandler, notFound } from './middleware/errors.js'
import { maintenance } from './middleware/maintenance.js'
import { rateLimitEdge } from './middleware/rate-limit.js'
import { requestId } from './middleware/request-id.js'
import type { ReadinessProbe } from './readiness.js'
import { adminRoutes } from './routes/admin.routes.js'
import { authRoutes } from './routes/auth.routes.js'
import { healthRoutes } from './routes/health.routes.js'
import { mountRoutes } from './routes/mount.js'
import { metaRoutes } from './routes/meta.routes.js'

export interface AppDeps {
  readonly environment: Environment
  readonly services: Services
  /** The rate-limit rules in force (reloaded as they change) over the environment's store. */
  readonly rateLimits: LiveRules
  /** What each rate-limit decision goes to (compose.ts: the metrics and the shared counts). */
  readonly observeDecision: (decision: RateLimitDecision) => void
  readonly logger: Logger
  readonly clock: Clock
  readonly version: string
  readonly readiness: ReadinessProbe
  readonly metrics: Metrics
  /** True once shutdown began (listen.ts, which also asks every answer of the drain to close its connection): readiness fails. */
  readonly draining: () => boolean
}

/** Builds the app. */
export function createApp(deps: AppDeps): Express {
  const { environment, logger, metrics, clock } = deps
  const server = environment.server
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', server.trustProxy)
  app.set('etag', false)

  const authenticator = createAuthenticator(deps.services)
  const limits = rateLimitEdge(deps.rateLimits, deps.observeDecision)
  const mountDeps = { authenticator, bodyLimit: server.bodyLimit, limits }
  const startedAt = clock.now()
  const health = healthRoutes({ version: deps.version, startedAt, now: () => clock.now(), readiness: deps.readiness, draining: deps.draining })
  const api = [...authRoutes({ ...deps, limits }), ...adminRoutes(deps)]
  const meta = metaRoutes({ metrics, version: deps.version, signingKeys: deps.services.signingKeys, routes: () => [...health, ...api, ...meta] })

  app.use(requestId(), observe(metrics))
  // Health and metrics first: probes and scrapers need no security headers, log line or rate limit.
  // Routes go on the app itself: a nested router costs a second dispatch on every request.
  mountRoutes(app, [...health, ...meta], mountDeps)

  app.use(
    helmet(),
    cors({
      origin: server.corsOrigins.length > 0 ? server.corsOrigins : false,
      exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
    }),
    pinoHttp({
      logger,
      genReqId: (_req, res) => String((res as unknown as { locals: { requestId: string } }).locals.requestId),
      // Method and path only: no headers (Authorization, cookies, API keys) and no query string.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
    }),
    limits.middleware,
    maintenance(deps.services.maintenance),
  )
  mountRoutes(app, api, mountDeps)
  app.use(notFound(), errorHandler(logger, environment.name))
  return app
}

/** Counts and times every answer under its route template ('unmatched' for 404s: labels stay bounded). */
function observe(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint()
    res.on('finish', () => {
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched'
      metrics.observeRequest(route, req.method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9)
    })
    next()
  }
}
