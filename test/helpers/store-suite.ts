/**
 * The semantics every RateLimitStore must have, as one suite: the memory store runs it in the unit tests,
 * the Redis store in the integration tests, both against the same reference model (DESIGN.md "Rate limiting").
 */
import { expect } from 'chai'
import fc from 'fast-check'
import type { GcraParams, RateLimitStore } from '../../src/ratelimit/index.js'

/** The reference model of one rule's figures, over any number of keys. */
export interface ReferenceModel {
  /** The decision for `key` at `nowUs`, spending the budget when it admits. */
  decide(key: string, nowUs: number): boolean
  /** The first whole µs at which `key` is admitted again: where a rounding error shows first. */
  nextAdmissionUs(key: string): number
}

/**
 * The reference model: DESIGN.md "Rate limiting", transcribed line by line, with T = window / limit an exact
 * rational: every time is counted in 1/limit µs as a BigInt, so T is window (µs) of them and nothing is ever
 * rounded. Independent of src/ratelimit/gcra.ts (whole µs plus remainders). A key never seen has TAT 0,
 * which the formula treats like any TAT in the past.
 */
export function referenceModel({ limit, windowMs, burst }: GcraParams): ReferenceModel {
  const perUs = BigInt(limit)
  const T = BigInt(windowMs) * 1000n
  const tolerance = BigInt(burst - 1) * T
  const tat = new Map<string, bigint>()
  return {
    decide(key, nowUs) {
      const now = BigInt(nowUs) * perUs
      const TAT = tat.get(key) ?? 0n
      const admitted = TAT - now <= tolerance
      if (admitted) tat.set(key, (TAT > now ? TAT : now) + T)
      return admitted
    },
    nextAdmissionUs(key) {
      // The least whole now with now·limit ≥ TAT − tolerance.
      const earliest = (tat.get(key) ?? 0n) - tolerance
      return earliest <= 0n ? 0 : Number((earliest + perUs - 1n) / perUs)
    },
  }
}

export interface StoreSuiteOptions {
  /** fast-check runs of the model property (each run is up to 200 calls). */
  readonly numRuns: number
  /**
   * The smallest T the property draws. A store that expires keys in real time (Redis: when the key would be
   * idle, by its own clock) must not see simulated time run slower than real time by more than a key's TTL,
   * so the Redis suite keeps T (and so every TTL) at a second or more.
   */
  readonly minIntervalUs?: number
}

/** 2026-01-01T00:00:00Z in µs: an explicit `now` as large as a real one. */
const EPOCH_US = 1_767_225_600_000_000

/**
 * Where flooring T to whole µs admitted what the specification refuses, as µs after EPOCH_US. Each case is
 * sent back to back (one pipeline to Redis), so even a T of half a millisecond outlives the real time
 * between its calls: a key must not expire in real time while simulated time stands still.
 */
const BOUNDARY_CASES: ReadonlyArray<{ what: string; params: GcraParams; atUs: readonly number[]; admitted: readonly boolean[] }> = [
  // T = 500.5 µs: floored to 500, the 4th found TAT − now = 500 ≤ (burst − 1)·T and came in.
  {
    what: 'limit 999 per 500 ms, burst 2, at 0, 0, 1 and 1 ms (issue 14)',
    params: { limit: 999, windowMs: 500, burst: 2 },
    atUs: [0, 0, 1000, 1000],
    admitted: [true, true, true, false],
  },
  {
    what: 'limit 3 per second, burst 1: T is 333,333⅓ µs',
    params: { limit: 3, windowMs: 1000, burst: 1 },
    atUs: [0, 333_333, 333_334],
    admitted: [true, false, true],
  },
  {
    what: 'limit 3 per second, burst 3: three at once end at 1 s exactly',
    params: { limit: 3, windowMs: 1000, burst: 3 },
    atUs: [0, 0, 0, 0, 333_333, 333_334, 333_334],
    admitted: [true, true, true, false, false, true, false],
  },
]

