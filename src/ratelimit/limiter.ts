/**
 * The limiter: matches a request against the rules in order and spends each matching rule's budget in the
 * store. The first enforced refusal ends the chain; budgets already spent are not refunded (a refund would
 * need a second, non-atomic store call, and a client refused by a later rule still made the request).
 * An override gives one subject of a rule its own figures, or blocks it. When the store fails, the rule's
 * `onStoreError` decides: admit (open), refuse (closed), or decide from this instance's memory (local).
 */
import { createHash } from 'node:crypto'
import { validateRule } from '../core/ratelimits/builtin-rules.js'
import type { RateLimitOverride } from '../core/ratelimits/ratelimits.schema.js'
import { systemClock, type Clock } from '../core/clock.js'
import { policyItem, rateLimitHeaders, sfString, type PolicyState } from './headers.js'
import { remaining, retryAfterSeconds } from './gcra.js'
import { compilePattern, normalisePath } from './paths.js'
import type {
  AppliedRule,
  ConsumeResult,
  GcraParams,
  LocalStore,
  RateLimitDecision,
  RateLimiter,
  RateLimitRule,
  RateLimitStore,
  RateLimitSubject,
  RuleKey,
} from './types.js'
import { GantryError } from '../core/errors.js'
import { normaliseEmail } from '../core/users/users.schema.js'

/** Store keys start with this unless told otherwise, so a shared Redis can tell Gantry's keys apart. */
export const DEFAULT_KEY_PREFIX = 'gantry:rl:'
/** The keys known before authentication: the edge checks these; rules keyed on user or apiKey wait for the caller. */
export const EDGE_KEYS: ReadonlySet<RuleKey> = new Set(['ip', 'global'])
/** The keys known once the caller is: checked after authentication. */
export const IDENTITY_KEYS: ReadonlySet<RuleKey> = new Set(['user', 'apiKey'])
/** A block without an expiry tells clients to come back after this long (they are refused again then). */
const BLOCK_RETRY_AFTER_S = 3600

/** The figures one request meets for one rule: the rule's own, an override's, or a block. */
export interface Figures {
  readonly params: GcraParams
  /** The RateLimit-Policy item of these figures, made once for a rule's own (an override's is made per answer). */
  readonly policy?: string | undefined
  /** Set when an override applies: 'blocked' or its figures, for `ratelimit test`. */
  readonly override?: RateLimitOverride | undefined
}

/** A rule compiled once: its matcher, its figures and its name as the RateLimit fields quote it. */
export interface CompiledRule {
  readonly rule: RateLimitRule
  readonly figures: Figures
  readonly label: string
  matches(method: string, normalisedPath: string): boolean
}

/** Compiles a rule (validated first: a rule the limiter cannot enforce is refused up front). */
export function compileRule(rule: RateLimitRule): CompiledRule {
  validateRule(rule)
  const method = rule.match.method.toUpperCase()
  const path = compilePattern(rule.match.path)
  const exempt = (rule.exempt ?? []).map(compilePattern)
  const params = { limit: rule.limit, windowMs: rule.windowMs, burst: rule.burst }
  const label = sfString(rule.name)
  return {
    rule,
    figures: { params, policy: policyItem({ name: rule.name, params, label }) },
    label,
    matches: (requestMethod, normalised) =>
      // HEAD runs the GET handler in Express, so a GET rule must count HEAD too or it is a free bypass.
      (method === '*' || method === requestMethod || (method === 'GET' && requestMethod === 'HEAD')) &&
      path(normalised) &&
      !exempt.some((skip) => skip(normalised)),
  }
}

/** An address as overrides are written: an IPv4 address that arrived IPv4-mapped (`::ffff:a.b.c.d`) reads as plain IPv4. */
function canonicalIp(ip: string): string {
  const trimmed = ip.trim().toLowerCase()
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed
}

