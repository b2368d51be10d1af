/**
 * Rules that change without a restart: the limiters are rebuilt from the database whenever the rules'
 * version moves. A change is announced on Redis pub/sub (every instance reloads at once); a poll of the
 * version row behind it catches a lost message, or is the only path without Redis, so a change is in
 * force everywhere within `pollMs`.
 */
import type { Clock } from '../core/clock.js'
import { coalesced } from '../core/coalesced.js'
import type { RateLimitSnapshot } from '../core/ratelimits/ratelimits.schema.js'
import { createRateLimiter } from './limiter.js'
import type { LocalStore, RateLimiter, RateLimitStore } from './types.js'

/** How often the version row is read: the bound on how long a change takes to reach an instance. */
const DEFAULT_POLL_MS = 1000

export interface LiveRules {
  /** The chain every request meets: ip and global rules at the edge, user and apiKey ones after authentication. */
  readonly chain: RateLimiter
  /** The login rules, checked before the password hash. */
  readonly login: RateLimiter
  /** The rules in force. */
  current(): RateLimitSnapshot
  /** Whether a rule in force fails closed: readiness fails, not warns, while the store is away. */
  failsClosed(): boolean
  /** Reloads if the version moved (the poll and pub/sub call it; tests may too). */
  refresh(): Promise<void>
  close(): void
}

export interface LiveRulesOptions {
  readonly source: { snapshot(): Promise<RateLimitSnapshot>; version(): Promise<number> }
  readonly store: RateLimitStore
  /** This instance's memory: where `local` rules decide while the store fails. */
  readonly fallback: LocalStore
  readonly keyPrefix?: string | undefined
  readonly clock: Clock
  readonly pollMs?: number | undefined
  /** Calls back on every change announcement; returns the unsubscribe. */
  readonly subscribe?: ((onChange: () => void) => () => void) | undefined
  /** A reload that failed (the rules in force stay): to log. */
  readonly onReloadError: (err: unknown) => void
  readonly onStoreError?: ((err: unknown, rule: string) => void) | undefined
}

/** Loads the rules once, then keeps them current until close(). */
export async function startLiveRules(options: LiveRulesOptions): Promise<LiveRules> {
  const { source, store, fallback, keyPrefix, clock, onStoreError } = options
  const build = (snapshot: RateLimitSnapshot) => {
    const common = { store, fallback, keyPrefix, clock, onStoreError, overrides: snapshot.overrides }
    return { snapshot, chain: createRateLimiter({ ...common, rules: snapshot.rules }), login: createRateLimiter({ ...common, rules: snapshot.login }) }
  }
  let live = build(await source.snapshot())
  const refresh = coalesced(async () => {
    if ((await source.version()) === live.snapshot.version) return
    live = build(await source.snapshot())
  }, options.onReloadError)

  const timer = setInterval(() => void refresh(), options.pollMs ?? DEFAULT_POLL_MS)
  timer.unref()
  const unsubscribe = options.subscribe?.(() => void refresh())

  return {
    chain: { check: (subject, keys) => live.chain.check(subject, keys), applies: (keys) => live.chain.applies(keys) },
    login: { check: (subject, keys) => live.login.check(subject, keys), applies: (keys) => live.login.applies(keys) },
    current: () => live.snapshot,
    failsClosed: () => [...live.snapshot.rules, ...live.snapshot.login].some((r) => r.onStoreError === 'closed'),
    refresh,
    close() {
      clearInterval(timer)
      unsubscribe?.()
    },
  }
}
