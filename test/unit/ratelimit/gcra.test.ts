import { expect } from 'chai'
import fc from 'fast-check'
import { manualClock } from '../../../src/core/clock.js'
import { gcraStep, intervalUs, remaining, retryAfterSeconds, secondsUntilIdle } from '../../../src/ratelimit/gcra.js'
import { createMemoryStore, createRateLimiter, type RateLimitRule } from '../../../src/ratelimit/index.js'
import { referenceModel } from '../../helpers/store-suite.js'

/** DESIGN.md: T = window / limit in integer microseconds (floored, at least 1). */
const designT = (limit: number, windowMs: number) => Math.max(1, Math.floor((windowMs * 1000) / limit))

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
  fc.record({ gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 600_000 })), client: fc.integer({ min: 0, max: 2 }) }),
  { minLength: 1, maxLength: 300 },
)

describe('ratelimit/gcra', () => {
  it('the memory-store limiter admits exactly when the reference model does (injected clock)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 3_600_000 }), fc.integer({ min: 1, max: 30 }), arrivals, async (limit, windowMs, burst, seq) => {
        const clock = manualClock()
        const limiter = createRateLimiter({ rules: [rule(limit, windowMs, burst)], store: createMemoryStore({ clock }) })
        const model = referenceModel(designT(limit, windowMs), burst)
        for (const { gapMs, client } of seq) {
          clock.advance(gapMs)
          const ip = `10.0.0.${client}`
          const decision = await limiter.check({ method: 'GET', path: '/x', ip })
          expect(decision.allowed).to.equal(model(ip, clock.now() * 1000))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('over any window no key gets more than limit + burst', async () => {
    // T is floored to whole µs; the bound is exact while window(µs) >= limit·(limit+1), true for these figures.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1_000, max: 600_000 }), fc.integer({ min: 1, max: 30 }), arrivals, async (limit, windowMs, burst, seq) => {
        const clock = manualClock()
        const limiter = createRateLimiter({ rules: [rule(limit, windowMs, burst)], store: createMemoryStore({ clock }) })
        const admitted = new Map<number, number[]>()
        for (const { gapMs, client } of seq) {
          clock.advance(gapMs)
          if ((await limiter.check({ method: 'GET', path: '/', ip: `c${client}` })).allowed) admitted.set(client, [...(admitted.get(client) ?? []), clock.now()])
        }
        // The busiest window starts at some admission: count each half-open [t, t + window).
        for (const times of admitted.values()) {
          for (const start of times) expect(times.filter((t) => t >= start && t < start + windowMs).length).to.be.at.most(limit + burst)
        }
      }),
      { numRuns: 300 },
    )
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

  it('derives T, remaining, reset and Retry-After from the state', () => {
    // A TAT in the past counts from now, as an absent key does (the Redis script transcribes this).
    expect(gcraStep(100, 5_000, { intervalUs: 10, burst: 1 })).to.deep.equal({ allowed: true, tatUs: 5_010 })
    expect(gcraStep(undefined, 5_000, { intervalUs: 10, burst: 1 })).to.deep.equal({ allowed: true, tatUs: 5_010 })
    expect(gcraStep(5_030, 5_000, { intervalUs: 10, burst: 4 })).to.deep.equal({ allowed: true, tatUs: 5_040 })
    expect(gcraStep(5_031, 5_000, { intervalUs: 10, burst: 4 })).to.deep.equal({ allowed: false, tatUs: 5_031 })
    expect(intervalUs(60_000, 100)).to.equal(600_000)
    expect(intervalUs(1_000, 3)).to.equal(333_333) // floored
    expect(intervalUs(1, 5_000)).to.equal(1) // at least 1 µs
    const p = { intervalUs: 600_000, burst: 20 }
    expect(remaining(0, 5_000_000, p)).to.equal(20) // TAT in the past: idle
    expect(remaining(5_600_000, 5_000_000, p)).to.equal(19)
    expect(remaining(5_600_001, 5_000_000, p)).to.equal(18) // a partial interval still blocks one
    expect(remaining(17_000_000, 5_000_000, p)).to.equal(0)
    expect(secondsUntilIdle(17_000_000, 5_000_000)).to.equal(12)
    expect(secondsUntilIdle(17_000_001, 5_000_000)).to.equal(13)
    expect(secondsUntilIdle(1, 5_000_000)).to.equal(0)
    expect(retryAfterSeconds(17_000_000, 5_000_000, p)).to.equal(1) // 12 s − 11.4 s = 0.6 s
    expect(retryAfterSeconds(5_000_000 + 19 * 600_000 + 2_000_001, 5_000_000, p)).to.equal(3)
  })
})
