import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import { createMemoryStore } from '../../../src/ratelimit/index.js'
import { storeSemantics } from '../../helpers/store-suite.js'

const HOUR = { limit: 1, windowMs: 3_600_000, burst: 1 }
const SECOND = { limit: 1, windowMs: 1000, burst: 1 }

describe('ratelimit/memory-store', () => {
  it('stays within maxKeys under a spray of 10,000 distinct keys, and still admits new ones', async () => {
    const clock = manualClock()
    const store = createMemoryStore({ clock, maxKeys: 1000 })
    let largest = 0
    for (let i = 0; i < 10_000; i++) {
      expect((await store.consume(`ip:${i}`, HOUR)).allowed).to.equal(true)
      largest = Math.max(largest, store.size())
      if (i % 7 === 0) clock.advance(1)
    }
    expect(largest).to.equal(1000)
    expect(store.size()).to.equal(1000)
  })

  it('when full, drops expired keys before evicting a live one', async () => {
    const clock = manualClock()
    const store = createMemoryStore({ clock, maxKeys: 10 })
    // The live keys are the oldest: evicting by age alone would take them first.
    for (let i = 0; i < 5; i++) await store.consume(`live${i}`, HOUR)
    for (let i = 0; i < 5; i++) await store.consume(`short${i}`, SECOND)
    clock.advance(2_000)
    for (let i = 0; i < 5; i++) await store.consume(`new${i}`, HOUR)
    expect(store.size()).to.be.at.most(10)
    // Each live key still holds its TAT: its single-request burst is spent.
    for (let i = 0; i < 5; i++) expect((await store.consume(`live${i}`, HOUR)).allowed, `live${i}`).to.equal(false)
  })

  it('when full of live keys, evicts the least recently admitted', async () => {
    const clock = manualClock()
    const store = createMemoryStore({ clock, maxKeys: 3 })
    for (const key of ['a', 'b', 'c']) await store.consume(key, HOUR)
    await store.consume('d', HOUR)
    expect(store.size()).to.equal(3)
    expect((await store.consume('b', HOUR)).allowed).to.equal(false) // kept
    expect((await store.consume('a', HOUR)).allowed).to.equal(true) // forgotten, so idle again
  })

  it('counts recency from the last admission, not the first', async () => {
    const store = createMemoryStore({ clock: manualClock(), maxKeys: 3 })
    const twice = { ...HOUR, burst: 2 }
    for (const key of ['a', 'b', 'c', 'a']) await store.consume(key, twice)
    await store.consume('d', twice) // b is now the least recently admitted
    expect((await store.consume('a', twice)).allowed).to.equal(false) // kept: both of its burst spent
    expect(await store.consume('b', twice)).to.include({ allowed: true })
    expect((await store.consume('b', twice)).allowed).to.equal(true) // forgotten: a fresh burst of 2
  })

  it('forgets expired keys: an expired key is an absent one, and memory shrinks as the store is used', async () => {
    const clock = manualClock()
    const store = createMemoryStore({ clock })
    for (let i = 0; i < 100; i++) await store.consume(`k${i}`, SECOND)
    expect(store.size()).to.equal(100)
    expect((await store.consume('k0', SECOND)).allowed).to.equal(false)
    clock.advance(1_000) // TAT = now: expired
    const again = await store.consume('k0', SECOND)
    expect(again).to.deep.equal({ allowed: true, tat: { us: clock.now() * 1000 + 1_000_000, frac: 0, per: 1 }, nowUs: clock.now() * 1000 })
    for (let i = 0; i < 100; i++) await store.consume('other', SECOND)
    expect(store.size()).to.be.at.most(2)
  })

  it('takes time from the clock in µs unless nowUs is passed', async () => {
    const clock = manualClock(1_000)
    const store = createMemoryStore({ clock })
    const p = { limit: 100, windowMs: 1, burst: 2 } // T = 10 µs
    expect(await store.consume('k', p)).to.deep.equal({ allowed: true, tat: { us: 1_000_010, frac: 0, per: 100 }, nowUs: 1_000_000 })
    expect(await store.consume('k', p, 1_000_005)).to.deep.equal({ allowed: true, tat: { us: 1_000_020, frac: 0, per: 100 }, nowUs: 1_000_005 })
  })

  it('refuses a maxKeys that is not a positive integer', () => {
    for (const maxKeys of [0, -1, 1.5, Number.NaN]) expect(() => createMemoryStore({ clock: manualClock(), maxKeys })).to.throw(RangeError)
  })

  describe('the store semantics shared with the Redis store', () => {
    const store = createMemoryStore({ clock: manualClock() })
    storeSemantics(() => store, { numRuns: 300 })
  })
})
