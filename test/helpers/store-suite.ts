/**
 * The semantics every RateLimitStore must have, as one suite: the memory store runs it in the unit tests,
 * the Redis store in the integration tests, both against the same reference model (DESIGN.md "Rate limiting").
 */
import { expect } from 'chai'
import fc from 'fast-check'
import type { RateLimitStore } from '../../src/ratelimit/index.js'

/**
 * The reference model: DESIGN.md "Rate limiting", transcribed line by line and nothing else. A key never
 * seen has TAT 0, which the formula treats like any TAT in the past.
 */
export function referenceModel(T: number, burst: number): (key: string, nowUs: number) => boolean {
  const tat = new Map<string, number>()
  return (key, nowUs) => {
    const TAT = tat.get(key) ?? 0
    const admitted = TAT - nowUs <= (burst - 1) * T
    if (admitted) tat.set(key, Math.max(TAT, nowUs) + T)
    return admitted
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

/** Registers the shared cases; `store()` is called inside each test, so it may be made in a before hook. */
export function storeSemantics(store: () => RateLimitStore, options: StoreSuiteOptions): void {
  let run = 0
  const fresh = (name: string) => `${name}:${++run}:${Math.random().toString(36).slice(2, 8)}`

  it('agrees with the reference model at microsecond resolution, with nowUs passed explicitly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: options.minIntervalUs ?? 1, max: Math.max(2_000_000, options.minIntervalUs ?? 1) }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.record({ gapUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000_000 })), client: fc.integer({ min: 0, max: 2 }) }), { maxLength: 200 }),
        async (T, burst, seq) => {
          const prefix = fresh('model')
          const model = referenceModel(T, burst)
          let now = EPOCH_US
          for (const { gapUs, client } of seq) {
            now += gapUs
            const result = await store().consume(`${prefix}:k${client}`, { intervalUs: T, burst }, now)
            expect(result.allowed).to.equal(model(`k${client}`, now))
            expect(result.nowUs).to.equal(now)
          }
        },
      ),
      { numRuns: options.numRuns },
    )
  })

  it('returns TAT and now in µs, and leaves TAT alone on a refusal', async () => {
    const key = fresh('exact')
    const p = { intervalUs: 10_000_000, burst: 2 }
    const at = (offsetUs: number) => store().consume(key, p, EPOCH_US + offsetUs)
    expect(await at(0)).to.deep.equal({ allowed: true, tatUs: EPOCH_US + 10_000_000, nowUs: EPOCH_US })
    expect(await at(5_000_000)).to.deep.equal({ allowed: true, tatUs: EPOCH_US + 20_000_000, nowUs: EPOCH_US + 5_000_000 })
    expect(await at(9_999_999)).to.deep.equal({ allowed: false, tatUs: EPOCH_US + 20_000_000, nowUs: EPOCH_US + 9_999_999 })
    expect(await at(9_999_999)).to.deep.equal({ allowed: false, tatUs: EPOCH_US + 20_000_000, nowUs: EPOCH_US + 9_999_999 })
    expect(await at(10_000_000)).to.deep.equal({ allowed: true, tatUs: EPOCH_US + 30_000_000, nowUs: EPOCH_US + 10_000_000 })
  })

  it('admits exactly `burst` at once from idle, then one per T; a TAT in the past counts from now', async () => {
    const key = fresh('burst')
    const p = { intervalUs: 600_000, burst: 20 }
    const at = async (offsetUs: number) => (await store().consume(key, p, EPOCH_US + offsetUs)).allowed
    for (let i = 0; i < 20; i++) expect(await at(0), `request ${i + 1}`).to.equal(true)
    expect(await at(0)).to.equal(false)
    expect(await at(599_999)).to.equal(false)
    expect(await at(600_000)).to.equal(true)
    expect(await at(600_000)).to.equal(false)
    // Long idle: the whole burst is back, and TAT restarts from now, not from the old TAT.
    expect(await store().consume(key, p, EPOCH_US + 60_000_000)).to.deep.equal({ allowed: true, tatUs: EPOCH_US + 60_600_000, nowUs: EPOCH_US + 60_000_000 })
    for (let i = 1; i < 20; i++) expect(await at(60_000_000)).to.equal(true)
    expect(await at(60_000_000)).to.equal(false)
  })

  it('keeps keys apart', async () => {
    const p = { intervalUs: 3_600_000_000, burst: 1 }
    const a = fresh('a')
    const b = fresh('b')
    expect((await store().consume(a, p, EPOCH_US)).allowed).to.equal(true)
    expect((await store().consume(a, p, EPOCH_US)).allowed).to.equal(false)
    expect((await store().consume(b, p, EPOCH_US)).allowed).to.equal(true)
  })
}
