/**
 * The limiter: matches a request against the rules in order and spends each matching rule's budget in the
 * store. The first enforced refusal ends the chain; budgets already spent are not refunded (a refund would
 * need a second, non-atomic store call, and a client refused by a later rule still made the request).
 */
import { createHash } from 'node:crypto'
import { GantryError } from '../core/errors.js'
import { rateLimitHeaders, type PolicyState } from './headers.js'
import { intervalUs, remaining, retryAfterSeconds } from './gcra.js'
import { compilePattern, normalisePath } from './paths.js'
import { validateRule } from './rules.js'
import type { AppliedRule, RateLimiter, RateLimitRule, RateLimitStore, RateLimitSubject, RuleKey } from './types.js'

/** Store keys start with this unless told otherwise, so a shared Redis can tell Gantry's keys apart. */
export const DEFAULT_KEY_PREFIX = 'gantry:rl:'

interface CompiledRule {
  readonly rule: RateLimitRule
  readonly params: { intervalUs: number; burst: number }
  matches(method: string, path: string): boolean
}

function compile(rule: RateLimitRule): CompiledRule {
  validateRule(rule)
  const method = rule.match.method.toUpperCase()
  const path = compilePattern(rule.match.path)
  const exempt = (rule.exempt ?? []).map(compilePattern)
  return {
    rule,
    params: { intervalUs: intervalUs(rule.windowMs, rule.limit), burst: rule.burst },
    matches: (requestMethod, normalised) =>
      // HEAD runs the GET handler in Express, so a GET rule must count HEAD too or it is a free bypass.
      (method === '*' || method === requestMethod || (method === 'GET' && requestMethod === 'HEAD')) &&
      path(normalised) &&
      !exempt.some((skip) => skip(normalised)),
  }
}

/** The subject's value for a rule's key; undefined (rule skipped) when the request has none. */
export function keyValue(key: RuleKey, subject: RateLimitSubject): string | undefined {
  const value = key === 'global' ? 'all' : subject[key]?.trim()
  if (!value) return undefined
  // An email differs only in case as typed; the login rule must not be escaped by `Alice@` vs `alice@`.
  if (key === 'account') return value.toLowerCase()
  // An API key may be the secret itself: only its digest goes to the store (and so to Redis, its monitor, its dumps).
  if (key === 'apiKey') return createHash('sha256').update(value).digest('base64url')
  return value
}

/** A limiter over `rules` (checked in order), spending budgets in `store`. */
export function createRateLimiter(options: { rules: readonly RateLimitRule[]; store: RateLimitStore; keyPrefix?: string }): RateLimiter {
  const { store, keyPrefix = DEFAULT_KEY_PREFIX } = options
  const rules = options.rules.map(compile)
  const names = new Set(rules.map((r) => r.rule.name))
  // Two rules of one name would share store keys, so one would spend the other's budget.
  if (names.size !== rules.length) throw new GantryError('INVALID_INPUT', 'Rate-limit rule names must be unique.')

  return {
    async check(subject) {
      const method = subject.method.toUpperCase()
      const path = normalisePath(subject.path)
      const applied: AppliedRule[] = []
      const shadowRefused: string[] = []
      const enforced: PolicyState[] = []
      for (const { rule, params, matches } of rules) {
        if (!matches(method, path)) continue
        const value = keyValue(rule.key, subject)
        if (value === undefined) continue
        // A shadow rule spends its budget exactly like an enforced one, so its figures show what enforcing would do.
        const result = await store.consume(`${keyPrefix}${rule.name}:${value}`, params)
        const shadow = rule.mode === 'shadow'
        applied.push({ rule: rule.name, allowed: result.allowed, shadow })
        if (shadow) {
          if (!result.allowed) shadowRefused.push(rule.name)
          continue
        }
        enforced.push({ name: rule.name, limit: rule.limit, windowMs: rule.windowMs, params, tatUs: result.tatUs, nowUs: result.nowUs })
        if (!result.allowed) {
          const retryAfter = retryAfterSeconds(result.tatUs, result.nowUs, params)
          return { allowed: false, rule: rule.name, retryAfterSeconds: retryAfter, headers: rateLimitHeaders(enforced, retryAfter), shadowRefused, applied }
        }
      }
      return { allowed: true, rule: mostRestrictive(enforced), headers: rateLimitHeaders(enforced), shadowRefused, applied }
    },
  }
}

/** The enforced rule with the fewest requests left (the first of equals), or none. */
function mostRestrictive(states: readonly PolicyState[]): string | undefined {
  let best: { name: string; left: number } | undefined
  for (const s of states) {
    const left = remaining(s.tatUs, s.nowUs, s.params)
    if (!best || left < best.left) best = { name: s.name, left }
  }
  return best?.name
}
