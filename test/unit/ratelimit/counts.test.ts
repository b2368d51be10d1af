import { expect } from 'chai'
import type { CountDeltas } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createDecisionCounts, type RateLimitDecision } from '../../../src/ratelimit/index.js'

const decision = (applied: RateLimitDecision['applied']): RateLimitDecision => ({ allowed: true, headers: {}, shadowRefused: [], applied, unavailable: false })

describe('ratelimit/counts', () => {
  it('adds up admitted, refused, shadow refusals and store errors per rule, and flushes only what is new', async () => {
    const written: CountDeltas[] = []
    const counts = createDecisionCounts({ write: async (d) => void written.push(d), onError: () => undefined, everyMs: 3_600_000 })
    counts.record(
      decision([
        { rule: 'a', allowed: true, shadow: false, storeError: false },
        { rule: 's', allowed: false, shadow: true, storeError: false },
      ]),
    )
    counts.record(decision([{ rule: 'a', allowed: false, shadow: false, storeError: false }]))
    counts.record(decision([{ rule: 'a', allowed: true, shadow: false, storeError: true }]))
    await counts.flush()
    expect(written).to.deep.equal([
      { a: { admitted: 2, refused: 1, shadowRefused: 0, storeErrors: 1 }, s: { admitted: 0, refused: 0, shadowRefused: 1, storeErrors: 0 } },
    ])
    await counts.flush()
    expect(written).to.have.length(1) // nothing new: no write
    await counts.close()
  })

  it('keeps the counts of a failed write for the next flush', async () => {
    const written: CountDeltas[] = []
    const errors: unknown[] = []
    let fail = true
    const counts = createDecisionCounts({
      write: async (d) => {
        if (fail) throw new Error('database restarting')
        written.push(d)
      },
      onError: (err) => errors.push(err),
      everyMs: 3_600_000,
    })
    counts.record(decision([{ rule: 'a', allowed: true, shadow: false, storeError: false }]))
    await counts.flush()
    expect(errors).to.have.length(1)
    counts.record(decision([{ rule: 'a', allowed: true, shadow: false, storeError: false }]))
    fail = false
    await counts.close() // flushes on close
    expect(written).to.deep.equal([{ a: { admitted: 2, refused: 0, shadowRefused: 0, storeErrors: 0 } }])
  })
})
