/**
 * Rate limiting at the HTTP edge: the limiter decides (src/ratelimit), this sets the RateLimit fields on
 * every answer it covers and refuses with 429 problem+json and Retry-After.
 */
import type { Request, RequestHandler, Response } from 'express'
import { GantryError } from '../../core/errors.js'
import type { RateLimitDecision, RateLimiter, RateLimitSubject } from '../../ratelimit/index.js'

/** Where decisions are reported (metrics). */
export type DecisionObserver = (decision: RateLimitDecision) => void

/** Checks every request against the environment's rules before any other work is done for it. */
export function rateLimit(limiter: RateLimiter, observe: DecisionObserver): RequestHandler {
  return (req, res, next) => {
    enforce(limiter, subjectOf(req), res, observe).then(() => next(), next)
  }
}

/** Applies one decision: headers always, RATE_LIMITED when refused. */
export async function enforce(limiter: RateLimiter, subject: RateLimitSubject, res: Response, observe: DecisionObserver): Promise<void> {
  const decision = await limiter.check(subject)
  observe(decision)
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value)
  if (!decision.allowed) {
    throw new GantryError('RATE_LIMITED', `Too many requests; try again in ${decision.retryAfterSeconds ?? 1} s.`, { details: { rule: decision.rule } })
  }
}

/** The rate-limit subject of a request: method, path and client address (as `trust proxy` allows). */
export function subjectOf(req: Request, extra: Partial<RateLimitSubject> = {}): RateLimitSubject {
  return { method: req.method, path: req.path, ip: req.ip ?? 'unknown', ...extra }
}
