/**
 * The per-minute traffic ring on a manual clock: answers counted in their minute, 429s as refused too, a
 * new minute starting from zero, an idle gap (even one longer than the window) read as zeros rather than
 * the counts an earlier lap of the ring left in its slots, and always exactly N minutes, oldest first,
 * ending with the current one.
 */
import { hostname } from 'node:os'
import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import { createTrafficRing, trafficSnapshotSchema } from '../../../src/server/traffic.js'

const MINUTE = 60_000
/** A minute boundary, so a test knows which minute each observation falls in. */
const START = Date.UTC(2026, 2, 1, 12, 0, 0)

/** The non-zero minutes of a snapshot, as `offset from START in minutes: [requests, refused]`. */
function nonZero(ring: ReturnType<typeof createTrafficRing>): Record<number, [number, number]> {
  return Object.fromEntries(
    ring
      .snapshot()
      .minutes.filter((m) => m.requests > 0 || m.refused > 0)
      .map((m) => [(Date.parse(m.at) - START) / MINUTE, [m.requests, m.refused]]),
  )
}

describe('traffic ring', () => {
  it('counts answers in the current minute, 429s as refused as well', () => {
    const clock = manualClock(START + 5_000)
    const ring = createTrafficRing(clock)
    for (const status of [200, 201, 404, 429, 503, 429]) ring.observe(status)
    const snapshot = ring.snapshot()
    expect(snapshot.minutes.at(-1)).to.deep.equal({ at: new Date(START).toISOString(), requests: 6, refused: 2 })
    expect(snapshot.minutes.slice(0, -1).every((m) => m.requests === 0 && m.refused === 0)).to.equal(true)
    expect(snapshot.instance).to.equal(`${hostname()}:${process.pid}`)
    expect(snapshot.windowMinutes).to.equal(60)
    expect(trafficSnapshotSchema.safeParse(snapshot).success).to.equal(true)
  })

  it('rolls into a new minute at its boundary, keeping the last one', () => {
    const clock = manualClock(START)
    const ring = createTrafficRing(clock)
    ring.observe(200)
    clock.set(START + MINUTE - 1)
    ring.observe(429)
    clock.set(START + MINUTE)
    ring.observe(200)
    ring.observe(200)
    expect(nonZero(ring)).to.deep.equal({ 0: [2, 1], 1: [2, 0] })
  })

  it('gives exactly N minutes, oldest first, one minute apart, ending with the current one', () => {
    const clock = manualClock(START + 30_000)
    for (const n of [1, 5, 60]) {
      const minutes = createTrafficRing(clock, n).snapshot().minutes
      expect(minutes).to.have.length(n)
      expect(minutes.at(-1)!.at).to.equal(new Date(START).toISOString())
      for (let i = 1; i < n; i++) expect(Date.parse(minutes[i]!.at) - Date.parse(minutes[i - 1]!.at)).to.equal(MINUTE)
    }
    expect(() => createTrafficRing(clock, 0)).to.throw(RangeError)
    expect(() => createTrafficRing(clock, 1.5)).to.throw(RangeError)
  })

  it('drops minutes as they leave the window, and reads an idle gap as zeros', () => {
    const clock = manualClock(START)
    const ring = createTrafficRing(clock, 5)
    for (let minute = 0; minute < 5; minute++) {
      clock.set(START + minute * MINUTE)
      for (let i = 0; i <= minute; i++) ring.observe(i === 0 ? 429 : 200)
    }
    expect(nonZero(ring)).to.deep.equal({ 0: [1, 1], 1: [2, 1], 2: [3, 1], 3: [4, 1], 4: [5, 1] })
    // Two idle minutes: the two oldest leave the window, nothing takes their place.
    clock.set(START + 6 * MINUTE)
    expect(nonZero(ring)).to.deep.equal({ 2: [3, 1], 3: [4, 1], 4: [5, 1] })
    expect(ring.snapshot().minutes.map((m) => m.requests)).to.deep.equal([3, 4, 5, 0, 0])
    // One observation after the gap reuses a slot without touching the others' minutes.
    ring.observe(200)
    expect(nonZero(ring)).to.deep.equal({ 2: [3, 1], 3: [4, 1], 4: [5, 1], 6: [1, 0] })
  })

  it('after an idle gap longer than the window shows none of the earlier lap, even in slots it has not reused', () => {
    const clock = manualClock(START)
    const ring = createTrafficRing(clock, 5)
    for (let minute = 0; minute < 5; minute++) {
      clock.set(START + minute * MINUTE)
      ring.observe(429)
    }
    // Exactly one lap later (minute 10 shares slot 0 with minute 0 and minute 5) and several laps later.
    for (const later of [10, 5 + 5 * 7, 60 * 24 * 3]) {
      clock.set(START + later * MINUTE)
      expect(nonZero(ring), `minute ${later}`).to.deep.equal({})
      expect(ring.snapshot().minutes).to.have.length(5)
    }
    ring.observe(200)
    expect(nonZero(ring)).to.deep.equal({ [60 * 24 * 3]: [1, 0] })
  })
})
