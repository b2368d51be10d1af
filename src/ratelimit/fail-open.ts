/**
 * A store that never fails a request: when the store underneath throws (Redis down, a timeout), the
 * decision is an admission, and `onError` hears of it (to log and count). DESIGN.md's default
 * `onStoreError: open`; per-rule `closed` comes with the rules in the database.
 */
import { systemClock, type Clock } from '../core/clock.js'
import type { ConsumeResult, GcraParams, RateLimitStore } from './types.js'

/** Wraps `store`: a failed consume admits, as an idle key would (TAT = now), after calling `onError`. */
export function failOpen(store: RateLimitStore, onError: (err: unknown, key: string) => void, clock: Clock = systemClock): RateLimitStore {
  return {
    async consume(key: string, params: GcraParams, nowUs?: number): Promise<ConsumeResult> {
      try {
        return await store.consume(key, params, nowUs)
      } catch (err) {
        try {
          onError(err, key)
        } catch {
          // Reporting must not turn an admission into a failure.
        }
        const now = nowUs ?? clock.now() * 1000
        return { allowed: true, tatUs: now, nowUs: now }
      }
    },
  }
}
