/**
 * A read-through cache whose entries are trusted for a bounded time (by the injected clock), for state that
 * every request consults but that changes rarely: a user's access state, the roles' permissions.
 * Concurrent misses of one key share a read in flight; `forget` drops a key so the next get reads again,
 * and a read that was in flight when a key was forgotten is returned to its callers but not cached (it may
 * predate the change that was announced).
 */
import type { Clock } from '../clock.js'

/** Past this many entries the cache starts over (it only ever saves reads). */
const MAX_ENTRIES = 10_000

export interface TtlCache<K, V> {
  /** The cached value, or a fresh read when it is older than the time to live. */
  get(key: K): Promise<V>
  /** The next get of `key` reads again. */
  forget(key: K): void
}

/** Builds a cache over `read`, trusting each value for `ttlMs`. */
export function createTtlCache<K, V>(options: { clock: Clock; ttlMs: number; read: (key: K) => Promise<V> }): TtlCache<K, V> {
  const { clock, ttlMs, read } = options
  const entries = new Map<K, { at: number; value: V }>()
  const reading = new Map<K, Promise<V>>()
  let forgets = 0

  return {
    async get(key) {
      const now = clock.now()
      const hit = entries.get(key)
      if (hit && now >= hit.at && now - hit.at < ttlMs) return hit.value
      const seen = forgets
      let pending = reading.get(key)
      if (!pending) {
        pending = read(key).finally(() => reading.delete(key))
        reading.set(key, pending)
      }
      const value = await pending
      if (seen !== forgets) return value
      if (entries.size >= MAX_ENTRIES) entries.clear()
      entries.set(key, { at: now, value })
      return value
    },

    forget(key) {
      forgets += 1
      entries.delete(key)
      reading.delete(key)
    },
  }
}
