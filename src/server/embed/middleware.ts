/**
 * The Express middleware of createGantry, over the same pieces as the bundled server: authenticateRequest
 * and the core authenticator, the core permission check, the rate-limit edge, the readiness probe, and the
 * error handler that answers problem+json. A refusal is answered here (401, 403, 429), so it looks the same
 * whether or not the app mounts gantry.errors().
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'
import type { Logger } from 'pino'
import { anonymousContext } from '../../core/context.js'
import { GantryError } from '../../core/errors.js'
import { requirePermission } from '../../core/roles/permissions.js'
import type { Authenticator } from '../../core/sessions/authenticate.js'
import { authenticateRequest, presentedCredential } from '../middleware/authenticate.js'
import { errorHandler } from '../middleware/errors.js'
import type { RateLimitEdge } from '../middleware/rate-limit.js'
import type { ReadinessProbe } from '../readiness.js'
import { sendReadiness } from '../routes/health.routes.js'

/** res.locals flag: gantry.rateLimit() has checked this request's ip and global rules (authenticate() then adds the caller's). */
const EDGE_CHECKED = 'gantryRateLimited'

export interface EmbedDeps {
  /** Access tokens and API keys. */
  readonly authenticator: Authenticator
  /** API keys only. */
  readonly apiKeys: Authenticator
  readonly limits: RateLimitEdge
  /** The permission name, or INVALID_INPUT at setup. */
  readonly permission: (name: string) => string
  readonly readiness: ReadinessProbe
  readonly logger: Logger
  /** The environment's name, for the next step of an error (`gantry migrate latest -e NAME`). */
  readonly environmentName: string
}

/** The middleware factories of one Gantry. */
export function embedMiddleware(deps: EmbedDeps) {
  const answer = errorHandler(deps.logger, deps.environmentName)
  /**
   * Runs `work`; a failure is answered as problem+json, success goes on to the next handler. Work done
   * synchronously goes on at once: a promise per step is a microtask hop on every request of the app.
   */
  const step =
    (work: (req: Request, res: Response) => Promise<void> | void): RequestHandler =>
    (req, res, next) => {
      let pending: Promise<void> | void
      try {
        pending = work(req, res)
      } catch (err) {
        answer(err, req, res, next)
        return
      }
      if (pending === undefined) next()
      else
        pending.then(
          () => next(),
          (err: unknown) => answer(err, req, res, next),
        )
    }

  /** Sets req.gantry; after rateLimit(), the caller's own rules apply now that it is known. */
  const identify = (authenticator: Authenticator, optional: boolean): RequestHandler =>
    step(async (req, res) => {
      if (optional && presentedCredential(req) === undefined) {
        req.gantry = anonymousContext(req.ip)
        return
      }
      const caller = await authenticateRequest(req, authenticator)
      req.gantry = caller
      if (res.locals[EDGE_CHECKED] === true) await deps.limits.caller(req, res, caller)
    })

  return {
    authenticate: (options: { optional?: boolean } = {}): RequestHandler => identify(deps.authenticator, options.optional === true),
    verifyApiKey: (): RequestHandler => identify(deps.apiKeys, false),
    requirePermission(name: string): RequestHandler {
      const permission = deps.permission(name)
      return step((req) => {
        const caller = req.gantry
        if (!caller)
          throw new GantryError('INTERNAL', `requirePermission('${permission}') ran before any caller was known.`, {
            cause: new Error('mount gantry.authenticate() or gantry.verifyApiKey() before gantry.requirePermission()'),
          })
        if (caller.actor === 'anonymous') throw new GantryError('UNAUTHENTICATED', `This route needs credentials (the ${permission} permission).`)
        requirePermission(caller, permission)
      })
    },
    rateLimit: (): RequestHandler =>
      step(async (req, res) => {
        await deps.limits.edge(req, res)
        res.locals[EDGE_CHECKED] = true
        if (req.gantry) await deps.limits.caller(req, res, req.gantry)
      }),
    readiness: (): RequestHandler => (_req: Request, res: Response, next: NextFunction) => {
      deps.readiness.check().then((report) => sendReadiness(res, report), next)
    },
    errors: (): ErrorRequestHandler => answer,
  }
}
