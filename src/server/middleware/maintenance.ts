/**
 * Maintenance mode: while it is on, every route but health, auth, admin, flag evaluation, metrics and the console answers 503
 * problem+json with Retry-After. The state comes from the database through the maintenance service,
 * cached there for at most a second, so turning it on reaches every instance within a second.
 */
import type { RequestHandler } from 'express'
import { GantryError } from '../../core/errors.js'
import { normalisePath } from '../../ratelimit/index.js'

/**
 * Paths that stay open during maintenance: operators must be able to see and end it, and services that
 * evaluate flags here are not in maintenance themselves (refused, they would fall back to their code's defaults).
 */
const OPEN_DURING_MAINTENANCE = /^\/(api\/health|api\/v1\/auth|api\/v1\/admin|api\/v1\/flags|metrics|console)(\/|$)/

export interface MaintenanceSource {
  current(): Promise<{ readonly enabled: boolean; readonly retryAfter: number; readonly message?: string | null | undefined }>
}

/** Refuses the closed routes while maintenance is on. */
export function maintenance(source: MaintenanceSource): RequestHandler {
  return (req, _res, next) => {
    if (OPEN_DURING_MAINTENANCE.test(normalisePath(req.path))) return next()
    source.current().then((state) => {
      if (!state.enabled) return next()
      next(new GantryError('MAINTENANCE', state.message || 'The service is down for maintenance.', { details: { retryAfterSeconds: state.retryAfter } }))
    }, next)
  }
}
