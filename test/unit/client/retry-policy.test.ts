import { expect } from 'chai'
import { backoffMs, isIdempotent, isTransientStatus, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../src/client/retry-policy.js'

describe('client retry policy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffMs(0, () => 0)).to.equal(0)
    expect(backoffMs(0, () => 0.999)).to.equal(199)
    expect(backoffMs(2, () => 0.5)).to.equal(400)
    expect(backoffMs(20, () => 0.999)).to.be.below(5000)
    for (let i = 0; i < 100; i++) expect(backoffMs(3)).to.be.within(0, 1599)
  })

  it('takes GET, PUT and DELETE as idempotent unless the spec says', () => {
    expect(['GET', 'PUT', 'DELETE'].map((m) => isIdempotent(m as 'GET', undefined))).to.deep.equal([true, true, true])
    expect(isIdempotent('POST', undefined)).to.equal(false)
    expect(isIdempotent('PATCH', undefined)).to.equal(false)
    expect(isIdempotent('POST', true)).to.equal(true)
    expect(isIdempotent('GET', false)).to.equal(false)
    expect([502, 503, 504, 500, 429].map(isTransientStatus)).to.deep.equal([true, true, true, false, false])
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0)
    expect(parseRetryAfter('3', now)).to.equal(3000)
    expect(parseRetryAfter(' 0 ', now)).to.equal(0)
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).to.equal(7000)
    expect(parseRetryAfter(new Date(now - 7000).toUTCString(), now)).to.equal(0)
    expect(parseRetryAfter('soon', now)).to.equal(undefined)
    expect(parseRetryAfter(undefined, now)).to.equal(undefined)
    expect(MAX_RETRY_AFTER_MS).to.equal(30_000)
  })
})
