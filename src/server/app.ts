/**
 * createApp(deps): the bundled server as an Express 5 app that does not listen (listen.ts does), with the
 * answer it gives before Express (liveness). Every dependency comes in — config, database, services,
 * limiters, logger, clock — so tests build it over SQLite and a memory store, and `gantry serve` over the
 * environment's real clients.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from 'cors'
import express, { type Express, type RequestHandler } from 'express'
import helmet from 'helmet'
import type { Logger } from 'pino'
import { pinoHttp } from 'pino-http'
import type { Environment } from '../config/schema.js'
import { parseDuration } from '../core/duration.js'
import type { Clock } from '../core/clock.js'
import type { Services } from '../core/services.js'
import { createAuthenticator } from '../core/sessions/authenticate.js'
import type { LiveRules, RateLimitDecision } from '../ratelimit/index.js'
import { mountConsole } from './console.js'
import { createLiveness } from './liveness.js'
import type { Metrics } from './metrics.js'
import { errorHandler, notFound } from './middleware/errors.js'
import { maintenance } from './middleware/maintenance.js'
import { ssoRoutes } from './routes/sso.routes.js'
import { oauthRoutes } from './routes/oauth.routes.js'
import { rateLimitEdge } from './middleware/rate-limit.js'
import { requestIdOf } from './middleware/request-id.js'
import type { ReadinessProbe } from './readiness.js'
import { adminRoutes } from './routes/admin.routes.js'
import { authRoutes } from './routes/auth.routes.js'
import { CONSOLE_SESSION_PATH, consoleSessionRoutes } from './routes/console-session.routes.js'
import { healthRoutes } from './routes/health.routes.js'
import { mountRoutes } from './routes/mount.js'
import { metaRoutes } from './routes/meta.routes.js'
import { trafficRoutes } from './routes/traffic.routes.js'
import type { TrafficRing } from './traffic.js'

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
  /** This instance's per-minute request and 429 counts (every answer tracked() sees), served to the admin console. */
  readonly traffic: TrafficRing
  /** True once shutdown began (listen.ts, which also asks every answer of the drain to close its connection): readiness fails. */
  readonly draining: () => boolean
}

/** The app, and what listen.ts answers before handing a request to it. */
export interface GantryApp extends Express {
  /** Answers a request that needs no Express (`GET /api/health`) and returns true; false leaves it to the app. */
  answerEarly(req: IncomingMessage, res: ServerResponse): boolean
}

/** Builds the app. */
export function createApp(deps: AppDeps): GantryApp {
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
  const now = (): number => clock.now()
  const liveness = createLiveness({ version: deps.version, startedAt, now, metrics })
  const health = healthRoutes({ liveness, now, readiness: deps.readiness, draining: deps.draining })
  const refreshTtlMs = parseDuration(environment.auth.refreshTokenTtl)
  // Single sign-on ends in the console's session: without the console there is nowhere for it to go.
  const consoleSession = server.console
    ? [
        ...consoleSessionRoutes({ ...deps, limits, authenticator, refreshTtlMs }),
        ...ssoRoutes({ services: deps.services, refreshTtlMs, limits, passwordLogin: environment.auth.passwordLogin }),
      ]
    : []
  const oauth = oauthRoutes({
    services: deps.services,
    limits,
    issuer: environment.auth.issuer,
    publicUrl: environment.server.publicUrl || undefined,
    publishesKeys: environment.auth.algorithm === 'EdDSA',
  })
  const api = [...authRoutes({ ...deps, limits }), ...oauth, ...consoleSession, ...adminRoutes(deps), ...trafficRoutes(deps)]
  const meta = metaRoutes({ metrics, version: deps.version, signingKeys: deps.services.signingKeys, routes: () => [...health, ...api, ...meta] })

  app.use(tracked(metrics, deps.traffic))
  // Health and metrics first: probes and scrapers need no security headers, log line or rate limit.
  // Routes go on the app itself: a nested router costs a second dispatch on every request.
  mountRoutes(app, [...health, ...meta], mountDeps)

  // The console's page and assets: its own security headers, and no rate limit or maintenance in front of it.
  if (server.console) mountConsole(app)
  app.use(helmet())
  // Without an allowlist cors() adds nothing to any answer (origin: false), so it is left out. The console's
  // session routes answer no other origin, whatever the allowlist says.
  if (server.corsOrigins.length > 0) {
    const allowed = cors({ origin: server.corsOrigins, exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After'] })
    app.use((req, res, next) => (req.path.startsWith(CONSOLE_SESSION_PATH) ? next() : allowed(req, res, next)))
  }
  app.use(
    pinoHttp({
      // The request line holds only what these serializers make of it, none of the fields the logger
      // redacts: redaction would walk every line for nothing.
      logger: logger.child({}, { redact: { paths: [] } }),
      genReqId: (_req, res) => String((res as unknown as { locals: { requestId: string } }).locals.requestId),
      // Method and path only: no headers (Authorization, cookies, API keys) and no query string. They read
      // the request and answer themselves (pino-http's wrapping would copy the headers and parse the query
      // for every line only to have them dropped here).
      wrapSerializers: false,
      serializers: {
        req: (req: { id: string; method: string; originalUrl?: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: (req.originalUrl ?? req.url).split('?')[0],
        }),
        res: (res: { headersSent: boolean; statusCode: number }) => ({ status: res.headersSent ? res.statusCode : null }),
      },
    }),
    limits.middleware,
    maintenance(deps.services.maintenance),
  )
  mountRoutes(app, api, mountDeps)
  app.use(notFound(), errorHandler(logger, environment.name))
  return Object.assign(app, { answerEarly: liveness.answerEarly })
}

/**
 * The request id (the caller's X-Request-Id when plain, else a fresh one: echoed, and kept in
 * res.locals.requestId for the log line and problem answers), and the count and time of every answer under
 * its route template ('unmatched' for 404s: labels stay bounded), and in this instance's per-minute traffic
 * ring. `GET /api/health` is answered before Express (liveness.answerEarly, which counts it in the metrics
 * itself) and stays out of the ring: probes would be most of a quiet instance's chart. One middleware: each
 * is a router step.
 */
function tracked(metrics: Metrics, traffic: TrafficRing): RequestHandler {
  return (req, res, next) => {
    const started = performance.now()
    const id = requestIdOf(req)
    res.locals.requestId = id
    res.setHeader('X-Request-Id', id)
    res.on('finish', () => {
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched'
      metrics.observeRequest(route, req.method, res.statusCode, (performance.now() - started) / 1000)
      traffic.observe(res.statusCode)
    })
    next()
  }
}
