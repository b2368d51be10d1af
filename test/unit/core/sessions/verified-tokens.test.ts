import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { manualClock } from '../../../../src/core/clock.js'
import { createAccessTokens } from '../../../../src/core/sessions/access-tokens.js'
import type { AccessTokenClaims } from '../../../../src/core/sessions/sessions.schema.js'
import { hs256Keys, type TokenKeys } from '../../../../src/core/sessions/token-keys.js'
import { createVerifiedTokens } from '../../../../src/core/sessions/verified-tokens.js'
import { AUDIENCE, ISSUER, START } from '../../../helpers/token-claims.js'
import { rejection } from '../../../helpers/rejection.js'

/** Claims of a token that expires `lifeS` seconds after the clock's now. */
const claimsFor = (clock: { now(): number }, jti: string, lifeS = 900): AccessTokenClaims => {
  const iat = Math.floor(clock.now() / 1000)
  return { sub: '42', jti, iat, exp: iat + lifeS, epoch: 0, kind: 'user' }
}

describe('core/sessions: verified-token cache', () => {
  const clock = manualClock(START)
  beforeEach(() => clock.set(START))

  it('returns what a token was verified to carry, for that exact token only', () => {
    const cache = createVerifiedTokens({ clock })
    const claims = claimsFor(clock, 'a')
    cache.set('header.payload.signature', claims)
    expect(cache.get('header.payload.signature')).to.deep.equal(claims)
    for (const other of ['header.payload.signaturE', 'header.payload.signature ', 'header.payload', 'Header.payload.signature'])
      expect(cache.get(other), other).to.equal(undefined)
    // The cached claims are shared by every request that presents the token: none may change them.
    expect(Object.isFrozen(cache.get('header.payload.signature'))).to.equal(true)
  })

  it('keeps an entry for the time to live at most', () => {
    const cache = createVerifiedTokens({ clock, ttlMs: 10_000 })
    cache.set('t', claimsFor(clock, 'a'))
    clock.advance(9_999)
    expect(cache.get('t')).to.not.equal(undefined)
    clock.advance(1)
    expect(cache.get('t')).to.equal(undefined)
  })

  it("keeps an entry no later than the token's expiry, and never one already expired", () => {
    const cache = createVerifiedTokens({ clock, ttlMs: 10_000 })
    cache.set('t', claimsFor(clock, 'a', 3))
    clock.advance(2_999)
    expect(cache.get('t')).to.not.equal(undefined)
    clock.advance(1)
    expect(cache.get('t')).to.equal(undefined)
    // Verified within the clock tolerance past its exp: left to a full verification every time.
    const late = claimsFor(clock, 'b', 0)
    cache.set('late', late)
    expect(cache.get('late')).to.equal(undefined)
  })

  it('counts a clock set back before the verification as a miss', () => {
    const cache = createVerifiedTokens({ clock })
    cache.set('t', claimsFor(clock, 'a'))
    clock.set(START - 1)
    expect(cache.get('t')).to.equal(undefined)
    clock.set(START)
    expect(cache.get('t'), 'a miss drops the entry').to.equal(undefined)
  })

  it('holds at most maxEntries, dropping the least recently used', () => {
    const cache = createVerifiedTokens({ clock, maxEntries: 3 })
    for (const token of ['t1', 't2', 't3']) cache.set(token, claimsFor(clock, token))
    expect(cache.get('t1')?.jti).to.equal('t1') // t1 used last: t2 is now the least recently used
    cache.set('t4', claimsFor(clock, 't4'))
    expect(cache.get('t2')).to.equal(undefined)
    for (const token of ['t1', 't3', 't4']) expect(cache.get(token)?.jti, token).to.equal(token)
    // Setting a token again replaces its entry rather than taking a second place.
    cache.set('t4', claimsFor(clock, 't4-again'))
    for (const token of ['t1', 't3']) expect(cache.get(token)?.jti, token).to.equal(token)
    expect(cache.get('t4')?.jti).to.equal('t4-again')
  })

  describe('in access tokens', () => {
    /** HS256 keys that count how often a token's key was asked for: once per full verification. */
    const countingKeys = (): TokenKeys & { lookups: number } => {
      const inner = hs256Keys(randomBytes(32))
      const keys = {
        alg: inner.alg,
        lookups: 0,
        signingKey: () => inner.signingKey(),
        verificationKey: (header: Parameters<TokenKeys['verificationKey']>[0]) => {
          keys.lookups += 1
          return inner.verificationKey(header)
        },
      }
      return keys
    }

    it('verifies a token presented again within the time to live once, and fully again after', async () => {
      const keys = countingKeys()
      const tokens = createAccessTokens({ keys, issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock })
      const { token, jti } = await tokens.sign({ sub: '42', epoch: 0, kind: 'user' })
      for (let i = 0; i < 5; i++) expect((await tokens.verify(token)).jti).to.equal(jti)
      expect(keys.lookups).to.equal(1)
      clock.advance(10_000)
      await tokens.verify(token)
      expect(keys.lookups).to.equal(2)
    })

    it('never caches a refusal, nor serves a cached token past its expiry and tolerance', async () => {
      const keys = countingKeys()
      const tokens = createAccessTokens({ keys, issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock, clockToleranceSeconds: 0 })
      const { token } = await tokens.sign({ sub: '42', epoch: 0, kind: 'user', ttlSeconds: 5 })
      const [header, payload] = token.split('.')
      for (let i = 0; i < 2; i++) expect((await rejection(tokens.verify(`${header}.${payload}.AAAA`))).code).to.equal('TOKEN_INVALID')
      expect(keys.lookups).to.equal(2)
      await tokens.verify(token)
      clock.advance(5_000)
      expect((await rejection(tokens.verify(token))).code).to.equal('TOKEN_INVALID')
    })
  })
})