/** The subject's value for a rule's key; undefined (rule skipped) when the request has none. */
export function keyValue(key: RuleKey, subject: RateLimitSubject): string | undefined {
  const value = key === 'global' ? 'all' : subject[key]?.trim()
  if (!value) return undefined
  // The login rule must not be escaped by `Alice@` vs `alice@`: an account is the email as Gantry stores it.
  if (key === 'account') return normaliseEmail(value)
  if (key === 'ip') return canonicalIp(value)
  return value
}

/**
 * Where a rule's budget for one subject lives in the store. An API key's value goes in as a digest: the
 * limiter gets the key's id, but a caller handing it the whole key must not put a secret into Redis (its
 * MONITOR, its dumps).
 */
export function storeKey(prefix: string, rule: RateLimitRule, value: string): string {
  return `${prefix}${rule.name}:${rule.key === 'apiKey' ? createHash('sha256').update(value).digest('base64url') : value}`
}

/** Finds the override of a rule for a subject value: the rule's own first, then one for every rule (`*`). */
export function overrideIndex(overrides: readonly RateLimitOverride[]): (rule: RateLimitRule, value: string, nowMs: number) => RateLimitOverride | undefined {
  const index = new Map<string, RateLimitOverride>()
  for (const o of overrides) index.set(`${o.rule}\n${o.subjectType}\n${o.subjectType === 'ip' ? canonicalIp(o.subject) : o.subject}`, o)
  return (rule, value, nowMs) => {
    if (index.size === 0 || rule.key === 'global' || rule.key === 'account') return undefined
    for (const name of [rule.name, '*']) {
      const found = index.get(`${name}\n${rule.key}\n${value}`)
      if (found && (found.expiresAt === undefined || found.expiresAt > nowMs)) return found
    }
    return undefined
  }
}

/** The figures for one subject: the override's when one applies (a block has none). */
export function figuresFor(compiled: CompiledRule, override: RateLimitOverride | undefined): Figures | 'blocked' {
  if (!override) return compiled.figures
  if (override.blocked || override.limit === undefined || override.windowMs === undefined) return 'blocked'
  const burst = override.burst ?? override.limit
  return { params: { limit: override.limit, windowMs: override.windowMs, burst }, override }
}

export interface LimiterOptions {
  readonly rules: readonly RateLimitRule[]
  readonly store: RateLimitStore
  readonly keyPrefix?: string | undefined
  readonly overrides?: readonly RateLimitOverride[] | undefined
  /**
   * Where `local` rules decide while `store` fails (this instance's memory), fed with every decision the
   * store makes for them, so an outage continues each budget instead of granting a fresh one. Without it
   * they fail open.
   */
  readonly fallback?: LocalStore | undefined
  /** Hears of every failed store call (to log it; counting happens through the decision). */
  readonly onStoreError?: ((err: unknown, rule: string) => void) | undefined
  /** For override expiry. */
  readonly clock?: Clock | undefined
}

