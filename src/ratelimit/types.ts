/**
 * The rate-limit vocabulary shared by the limiter, its stores and the HTTP edge. Kept free of any
 * framework so the server, the CLI and both stores speak it.
 */

import type { RateLimitRule, RuleKey } from '../core/ratelimits/ratelimits.schema.js'

/** The rule vocabulary is the domain's (src/core/ratelimits): the limiter enforces exactly what is stored. */
export type { RateLimitRule, RuleKey }

/** The request as the limiter sees it; `path` is raw, the limiter normalises it. */
export interface RateLimitSubject {
  method: string
  path: string
  ip: string
  user?: string
  apiKey?: string
  account?: string
  /** The client_id of an OAuth token or revocation request. */
  client?: string
}

/** One rule's outcome, for metrics. */
export interface AppliedRule {
  rule: string
  allowed: boolean
  shadow: boolean
  /** The store failed for this rule; `allowed` is what its onStoreError made of that. */
  storeError: boolean
}

/** The answer for one request. */
export interface RateLimitDecision {
  readonly allowed: boolean
  /** The rule that refused, or the most restrictive enforced one that applied. */
  readonly rule?: string
  /** Whole seconds to wait, when refused. */
  readonly retryAfterSeconds?: number
  /** RateLimit-Policy and RateLimit fields (+ Retry-After when refused); {} when no enforced rule applied. */
  readonly headers: Readonly<Record<string, string>>
  /** Shadow rules that would have refused. */
  readonly shadowRefused: readonly string[]
  readonly applied: readonly AppliedRule[]
  /** Refused because the store failed under a rule that fails closed (503, not 429). */
  readonly unavailable: boolean
}

/** GCRA figures of one key: a sustained `limit` per `windowMs`, at most `burst` at once; T = windowMs / limit. */
export interface GcraParams {
  readonly limit: number
  readonly windowMs: number
  readonly burst: number
}

/**
 * A theoretical arrival time, exact: `us` whole microseconds plus `frac`/`per` of one (0 ≤ frac < per).
 * `per` is the limit of the figures that wrote it, since T = window / limit is a whole number of 1/limit µs.
 */
export interface Tat {
  readonly us: number
  readonly frac: number
  readonly per: number
}

/** The outcome of one atomic GCRA step: `tat` is the key's TAT after the step (unchanged when refused). */
export interface ConsumeResult {
  allowed: boolean
  tat: Tat
  nowUs: number
}

/** Keeps each key's TAT; one atomic decision per call (memory or Redis Lua, the same semantics). */
export interface RateLimitStore {
  consume(key: string, params: GcraParams, nowUs?: number): Promise<ConsumeResult>
  /** The key's TAT without spending anything (undefined: idle), and the store's now. */
  peek(key: string): Promise<{ tat: Tat | undefined; nowUs: number }>
}

/** This instance's memory as the fallback of `local` rules: it also takes the TATs the shared store decided. */
export interface LocalStore extends RateLimitStore {
  /** Records a key's TAT as the shared store left it, so a fallback starts from the budget already spent. */
  remember(key: string, tat: Tat): void
}

/** Decides whether a request may proceed. */
export interface RateLimiter {
  /** Decides for the rules keyed on `keys` (default: every rule): the edge checks ip and global before authentication, user and apiKey after it. */
  check(subject: RateLimitSubject, keys?: ReadonlySet<RuleKey>): Promise<RateLimitDecision>
  /** Whether a rule keyed on one of `keys` (default: any rule) is in force; when none is, check() decides nothing. */
  applies(keys?: ReadonlySet<RuleKey>): boolean
}
