/**
 * `gantry ratelimit test`: what the limiter would do with one request, rule by rule, from the store's
 * current state, spending nothing. The same matching, keys and overrides as the limiter (limiter.ts).
 */
import type { Clock } from '../core/clock.js'
import { formatDuration } from '../core/duration.js'
import type { RateLimitProbe } from '../core/ratelimits/ratelimits.probe.js'
import type { TestStep } from '../core/ratelimits/ratelimits.schema.js'
import { remaining, retryAfterSeconds } from './gcra.js'
import { blockRetryAfter, compileRule, DEFAULT_KEY_PREFIX, EDGE_KEYS, figuresFor, keyValue, overrideIndex, storeKey } from './limiter.js'
import { normalisePath } from './paths.js'
import type { RateLimitStore } from './types.js'

/** A probe over `store`; `shared` says whether that store is every instance's (Redis). */
export function createProbe(options: { store: RateLimitStore; shared: boolean; clock: Clock; keyPrefix?: string }): RateLimitProbe {
  const { store, clock, keyPrefix = DEFAULT_KEY_PREFIX } = options
  return {
    shared: options.shared,
    async explain(snapshot, request) {
      const path = normalisePath(request.path)
      const overrideOf = overrideIndex(snapshot.overrides)
      const steps: Omit<TestStep, 'source'>[] = []
      let decidedBy: string | undefined
      let refused = false
      let tightest: { rule: string; left: number } | undefined
      // The server's order: the edge (ip, global), then the login rules inside the login route, then the rules keyed on who called.
      const edge = snapshot.rules.filter((r) => EDGE_KEYS.has(r.key))
      const identity = snapshot.rules.filter((r) => !EDGE_KEYS.has(r.key))
      for (const rule of [...edge, ...snapshot.login, ...identity]) {
        const compiled = compileRule(rule)
        const base = {
          rule: rule.name,
          key: rule.key,
          mode: rule.mode,
          limit: rule.limit,
          window: formatDuration(rule.windowMs),
          burst: rule.burst,
          override: null,
        }
        if (refused) {
          steps.push({ ...base, matched: false, reason: 'not reached: an earlier rule refuses' })
          continue
        }
        if (!compiled.matches(request.method, path)) {
          steps.push({ ...base, matched: false, reason: `${rule.match.method} ${rule.match.path} does not cover ${request.method} ${path}` })
          continue
        }
        const value = keyValue(rule.key, request)
        if (value === undefined) {
          steps.push({ ...base, matched: false, reason: `the request has no ${rule.key}` })
          continue
        }
        const nowMs = clock.now()
        const override = overrideOf(rule, value, nowMs)
        const figures = figuresFor(compiled, override)
        if (figures === 'blocked') {
          steps.push({
            ...base,
            limit: null,
            window: null,
            burst: null,
            override: 'blocked',
            matched: true,
            wouldAdmit: false,
            remaining: 0,
            retryAfter: blockRetryAfter(override?.expiresAt, nowMs),
          })
        } else {
          const state = await store.peek(storeKey(keyPrefix, rule, value))
          const { limit, windowMs, burst } = figures.params
          const left = remaining(state.tat, state.nowUs, figures.params)
          const step = {
            ...base,
            limit,
            window: formatDuration(windowMs),
            burst,
            override: override ? `${limit}/${formatDuration(windowMs)} burst ${burst}` : null,
            matched: true,
            wouldAdmit: left > 0,
            remaining: left,
          }
          // No request is left only while the key is busy, so a refusal always has a TAT.
          steps.push(left > 0 || !state.tat ? step : { ...step, retryAfter: retryAfterSeconds(state.tat, state.nowUs, figures.params) })
          if (rule.mode === 'enforce' && left > 0 && (!tightest || left < tightest.left)) tightest = { rule: rule.name, left }
        }
        const last = steps[steps.length - 1]
        if (rule.mode === 'enforce' && last?.wouldAdmit === false) {
          refused = true
          decidedBy = rule.name
        }
      }
      return { allowed: !refused, decidedBy: decidedBy ?? tightest?.rule ?? null, steps }
    },
  }
}
