import { expect } from 'chai'
import { backoffMs } from '../../../src/core/backoff.js'

describe('core: the backoff policy', () => {
  const policy = { baseMs: 100, maxMs: 1_000 }

  it('doubles from the base and stops at the cap; without a random, the ceiling itself', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffMs(n, policy))).to.deep.equal([100, 200, 400, 800, 1_000, 1_000])
  })

  it('with a random, draws from the upper half [d/2, d]: never at once, never past the ceiling', () => {
    expect([0, 0.5, 1].map((r) => backoffMs(3, policy, () => r))).to.deep.equal([400, 600, 800])
    for (let i = 0; i < 200; i++) expect(backoffMs(i % 6, policy, Math.random)).to.be.within(50, 1_000)
  })
})
