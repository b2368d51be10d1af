import { expect } from 'chai'
import { backoffMs } from '../../../src/core/backoff.js'
import { isIdempotent, isTransientStatus, MAX_RETRY_AFTER_MS, parseRetryAfter, RETRY_BACKOFF } from '../../../src/client/retry-policy.js'

describe('client retry policy', () => {
  it('retries after 200 ms doubling to 5 s, drawn from the upper half', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, RETRY_BACKOFF, () => 1))).to.deep.equal([200, 400, 800, 1600, 3200, 5000])
    expect(backoffMs(0, RETRY_BACKOFF, () => 0)).to.equal(100)
    expect(backoffMs(20, RETRY_BACKOFF, () => 0)).to.equal(2500)
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
