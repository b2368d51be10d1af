/**
 * Rate limiting: GCRA over a store (memory, or Redis shared by every instance), rule matching on normalised paths, and the
 * IETF RateLimit fields. The server and runtime import from here only.
 */
export type { AppliedRule, ConsumeResult, GcraParams, RateLimitDecision, RateLimiter, RateLimitRule, RateLimitStore, RateLimitSubject, RuleKey } from './types.js'
export { createRateLimiter, DEFAULT_KEY_PREFIX } from './limiter.js'
export { createMemoryStore, DEFAULT_MAX_KEYS } from './memory-store.js'
export { createRedisStore, GCRA_LUA } from './redis-store.js'
export { failOpen } from './fail-open.js'
export { DEFAULT_EXEMPT, environmentRules, LOGIN_RULES } from './rules.js'
export { matchesPath, normalisePath } from './paths.js'
export { RATELIMIT_HEADERS_DRAFT } from './headers.js'
