/**
 * The in-memory store: one instance's TATs in a Map, with the same semantics as the Redis store. Memory is
 * bounded: keys come from clients (an IP spray or random login emails mint a new key per request), so a
 * full map first drops expired keys, then evicts the least recently admitted ones.
 */
import type { Clock } from '../core/clock.js'
import { gcraStep, idleAtUs } from './gcra.js'
import type { ConsumeResult, GcraParams, LocalStore, Tat } from './types.js'

/** Keys kept at most unless told otherwise: ~100k short strings and numbers are a few MB. */
export const DEFAULT_MAX_KEYS = 100_000
/** A full sweep is O(keys): at most one per second, so a spray cannot make every request pay for one. */
const SWEEP_EVERY_US = 1_000_000
/**
 * Expired keys are dropped from the head of the map without a timer: up to 2 per call, in batches every 64
 * calls. Re-inserting admitted keys leaves deleted slots at the head of the Map until V8 rehashes it, and
 * iteration walks over them: a check on every call cost a fifth of the store's speed.
 */
const INCREMENTAL_EVERY = 64
const INCREMENTAL_CHECKS = 2 * INCREMENTAL_EVERY

/** A store keeping TATs in this process, time from `clock`. */
export function createMemoryStore(options: { clock: Clock; maxKeys?: number }): LocalStore & { size(): number } {
  const { clock } = options
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, not ${maxKeys}`)
  // Insertion order is admission order (an admitted key is re-inserted), so the head is the least recently admitted.
  const tats = new Map<string, Tat>()
  let lastSweepUs = Number.NEGATIVE_INFINITY
  let calls = 0

  // A key whose TAT has passed is idle: dropping it changes no decision (gcraStep treats absent as TAT = now).
  const sweep = (nowUs: number) => {
    for (const [key, tat] of tats) if (idleAtUs(tat) <= nowUs) tats.delete(key)
    lastSweepUs = nowUs
  }

  const dropExpiredAtHead = (nowUs: number) => {
    let checked = 0
    for (const [key, tat] of tats) {
      if (checked++ >= INCREMENTAL_CHECKS || idleAtUs(tat) > nowUs) break
      tats.delete(key)
    }
  }

  const makeRoom = (nowUs: number) => {
    if (tats.size > maxKeys && nowUs - lastSweepUs >= SWEEP_EVERY_US) sweep(nowUs)
    // Evicting forgets a live key (it gets its burst back): the price of bounded memory, paid by the stalest key.
    for (const key of tats.keys()) {
      if (tats.size <= maxKeys) break
      tats.delete(key)
    }
  }

  return {
    async consume(key: string, params: GcraParams, nowUs = clock.now() * 1000): Promise<ConsumeResult> {
      if (++calls % INCREMENTAL_EVERY === 0) dropExpiredAtHead(nowUs)
      const stored = tats.get(key)
      const current = stored !== undefined && idleAtUs(stored) > nowUs ? stored : undefined
      const step = gcraStep(current, nowUs, params)
      if (step.allowed) {
        tats.delete(key)
        tats.set(key, step.tat)
        if (stored === undefined) makeRoom(nowUs)
      }
      return { allowed: step.allowed, tat: step.tat, nowUs }
    },
    remember(key, tat) {
      const known = tats.has(key)
      tats.delete(key)
      tats.set(key, tat)
      if (!known) makeRoom(clock.now() * 1000)
    },
    async peek(key) {
      const nowUs = clock.now() * 1000
      const stored = tats.get(key)
      return { tat: stored !== undefined && idleAtUs(stored) > nowUs ? stored : undefined, nowUs }
    },
    size: () => tats.size,
  }
}
