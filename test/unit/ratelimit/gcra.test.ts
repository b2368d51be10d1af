import { expect } from 'chai'
import fc from 'fast-check'
import { manualClock } from '../../../src/core/clock.js'
import { emission, gcraStep, remaining, retryAfterSeconds, secondsUntilIdle } from '../../../src/ratelimit/gcra.js'
import { createMemoryStore, createRateLimiter, type RateLimitRule } from '../../../src/ratelimit/index.js'
import { referenceModel } from '../../helpers/store-suite.js'

const rule = (limit: number, windowMs: number, burst: number): RateLimitRule => ({
  name: 'r',
  match: { method: '*', path: '/*' },
  key: 'ip',
  limit,
  windowMs,
  burst,
  mode: 'enforce',
})

/** Arrivals: gaps in ms (often 0, to make bursts) and which of three clients sends. */
const arrivals = fc.array(
  fc.record({
    gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 600_000 })),
    client: fc.integer({ min: 0, max: 2 }),
  }),
  // size 'max': fast-check's default size draws at most 10, too few to spend a burst and reach a boundary.
  { minLength: 1, maxLength: 300, size: 'max' },
)

describe('ratelimit/gcra', () => {
  it('the memory-store limiter admits exactly when the exact reference model does (injected clock)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 1, max: 30 }),
        arrivals,
        async (limit, windowMs, burst, seq) => {
          const clock = manualClock()
          const limiter = createRateLimiter({ rules: [rule(limit, windowMs, burst)], store: createMemoryStore({ clock }) })
          const model = referenceModel({ limit, windowMs, burst })
          for (const { gapMs, client } of seq) {
            clock.advance(gapMs)
            const ip = `10.0.0.${client}`
            const decision = await limiter.check({ method: 'GET', path: '/x', ip })
            expect(decision.allowed).to.equal(model.decide(ip, clock.now() * 1000))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('over any window no key gets more than limit + burst', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1_000, max: 600_000 }),
        fc.integer({ min: 1, max: 30 }),
        arrivals,
        async (limit, windowMs, burst, seq) => {
          const clock = manualClock()
          const limiter = createRateLimiter({ rules: [rule(limit, windowMs, burst)], store: createMemoryStore({ clock }) })
          const admitted = new Map<number, number[]>()
          for (const { gapMs, client } of seq) {
            clock.advance(gapMs)
            if ((await limiter.check({ method: 'GET', path: '/', ip: `c${client}` })).allowed)
              admitted.set(client, [...(admitted.get(client) ?? []), clock.now()])
          }
          // The busiest window starts at some admission: count each half-open [t, t + window).
          for (const times of admitted.values()) {
            for (const start of times) expect(times.filter((t) => t >= start && t < start + windowMs).length).to.be.at.most(limit + burst)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('holds limit + burst per window for large limits too: a flood at 3,000 and 4,999 per second', async () => {
    // With T floored to whole µs (333 for 3,000/s) a window held limit·(limit + 1) / window(µs) more: 3,003 + burst.
    for (const [limit, burst] of [
      [3_000, 1],
      [3_000, 50],
      [4_999, 7],
      [1_001, 1],
    ] as const) {
      const windowMs = 1_000
      const clock = manualClock()
      const limiter = createRateLimiter({ rules: [rule(limit, windowMs, burst)], store: createMemoryStore({ clock }) })
      const model = referenceModel({ limit, windowMs, burst })
      const admitted: number[] = []
      // Every ms for two windows, more requests than T lets through in a ms.
      for (let ms = 0; ms < 2 * windowMs; ms++) {
        for (let i = 0; i < Math.ceil(limit / windowMs) + 2; i++) {
          const allowed = (await limiter.check({ method: 'GET', path: '/', ip: '1.2.3.4' })).allowed
          expect(allowed, `${limit}/s burst ${burst} at ${ms} ms`).to.equal(model.decide('k', clock.now() * 1000))
          if (allowed) admitted.push(clock.now())
        }
        clock.advance(1)
      }
      const busiest = Math.max(...admitted.map((start) => admitted.filter((t) => t >= start && t < start + windowMs).length))
      expect(busiest, `${limit}/s burst ${burst}: admitted in the busiest window`).to.be.at.most(limit + burst)
    }
  })

  it('admits exactly `burst` at once from idle, then one per T', async () => {
    const clock = manualClock()
    const limiter = createRateLimiter({ rules: [rule(100, 60_000, 20)], store: createMemoryStore({ clock }) })
    const at = async () => (await limiter.check({ method: 'GET', path: '/', ip: '1.2.3.4' })).allowed
    for (let i = 0; i < 20; i++) expect(await at(), `request ${i + 1}`).to.equal(true)
    expect(await at()).to.equal(false)
    clock.advance(599) // T = 600 ms
    expect(await at()).to.equal(false)
    clock.advance(1)
    expect(await at()).to.equal(true)
    expect(await at()).to.equal(false)
    clock.advance(60_000) // idle again: the whole burst is back
    for (let i = 0; i < 20; i++) expect(await at()).to.equal(true)
    expect(await at()).to.equal(false)
  })

  it('Retry-After is TAT − (burst − 1)·T − now rounded up, at least 1, and a refusal changes nothing', async () => {
    const clock = manualClock()
    const limiter = createRateLimiter({ rules: [rule(1, 60_000, 1)], store: createMemoryStore({ clock }) })
    const check = () => limiter.check({ method: 'GET', path: '/', ip: '1.2.3.4' })
    expect((await check()).allowed).to.equal(true) // TAT = t0 + 60 s
    clock.advance(10_500)
    const refused = await check()
    expect(refused.allowed).to.equal(false)
    expect(refused.retryAfterSeconds).to.equal(50) // 49.5 s, rounded up
    expect(refused.headers['Retry-After']).to.equal('50')
    for (let i = 0; i < 100; i++) await check() // refusals must not push TAT further
    clock.advance(49_499)
    expect((await check()).retryAfterSeconds).to.equal(1) // 1 ms left: still a whole second
    clock.advance(1)
    expect((await check()).allowed).to.equal(true) // TAT − now = 0 ≤ 0
  })

  it('derives T, remaining, reset and Retry-After from the state, exactly', () => {
    const tat = (us: number, frac = 0, per = 1) => ({ us, frac, per })
    const tenUs = (burst: number) => ({ limit: 100, windowMs: 1, burst }) // T = 10 µs
    // A TAT in the past counts from now, as an absent key does (the Redis script transcribes this).
    expect(gcraStep(tat(100), 5_000, tenUs(1))).to.deep.equal({ allowed: true, tat: tat(5_010, 0, 100) })
    expect(gcraStep(undefined, 5_000, tenUs(1))).to.deep.equal({ allowed: true, tat: tat(5_010, 0, 100) })
    expect(gcraStep(tat(5_030, 0, 100), 5_000, tenUs(4))).to.deep.equal({ allowed: true, tat: tat(5_040, 0, 100) })
    expect(gcraStep(tat(5_031, 0, 100), 5_000, tenUs(4))).to.deep.equal({ allowed: false, tat: tat(5_031, 0, 100) })
    expect(emission({ limit: 100, windowMs: 60_000, burst: 20 })).to.deep.equal({ interval: { us: 600_000, frac: 0 }, tolerance: { us: 11_400_000, frac: 0 } })
    // 1,000,000 / 3 µs: 333,333 and 1/3; the tolerance 2·T is 666,666 and 2/3 — nothing floored.
    expect(emission({ limit: 3, windowMs: 1_000, burst: 3 })).to.deep.equal({ interval: { us: 333_333, frac: 1 }, tolerance: { us: 666_666, frac: 2 } })
    // 1,000 µs / 5,000: under a µs, still exact.
    expect(emission({ limit: 5_000, windowMs: 1, burst: 1 })).to.deep.equal({ interval: { us: 0, frac: 1_000 }, tolerance: { us: 0, frac: 0 } })
    // (burst − 1) × the remainder past 2^53 (an override's burst defaults to its limit): exact all the same.
    expect(emission({ limit: 999_999_999, windowMs: 86_400_000, burst: 999_999_999 }).tolerance).to.deep.equal({ us: 86_399_999_913, frac: 599_999_913 })
    const p = { limit: 100, windowMs: 60_000, burst: 20 } // T = 600 ms
    expect(remaining(tat(0), 5_000_000, p)).to.equal(20) // TAT in the past: idle
    expect(remaining(undefined, 5_000_000, p)).to.equal(20)
    expect(remaining(tat(5_600_000, 0, 100), 5_000_000, p)).to.equal(19)
    expect(remaining(tat(5_600_001, 0, 100), 5_000_000, p)).to.equal(18) // a partial interval still blocks one
    expect(remaining(tat(17_000_000, 0, 100), 5_000_000, p)).to.equal(0)
    const thirds = { limit: 3, windowMs: 1_000, burst: 3 } // T = 333,333⅓ µs
    expect(remaining(tat(333_333, 1, 3), 0, thirds)).to.equal(2)
    expect(remaining(tat(333_333, 2, 3), 0, thirds)).to.equal(1) // a third of a µs past one T blocks another
    expect(remaining(tat(333_334, 0, 3), 0, thirds)).to.equal(1)
    expect(remaining(tat(1_000_000, 0, 3), 0, thirds)).to.equal(0)
    expect(remaining(tat(666_666, 2, 3), 0, thirds)).to.equal(1) // exactly 2·T
    expect(remaining(tat(666_667, 0, 3), 0, thirds)).to.equal(0)
    expect(secondsUntilIdle(tat(17_000_000), 5_000_000)).to.equal(12)
    expect(secondsUntilIdle(tat(17_000_000, 1, 3), 5_000_000)).to.equal(13) // a third of a µs past 12 s
    expect(secondsUntilIdle(tat(1), 5_000_000)).to.equal(0)
    expect(retryAfterSeconds(tat(17_000_000, 0, 100), 5_000_000, p)).to.equal(1) // 12 s − 11.4 s = 0.6 s
    expect(retryAfterSeconds(tat(5_000_000 + 19 * 600_000 + 2_000_001, 0, 100), 5_000_000, p)).to.equal(3)
    // TAT − 2·T − now: 1,333,333⅔ µs is 2 s; exactly 1 s is 1; a third of a µs more is 2 — never cut short.
    expect(retryAfterSeconds(tat(2_000_000, 1, 3), 0, thirds)).to.equal(2)
    expect(retryAfterSeconds(tat(1_666_666, 2, 3), 0, thirds)).to.equal(1)
    expect(retryAfterSeconds(tat(1_666_667, 0, 3), 0, thirds)).to.equal(2)
  })

  it('a TAT written under another limit (an override) counts as the next whole µs: later, never earlier', () => {
    const written = { us: 5_000, frac: 1, per: 3 }
    const halves = { limit: 2, windowMs: 1, burst: 1 } // T = 500 µs, admitted iff TAT ≤ now
    expect(gcraStep(written, 5_000, halves)).to.deep.equal({ allowed: false, tat: { us: 5_001, frac: 0, per: 2 } })
    expect(gcraStep(written, 5_001, halves)).to.deep.equal({ allowed: true, tat: { us: 5_501, frac: 0, per: 2 } })
    expect(remaining(written, 5_000, halves)).to.equal(0)
    expect(retryAfterSeconds(written, 4_999, halves)).to.equal(1)
  })
})
