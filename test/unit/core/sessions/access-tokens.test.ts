import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { SignJWT } from 'jose'
import { manualClock } from '../../../../src/core/clock.js'
import { GantryError } from '../../../../src/core/errors.js'
import { createAccessTokens, type AccessTokens } from '../../../../src/core/sessions/access-tokens.js'
import { hs256Keys } from '../../../../src/core/sessions/token-keys.js'
import { hs256Forgeries, signRaw } from '../../../helpers/forged-tokens.js'
import { AUDIENCE, goodClaims, ISSUER, nowSeconds, START } from '../../../helpers/token-claims.js'
import { rejection } from '../../../helpers/rejection.js'

describe('core/sessions: access tokens (HS256)', () => {
  const secret = randomBytes(32)
  const clock = manualClock(START)
  let tokens: AccessTokens

  beforeEach(() => {
    clock.set(START)
    tokens = createAccessTokens({ keys: hs256Keys(secret), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock })
  })

  it('signs a token that verifies, with iat and exp from the injected clock and a random jti', async () => {
    const signed = await tokens.sign({ sub: '42', epoch: 3, kind: 'user', permissions: ['users:read'] })
    expect(signed.expiresAt).to.equal((nowSeconds() + 900) * 1000)
    const [header] = signed.token.split('.')
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).to.deep.equal({ alg: 'HS256', typ: 'at+jwt' })
    const claims = await tokens.verify(signed.token)
    expect(claims).to.deep.equal({
      sub: '42',
      jti: signed.jti,
      iat: nowSeconds(),
      exp: nowSeconds() + 900,
      epoch: 3,
      kind: 'user',
      env: 'test',
      permissions: ['users:read'],
    })
    const other = await tokens.sign({ sub: '42', epoch: 3, kind: 'user' })
    expect(other.jti).not.to.equal(signed.jti)
    expect(signed.jti).to.match(/^[0-9A-Za-z]{22}$/)
  })

  it('carries API key scopes and a per-token lifetime', async () => {
    const signed = await tokens.sign({ sub: 'key_abc', epoch: 0, kind: 'apikey', scopes: ['audit:read'], ttlSeconds: 3600 })
    expect(signed.expiresAt).to.equal((nowSeconds() + 3600) * 1000)
    expect(await tokens.verify(signed.token))
      .to.include({ kind: 'apikey', exp: nowSeconds() + 3600 })
      .and.have.deep.property('scopes', ['audit:read'])
  })

  it('expires after its lifetime, with at most the configured leeway', async () => {
    const { token } = await tokens.sign({ sub: '42', epoch: 0, kind: 'user' })
    clock.advance(899_000)
    await tokens.verify(token)
    clock.advance(1_000 + 29_000)
    await tokens.verify(token) // within the 30 s default leeway
    clock.advance(1_000)
    expect((await rejection(tokens.verify(token))).code).to.equal('TOKEN_INVALID')
    const strict = createAccessTokens({ keys: hs256Keys(secret), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock, clockToleranceSeconds: 0 })
    clock.set(START + 900_000)
    expect((await rejection(strict.verify(token))).code).to.equal('TOKEN_INVALID')
  })

  it('accepts a token from a clock at most the leeway ahead', async () => {
    const { token } = await tokens.sign({ sub: '42', epoch: 0, kind: 'user' })
    clock.set(START - 30_000)
    await tokens.verify(token)
    clock.set(START - 32_000)
    expect((await rejection(tokens.verify(token))).code).to.equal('TOKEN_INVALID')
  })

  it('refuses a weak secret with AUTH_SECRET_WEAK, and bad options with CONFIG_INVALID', () => {
    const build = (options: Partial<Parameters<typeof createAccessTokens>[0]>) => () =>
      createAccessTokens({ keys: hs256Keys(secret), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock, ...options })
    for (const weak of ['', 'short', 'x'.repeat(31), randomBytes(31)])
      expect(() => hs256Keys(weak))
        .to.throw(GantryError)
        .with.property('code', 'AUTH_SECRET_WEAK')
    expect(build({ keys: hs256Keys('x'.repeat(32)) })).not.to.throw()
    expect(build({ keys: hs256Keys('é'.repeat(16)) })).not.to.throw() // 32 bytes in UTF-8
    for (const bad of [
      { issuer: '' },
      { audience: '' },
      { ttlSeconds: 0 },
      { ttlSeconds: 1.5 },
      { clockToleranceSeconds: 61 },
      { clockToleranceSeconds: -1 },
    ]) {
      expect(build(bad), JSON.stringify(bad)).to.throw(GantryError).with.property('code', 'CONFIG_INVALID')
    }
  })

  it('carries its environment: another environment sharing the secret refuses it; a token from before env claims is accepted', async () => {
    const staging = createAccessTokens({ keys: hs256Keys(secret), issuer: ISSUER, audience: AUDIENCE, environment: 'staging', clock })
    const fromStaging = await staging.sign({ sub: '42', epoch: 0, kind: 'user' })
    expect((await staging.verify(fromStaging.token)).env).to.equal('staging')
    expect((await rejection(tokens.verify(fromStaging.token))).code).to.equal('TOKEN_INVALID')
    const legacy = await new SignJWT({ epoch: 0, kind: 'user' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('42')
      .setJti('legacy')
      .setIssuedAt(nowSeconds())
      .setExpirationTime(nowSeconds() + 900)
      .sign(secret)
    expect(await tokens.verify(legacy))
      .to.include({ sub: '42' })
      .and.not.have.property('env')
  })

  it('lives no longer than the maximum (auth.maxTokenTtl): longer is neither signed nor accepted, even validly signed before', async () => {
    const bounded = createAccessTokens({ keys: hs256Keys(secret), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock, maxTtlSeconds: 3600 })
    expect((await bounded.sign({ sub: '1', epoch: 0, kind: 'user', ttlSeconds: 3600 })).expiresAt).to.equal((nowSeconds() + 3600) * 1000)
    expect((await rejection(bounded.sign({ sub: '1', epoch: 0, kind: 'user', ttlSeconds: 3601 }))).code).to.equal('INVALID_INPUT')
    // A month-long script token minted before the upgrade (no env claim): refused now, though unexpired and validly signed.
    const month = await new SignJWT({ epoch: 0, kind: 'user' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('1')
      .setJti('old')
      .setIssuedAt(nowSeconds())
      .setExpirationTime(nowSeconds() + 30 * 86_400)
      .sign(secret)
    expect((await rejection(bounded.verify(month))).code).to.equal('TOKEN_INVALID')
    expect((await rejection(tokens.verify(month))).code).to.equal('TOKEN_INVALID') // the default maximum: 24 h
    const day = await new SignJWT({ epoch: 0, kind: 'user' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('1')
      .setJti('day')
      .setIssuedAt(nowSeconds())
      .setExpirationTime(nowSeconds() + 86_400)
      .sign(secret)
    expect(await tokens.verify(day)).to.include({ sub: '1' })
    expect(() =>
      createAccessTokens({ keys: hs256Keys(secret), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock, ttlSeconds: 7200, maxTtlSeconds: 3600 }),
    )
      .to.throw(GantryError)
      .with.property('code', 'CONFIG_INVALID')
  })

  it('refuses to sign an incomplete payload', async () => {
    for (const input of [
      { sub: '', epoch: 0, kind: 'user' },
      { sub: '1', epoch: -1, kind: 'user' },
      { sub: '1', epoch: 0, kind: 'robot' },
      { sub: '1', epoch: 0, kind: 'user', ttlSeconds: 0 },
    ]) {
      expect((await rejection(tokens.sign(input as never))).code).to.equal('INVALID_INPUT')
    }
  })

  describe('a forged-token corpus', () => {
    const header = { alg: 'HS256', typ: 'at+jwt' }
    /** Each forgery, made against `tokens` (secret `secret`) unless it says otherwise. */
    const corpus = hs256Forgeries({
      good: async () => (await tokens.sign({ sub: '42', epoch: 0, kind: 'user' })).token,
      claims: goodClaims,
      now: nowSeconds,
      secret,
    })
    /** The HS/RS confusion's verifier uses the attacker's RSA public key (PEM) as its HMAC secret. */
    const publicPem = corpus.find((forgery) => forgery.secret)!.secret!

    it(`holds at least 15 variants (${corpus.length})`, () => {
      expect(corpus.length).to.be.at.least(15)
    })

    for (const forgery of corpus) {
      it(`refuses ${forgery.name} with TOKEN_INVALID and one message`, async () => {
        const verifier = forgery.secret
          ? createAccessTokens({ keys: hs256Keys(forgery.secret), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock })
          : tokens
        const token = await forgery.make()
        const err = await rejection(verifier.verify(token))
        expect(err.code).to.equal('TOKEN_INVALID')
        expect(err.status).to.equal(401)
        expect(err.message).to.equal('The access token is invalid or expired.')
        expect(err.details).to.equal(undefined)
      })
    }

    it('controls: the same construction with honest values verifies (the corpus fails for its one defect)', async () => {
      expect(await tokens.verify(await signRaw(header, goodClaims(), secret))).to.include({ sub: '42', kind: 'user' })
      expect(await tokens.verify(await signRaw({ alg: 'HS256', typ: 'application/at+jwt' }, goodClaims(), secret))).to.include({ sub: '42' })
      const pemServer = createAccessTokens({ keys: hs256Keys(publicPem), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock })
      expect(await pemServer.verify((await pemServer.sign({ sub: '7', epoch: 0, kind: 'user' })).token)).to.include({ sub: '7' })
      // An attacker holding only the public key and a valid RS256 signature still gets nothing: see the corpus.
      expect(
        await tokens.verify(
          await new SignJWT({ epoch: 0, kind: 'user' })
            .setProtectedHeader(header)
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setSubject('9')
            .setJti('x')
            .setIssuedAt(nowSeconds())
            .setExpirationTime(nowSeconds() + 60)
            .sign(secret),
        ),
      ).to.include({ sub: '9' })
    })
  })
})
