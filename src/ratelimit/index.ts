/**
 * Rate limiting: GCRA over a store (memory, or Redis shared by every instance), rule matching on normalised
 * paths, overrides, live rules reloaded from the database, and the IETF RateLimit fields. The server and
 * runtime import from here only.
 */
export type {
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
  Tat,
} from './types.js'
export { createRateLimiter, DEFAULT_KEY_PREFIX, EDGE_KEYS, IDENTITY_KEYS } from './limiter.js'
export { startLiveRules, type LiveRules } from './live.js'
export { createProbe } from './explain.js'
export { createDecisionCounts, type DecisionCounts } from './counts.js'
export { createMemoryStore, DEFAULT_MAX_KEYS } from './memory-store.js'
export { createRedisStore, GCRA_LUA, preloadScripts } from './redis-store.js'
export { environmentRules, loginRules } from '../core/ratelimits/builtin-rules.js'
export { matchesPath, normalisePath } from './paths.js'
export { RATELIMIT_HEADERS_DRAFT } from './headers.js'
