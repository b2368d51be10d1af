import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import type { RateLimitSnapshot } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createMemoryStore, loginRules, startLiveRules, type RateLimitRule } from '../../../src/ratelimit/index.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const LOGIN_RULES = loginRules(BUILTIN_RULE_ROUTES.login)

const rule = (limit: number, onStoreError: RateLimitRule['onStoreError'] = 'open'): RateLimitRule => ({
  name: 'r',
  match: { method: '*', path: '/*' },
  key: 'ip',
  limit,
  windowMs: 60_000,
  burst: limit,
  mode: 'enforce',
  onStoreError,
})
const req = { method: 'GET', path: '/', ip: '192.0.2.1' }

/** A rules source whose state the test sets, counting its reads. */
function source(initial: RateLimitSnapshot) {
  let state = initial
  const reads = { version: 0, snapshot: 0 }
  let gate: Promise<void> | undefined
  return {
    reads,
    set(next: RateLimitSnapshot) {
      state = next
    },
    /** Holds the next snapshot reads until the returned function is called. */
    hold(): () => void {
      let release!: () => void
      gate = new Promise((resolve) => (release = resolve))
      return () => {
        gate = undefined
        release()
      }
    },
    async version() {
      reads.version += 1
      return state.version
    },
    async snapshot() {
      reads.snapshot += 1
      const seen = state
      await gate
      return seen
    },
  }
}

const snapshot = (version: number, rules: RateLimitRule[]): RateLimitSnapshot => ({ version, rules, login: LOGIN_RULES, overrides: [] })

describe('ratelimit/live', () => {
  it('loads once, reloads only when the version moves, and decides with the new rules', async () => {
    const clock = manualClock()
    const src = source(snapshot(1, [rule(1)]))
    const live = await startLiveRules({
      source: src,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      onReloadError: (err) => Promise.reject(err),
    })
    try {
      expect((await live.chain.check(req)).allowed).to.equal(true)
      expect((await live.chain.check(req)).allowed).to.equal(false)
      await live.refresh()
      expect(src.reads.snapshot).to.equal(1) // same version: nothing read again
      src.set(snapshot(2, [rule(5)]))
      await live.refresh()
      expect(live.current().version).to.equal(2)
      expect((await live.chain.check(req)).headers['RateLimit-Policy']).to.equal('"r";q=5;w=60')
    } finally {
      live.close()
    }
  })

  it('an announcement during a reload runs one more, so the last change is never missed', async () => {
    const clock = manualClock()
    const src = source(snapshot(1, [rule(1)]))
    const live = await startLiveRules({
      source: src,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      onReloadError: () => undefined,
    })
    try {
      src.set(snapshot(2, [rule(2)]))
      const release = src.hold()
      const first = live.refresh()
      await new Promise((resolve) => setImmediate(resolve)) // the reload is now waiting on its read of version 2
      src.set(snapshot(3, [rule(3)]))
      const second = live.refresh() // arrives mid-reload
      release()
      await Promise.all([first, second])
      expect(live.current().version).to.equal(3)
    } finally {
      live.close()
    }
  })

  it('a failed reload keeps the rules in force and is reported', async () => {
    const clock = manualClock()
    const src = source(snapshot(1, [rule(1)]))
    const errors: unknown[] = []
    const live = await startLiveRules({
      source: src,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      onReloadError: (err) => errors.push(err),
    })
    try {
      src.set(snapshot(2, [{ ...rule(1), burst: 0 }])) // a rule the limiter refuses
      await live.refresh()
      expect(errors).to.have.length(1)
      expect(live.current().version).to.equal(1)
    } finally {
      live.close()
    }
  })

  it('says whether a rule in force fails closed', async () => {
    const clock = manualClock()
    const src = source(snapshot(1, [rule(1)]))
    const live = await startLiveRules({
      source: src,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      onReloadError: () => undefined,
    })
    try {
      expect(live.failsClosed()).to.equal(false)
      src.set(snapshot(2, [rule(1, 'closed')]))
      await live.refresh()
      expect(live.failsClosed()).to.equal(true)
    } finally {
      live.close()
    }
  })

  it('reloads on an announcement from the subscription', async () => {
    const clock = manualClock()
    const src = source(snapshot(1, [rule(1)]))
    let announce: (() => void) | undefined
    let unsubscribed = false
    const live = await startLiveRules({
      source: src,
      store: createMemoryStore({ clock }),
      fallback: createMemoryStore({ clock }),
      clock,
      pollMs: 3_600_000,
      onReloadError: () => undefined,
      subscribe: (onChange) => {
        announce = onChange
        return () => (unsubscribed = true)
      },
    })
    src.set(snapshot(2, [rule(2)]))
    announce?.()
    await live.refresh() // joins the reload the announcement started
    expect(live.current().version).to.equal(2)
    live.close()
    expect(unsubscribed).to.equal(true)
  })
})
