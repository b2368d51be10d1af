/**
 * Feature flags held in process, as `gantry serve` and an app's createGantry evaluate them: the environment's
 * flags compiled once per version, reloaded when a change is announced on Redis and polled behind it (the
 * same bound as the rate-limit rules: within a second everywhere). Fail safe: a store unreachable at start
 * leaves the reader not loaded — callers serve the code's defaults and readiness warns — and once loaded,
 * the last snapshot stays whatever happens to the store.
 */
import { coalesced } from '../core/coalesced.js'
import { compileFlags, type CompiledFlags } from '../core/flags/evaluate.js'
import type { FlagReader } from '../core/flags/flag-reader.js'
import type { FlagSnapshot } from '../core/flags/flags.schema.js'

/** How often the version is read: the bound on how long a change takes without Redis. */
const DEFAULT_POLL_MS = 1000

export interface LiveFlags extends FlagReader {
  /** The flags in force, compiled; undefined until a snapshot loaded. */
  current(): CompiledFlags | undefined
  /** Reloads if the version moved (the poll and pub/sub call it; tests may too). Never throws. */
  refresh(): Promise<void>
  close(): void
}

export interface LiveFlagsOptions {
  readonly source: { snapshot(): Promise<FlagSnapshot>; version(): Promise<number> }
  readonly pollMs?: number | undefined
  /** Calls back on every change announcement; returns the unsubscribe. */
  readonly subscribe?: ((onChange: () => void) => () => void) | undefined
  /** A load that failed (the snapshot in force, if any, stays): to log. */
  readonly onReloadError: (err: unknown) => void
  /** A change listener that threw (the others are still called): to log. */
  readonly onListenerError: (err: unknown) => void
}

/** Tries a first load (never throws), then keeps the flags current until close(). */
export async function startLiveFlags(options: LiveFlagsOptions): Promise<LiveFlags> {
  const { source } = options
  let flags: CompiledFlags | undefined
  const listeners = new Set<() => void>()
  const refresh = coalesced(async () => {
    if (flags && (await source.version()) === flags.version) return
    flags = compileFlags(await source.snapshot())
    // Each listener on its own: one that throws (an app's) must not keep the others (the OpenFeature provider's) from hearing.
    for (const listener of listeners) {
      try {
        listener()
      } catch (err) {
        options.onListenerError(err)
      }
    }
  }, options.onReloadError)

  await refresh()
  const timer = setInterval(() => void refresh(), options.pollMs ?? DEFAULT_POLL_MS)
  timer.unref()
  const unsubscribe = options.subscribe?.(() => void refresh())

  return {
    loaded: () => flags !== undefined,
    current: () => flags,
    evaluate(key, context) {
      return flags ? flags.evaluate(key, context) : { key, value: undefined, variant: undefined, reason: 'FLAG_NOT_FOUND' }
    },
    type: (key) => flags?.type(key),
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    refresh,
    close() {
      clearInterval(timer)
      unsubscribe?.()
      listeners.clear()
    },
  }
}