/** A limiter over `rules` (checked in order), spending budgets in `store`. */
export function createRateLimiter(options: LimiterOptions): RateLimiter {
  const { store, fallback, keyPrefix = DEFAULT_KEY_PREFIX, clock = systemClock } = options
  const rules = options.rules.map(compileRule)
  const names = new Set(rules.map((r) => r.rule.name))
  // Two rules of one name would share store keys, so one would spend the other's budget.
  if (names.size !== rules.length) throw new GantryError('INVALID_INPUT', 'Rate-limit rule names must be unique.')
  const overrideOf = overrideIndex(options.overrides ?? [])
  // Most requests meet no rule of some kinds (no user rules, an unlimited environment): answer those without
  // normalising the path or building anything.
  const keysInUse = new Set(rules.map((r) => r.rule.key))
  const applies = (keys?: ReadonlySet<RuleKey>): boolean => {
    if (!keys) return rules.length > 0
    for (const key of keys) if (keysInUse.has(key)) return true
    return false
  }

  /** One rule's step; undefined when the store failed and the rule admits unchecked (open). */
  const consume = async (rule: RateLimitRule, key: string, params: GcraParams): Promise<ConsumeResult | 'unavailable' | undefined> => {
    try {
      const result = await store.consume(key, params)
      if (rule.onStoreError === 'local') fallback?.remember(key, result.tat)
      return result
    } catch (err) {
      try {
        options.onStoreError?.(err, rule.name)
      } catch {
        // Reporting must not turn a decision into a failure.
      }
      const policy = rule.onStoreError ?? 'open'
      if (policy === 'closed') return 'unavailable'
      if (policy === 'local' && fallback) return fallback.consume(key, params)
      return undefined
    }
  }

  return {
    applies,
    async check(subject, keys) {
      if (!applies(keys)) return NOTHING_APPLIES
      const method = subject.method.toUpperCase()
      const path = normalisePath(subject.path)
      const applied: AppliedRule[] = []
      const shadowRefused: string[] = []
      const enforced: PolicyState[] = []
      const refuse = (rule: string, retryAfter: number, unavailable = false) => ({
        allowed: false,
        rule,
        retryAfterSeconds: retryAfter,
        // Retry-After even when no enforced state precedes (a block, a closed rule's store failure).
        headers: { ...rateLimitHeaders(enforced, retryAfter), 'Retry-After': String(retryAfter) },
        shadowRefused,
        applied,
        unavailable,
      })
      for (const compiled of rules) {
        const { rule } = compiled
        if (keys && !keys.has(rule.key)) continue
        if (!compiled.matches(method, path)) continue
        const value = keyValue(rule.key, subject)
        if (value === undefined) continue
        const shadow = rule.mode === 'shadow'
        const nowMs = clock.now()
        const override = overrideOf(rule, value, nowMs)
        const figures = figuresFor(compiled, override)
        if (figures === 'blocked') {
          applied.push({ rule: rule.name, allowed: false, shadow, storeError: false })
          if (shadow) {
            shadowRefused.push(rule.name)
            continue
          }
          return refuse(rule.name, blockRetryAfter(override?.expiresAt, nowMs))
        }
        // A shadow rule spends its budget exactly like an enforced one, so its figures show what enforcing would do.
        const result = await consume(rule, storeKey(keyPrefix, rule, value), figures.params)
        if (result === 'unavailable') {
          applied.push({ rule: rule.name, allowed: false, shadow, storeError: true })
          if (shadow) continue
          return refuse(rule.name, 1, true)
        }
        if (result === undefined) {
          applied.push({ rule: rule.name, allowed: true, shadow, storeError: true })
          continue
        }
        applied.push({ rule: rule.name, allowed: result.allowed, shadow, storeError: false })
        if (shadow) {
          if (!result.allowed) shadowRefused.push(rule.name)
          continue
        }
        enforced.push({ name: rule.name, params: figures.params, tat: result.tat, nowUs: result.nowUs, label: compiled.label, policy: figures.policy })
        if (!result.allowed) return refuse(rule.name, retryAfterSeconds(result.tat, result.nowUs, figures.params))
      }
      return { allowed: true, rule: mostRestrictive(enforced), headers: rateLimitHeaders(enforced), shadowRefused, applied, unavailable: false }
    },
  }
}

/** The answer when no rule covers the request: shared, so it must never be changed. */
const NOTHING_APPLIES: RateLimitDecision = Object.freeze({
  allowed: true,
  rule: undefined,
  headers: Object.freeze({}),
  shadowRefused: Object.freeze([]),
  applied: Object.freeze([]),
  unavailable: false,
})

/** Seconds until a block ends (its expiry), at most BLOCK_RETRY_AFTER_S. */
export function blockRetryAfter(expiresAt: number | undefined, nowMs: number): number {
  const until = expiresAt === undefined ? BLOCK_RETRY_AFTER_S : Math.ceil((expiresAt - nowMs) / 1000)
  return Math.max(1, Math.min(until, BLOCK_RETRY_AFTER_S))
}

/** The enforced rule with the fewest requests left (the first of equals), or none. */
function mostRestrictive(states: readonly PolicyState[]): string | undefined {
  let best: { name: string; left: number } | undefined
  for (const s of states) {
    const left = remaining(s.tat, s.nowUs, s.params)
    if (!best || left < best.left) best = { name: s.name, left }
  }
  return best?.name
}
