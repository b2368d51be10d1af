/**
 * Rate limiting at the HTTP edge, in the three places a rule's key becomes known: the client address
 * before any other work (ip and global rules), the caller once authenticated (user and apiKey rules),
 * and inside the sign-in routes the built-in rules: the login's account (before the password hash), the
 * address and then the client at the OAuth token routes, the address at the single sign-on routes.
 * The limiter decides (src/ratelimit); this sets the RateLimit fields on every answer a rule covers and
 * refuses with 429 problem+json and Retry-After — or 503 when a rule that fails closed cannot reach its store.
 */
import type { Request, RequestHandler, Response } from 'express'
import type { ActorContext } from '../../core/context.js'
import { GantryError } from '../../core/errors.js'
import {
  EDGE_KEYS,
  IDENTITY_KEYS,
  type LiveRules,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitSubject,
  type RuleKey,
} from '../../ratelimit/index.js'

/** Where decisions are reported (metrics, the shared counts). */
export type DecisionObserver = (decision: RateLimitDecision) => void

export interface RateLimitEdge {
  /** Checks the ip and global rules before any other work is done for a request. */
  readonly middleware: RequestHandler
  /** The same check as `middleware`, as a promise (an app's middleware chains it with the caller's). */
  edge(req: Request, res: Response): Promise<void>
  /** Checks the user and apiKey rules for an authenticated caller. */
  caller(req: Request, res: Response, ctx: ActorContext): Promise<void>
  /** Checks the login rules for the account a login names. */
  login(req: Request, res: Response, account: string): Promise<void>
  /** Checks the built-in rules of the sign-in routes keyed by address: the OAuth token ones before the secret is checked, the single sign-on one. */
  address(req: Request, res: Response): Promise<void>
  /** Checks the per-client OAuth token rules, once the client's secret matched (anyone can send a client's public id). */
  client(req: Request, res: Response, clientId: string): Promise<void>
}

/** The edge over the live rules. */
export function rateLimitEdge(rules: LiveRules, observe: DecisionObserver): RateLimitEdge {
  const edge = (req: Request, res: Response): Promise<void> => enforce(rules.chain, subjectOf(req), res, observe, EDGE_KEYS)
  return {
    middleware: (req, res, next) => {
      edge(req, res).then(() => next(), next)
    },
    edge,
    async caller(req, res, ctx) {
      // Most environments key no rule on the caller: then there is no subject to build and nothing to report.
      if ((ctx.userId === undefined && ctx.apiKeyId === undefined) || !rules.chain.applies(IDENTITY_KEYS)) return
      await enforce(
        rules.chain,
        subjectOf(req, { user: ctx.userId === undefined ? undefined : String(ctx.userId), apiKey: ctx.apiKeyId }),
        res,
        observe,
        IDENTITY_KEYS,
      )
    },
    login: (req, res, account) => enforce(rules.login, subjectOf(req, { account }), res, observe),
    // The token and sign-on rules live with the login rules (checked inside their routes); each check's subject leaves the other keys unset.
    address: (req, res) => enforce(rules.login, subjectOf(req), res, observe, ADDRESS_KEYS),
    client: (req, res, client) => enforce(rules.login, subjectOf(req, { client }), res, observe, CLIENT_KEYS),
  }
}

const ADDRESS_KEYS: ReadonlySet<RuleKey> = new Set(['ip'])
const CLIENT_KEYS: ReadonlySet<RuleKey> = new Set(['client'])

/** Applies one decision: its fields added to those of earlier checks, RATE_LIMITED (or the store's 503) when refused. */
async function enforce(limiter: RateLimiter, subject: RateLimitSubject, res: Response, observe: DecisionObserver, keys?: ReadonlySet<RuleKey>): Promise<void> {
  const decision = await limiter.check(subject, keys)
  observe(decision)
  for (const [name, value] of Object.entries(decision.headers)) {
    // RateLimit and RateLimit-Policy are lists (one item per policy): a later check adds its items.
    const earlier = name === 'Retry-After' ? undefined : res.getHeader(name)
    res.setHeader(name, earlier === undefined ? value : `${String(earlier)}, ${value}`)
  }
  if (decision.allowed) return
  if (decision.unavailable) {
    throw new GantryError('RATELIMIT_STORE_UNAVAILABLE', 'The rate-limit store does not answer and this route fails closed; try again shortly.', {
      details: { rule: decision.rule },
    })
  }
  throw new GantryError('RATE_LIMITED', `Too many requests; try again in ${decision.retryAfterSeconds ?? 1} s.`, { details: { rule: decision.rule } })
}

/**
 * The rate-limit subject of a request: method, path and client address (as `trust proxy` allows). The path
 * is the whole one (`baseUrl` + `path`): inside an app's router mounted at /orders, `req.path` alone is `/`.
 */
function subjectOf(req: Request, extra: Partial<RateLimitSubject> = {}): RateLimitSubject {
  return { method: req.method, path: req.baseUrl + req.path, ip: req.ip ?? 'unknown', ...extra }
}