/** Registers the shared cases; `store()` is called inside each test, so it may be made in a before hook. */
export function storeSemantics(store: () => RateLimitStore, options: StoreSuiteOptions): void {
  let run = 0
  const fresh = (name: string) => `${name}:${++run}:${Math.random().toString(36).slice(2, 8)}`

  it('agrees with the exact reference model at microsecond resolution, also on and just before each admission boundary', async () => {
    const minIntervalUs = options.minIntervalUs ?? 1
    // Limits up to 5,000: past limit·(limit + 1) > window (µs), where flooring T broke "limit + burst per window".
    const figures = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 5_000 })).chain((limit) => {
      const shortestMs = Math.ceil((minIntervalUs * limit) / 1000)
      return fc.record({
        limit: fc.constant(limit),
        windowMs: fc.integer({ min: shortestMs, max: Math.max(3_600_000, 4 * shortestMs) }),
        burst: fc.integer({ min: 1, max: 10 }),
      })
    })
    // When the next request comes: after a gap, or at the first µs its client is admitted again, or one µs before.
    const when = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000_000 }), fc.constantFrom('boundary' as const, 'before boundary' as const))
    await fc.assert(
      fc.asyncProperty(figures, fc.array(fc.record({ when, client: fc.integer({ min: 0, max: 2 }) }), { maxLength: 200, size: 'max' }), async (params, seq) => {
        const prefix = fresh('model')
        const model = referenceModel(params)
        let now = EPOCH_US
        for (const { when, client } of seq) {
          const key = `k${client}`
          if (typeof when === 'number') now += when
          else now = Math.max(now, model.nextAdmissionUs(key) - (when === 'boundary' ? 0 : 1))
          const result = await store().consume(`${prefix}:${key}`, params, now)
          expect(result.allowed, `${JSON.stringify(params)} at ${now - EPOCH_US} µs`).to.equal(model.decide(key, now))
          expect(result.nowUs).to.equal(now)
        }
      }),
      { numRuns: options.numRuns },
    )
  })

  it('decides the boundary cases where whole-µs T over-admitted as the exact model does', async () => {
    for (const { what, params, atUs, admitted } of BOUNDARY_CASES) {
      const key = fresh('boundary')
      const model = referenceModel(params)
      // One after the other, as the model decides them: concurrent calls have no order a store must keep
      // (the Redis store's EVALSHA, NOSCRIPT, EVAL fallback may answer them out of order).
      const results = []
      for (const at of atUs) results.push(await store().consume(key, params, EPOCH_US + at))
      expect(
        atUs.map((at) => model.decide(key, EPOCH_US + at)),
        `the model on ${what}`,
      ).to.deep.equal(admitted)
      expect(
        results.map((r) => r.allowed),
        what,
      ).to.deep.equal(admitted)
    }
  })

  it('returns TAT and now in µs, and leaves TAT alone on a refusal', async () => {
    const key = fresh('exact')
    const p = { limit: 1, windowMs: 10_000, burst: 2 }
    const tat = (offsetUs: number) => ({ us: EPOCH_US + offsetUs, frac: 0, per: 1 })
    const at = (offsetUs: number) => store().consume(key, p, EPOCH_US + offsetUs)
    expect(await at(0)).to.deep.equal({ allowed: true, tat: tat(10_000_000), nowUs: EPOCH_US })
    expect(await at(5_000_000)).to.deep.equal({ allowed: true, tat: tat(20_000_000), nowUs: EPOCH_US + 5_000_000 })
    expect(await at(9_999_999)).to.deep.equal({ allowed: false, tat: tat(20_000_000), nowUs: EPOCH_US + 9_999_999 })
    expect(await at(9_999_999)).to.deep.equal({ allowed: false, tat: tat(20_000_000), nowUs: EPOCH_US + 9_999_999 })
    expect(await at(10_000_000)).to.deep.equal({ allowed: true, tat: tat(30_000_000), nowUs: EPOCH_US + 10_000_000 })
  })

  it('keeps the remainder of T in 1/limit µs, carrying it into whole µs', async () => {
    const key = fresh('remainder')
    const p = { limit: 3, windowMs: 1000, burst: 3 } // T = 333,333⅓ µs
    const at = async () => (await store().consume(key, p, EPOCH_US)).tat
    expect(await at()).to.deep.equal({ us: EPOCH_US + 333_333, frac: 1, per: 3 })
    expect(await at()).to.deep.equal({ us: EPOCH_US + 666_666, frac: 2, per: 3 })
    expect(await at()).to.deep.equal({ us: EPOCH_US + 1_000_000, frac: 0, per: 3 })
  })

  it('reads a TAT written under other figures (an override changed the limit) as the next whole µs, never earlier', async () => {
    const key = fresh('units')
    expect((await store().consume(key, { limit: 3, windowMs: 1000, burst: 1 }, EPOCH_US)).tat).to.deep.include({ us: EPOCH_US + 333_333, frac: 1 })
    // Burst 1: admitted iff TAT ≤ now. In halves of a µs the remainder has no exact form; 333,333 would be early.
    const halves = { limit: 2, windowMs: 1000, burst: 1 }
    expect((await store().consume(key, halves, EPOCH_US + 333_333)).allowed).to.equal(false)
    expect(await store().consume(key, halves, EPOCH_US + 333_334)).to.deep.include({ allowed: true, tat: { us: EPOCH_US + 833_334, frac: 0, per: 2 } })
  })

  it('admits exactly `burst` at once from idle, then one per T; a TAT in the past counts from now', async () => {
    const key = fresh('burst')
    const p = { limit: 100, windowMs: 60_000, burst: 20 } // T = 600 ms
    const at = async (offsetUs: number) => (await store().consume(key, p, EPOCH_US + offsetUs)).allowed
    for (let i = 0; i < 20; i++) expect(await at(0), `request ${i + 1}`).to.equal(true)
    expect(await at(0)).to.equal(false)
    expect(await at(599_999)).to.equal(false)
    expect(await at(600_000)).to.equal(true)
    expect(await at(600_000)).to.equal(false)
    // Long idle: the whole burst is back, and TAT restarts from now, not from the old TAT.
    expect(await store().consume(key, p, EPOCH_US + 60_000_000)).to.deep.equal({
      allowed: true,
      tat: { us: EPOCH_US + 60_600_000, frac: 0, per: 100 },
      nowUs: EPOCH_US + 60_000_000,
    })
    for (let i = 1; i < 20; i++) expect(await at(60_000_000)).to.equal(true)
    expect(await at(60_000_000)).to.equal(false)
  })

  it('peeks at the TAT a decision left, remainder included, spending nothing; an unknown key is idle', async () => {
    const key = fresh('peek')
    const p = { limit: 7, windowMs: 3_600_000, burst: 2 } // T = 514,285,714 2/7 µs: busy for the whole test
    const spent = await store().consume(key, p) // the store's own time, as peek has
    const peeked = await store().peek(key)
    expect(peeked.tat).to.deep.equal(spent.tat)
    expect(peeked.tat?.frac).to.equal(2)
    expect(peeked.nowUs).to.be.at.least(spent.nowUs)
    expect(await store().peek(key)).to.deep.include({ tat: spent.tat })
    expect((await store().peek(fresh('never'))).tat).to.equal(undefined)
  })

  it('keeps keys apart', async () => {
    const p = { limit: 1, windowMs: 3_600_000, burst: 1 }
    const a = fresh('a')
    const b = fresh('b')
    expect((await store().consume(a, p, EPOCH_US)).allowed).to.equal(true)
    expect((await store().consume(a, p, EPOCH_US)).allowed).to.equal(false)
    expect((await store().consume(b, p, EPOCH_US)).allowed).to.equal(true)
  })
}
