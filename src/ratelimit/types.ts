/**
 * The rate-limit vocabulary shared by the limiter, its stores and the HTTP edge. Kept free of any
 * framework so the server, the CLI and a later Redis store all speak it.
 */

/** What a rule counts by: client address, signed-in user, API key, everyone at once, or the login's email. */
export type RuleKey = 'ip' | 'user' | 'apiKey' | 'global' | 'account'

/** One rate-limit rule: which requests it covers, what it keys on, and its GCRA figures. */
export interface RateLimitRule {
  readonly name: string
  /** `method` is an HTTP method or '*'; `path` a pattern on the normalised path ('/api/*', '/*'). */
  readonly match: { readonly method: string; readonly path: string }
  /** Path patterns this rule skips (health and /metrics for environment defaults). */
  readonly exempt?: readonly string[]
  readonly key: RuleKey
  /** Requests per window, sustained. */
  readonly limit: number
  readonly windowMs: number
  /** An integer >= 1: how many are admitted at once from idle. */
  readonly burst: number
  /** `shadow` counts and reports but never refuses: a rule can be tried on live traffic first. */
  readonly mode: 'enforce' | 'shadow'
}

/** The request as the limiter sees it; `path` is raw, the limiter normalises it. */
export interface RateLimitSubject {
  method: string
  path: string
  ip: string
  user?: string
  apiKey?: string
  account?: string
}

/** One rule's outcome, for metrics. */
export interface AppliedRule {
  rule: string
  allowed: boolean
  shadow: boolean
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
}

/** GCRA parameters of one key: emission interval T and burst. */
export interface GcraParams {
  intervalUs: number
  burst: number
}

/** The outcome of one atomic GCRA step: `tatUs` is the key's TAT after the step (unchanged when refused). */
export interface ConsumeResult {
  allowed: boolean
  tatUs: number
  nowUs: number
}

/** Keeps each key's TAT; one atomic decision per call (memory now, Redis Lua later, same semantics). */
export interface RateLimitStore {
  consume(key: string, params: GcraParams, nowUs?: number): Promise<ConsumeResult>
}

/** Decides whether a request may proceed. */
export interface RateLimiter {
  check(subject: RateLimitSubject): Promise<RateLimitDecision>
}
