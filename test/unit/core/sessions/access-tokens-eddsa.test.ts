import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { manualClock } from '../../../../src/core/clock.js'
import { createAccessTokens, type AccessTokens } from '../../../../src/core/sessions/access-tokens.js'
import { eddsaKeys, hs256Keys, type EdDSAKeySource } from '../../../../src/core/sessions/token-keys.js'
import { ed25519, eddsaForgeries, signRaw, type Forgery, type TestKey } from '../../../helpers/forged-tokens.js'
import { AUDIENCE, goodClaims, ISSUER, nowSeconds, START } from '../../../helpers/token-claims.js'
import { rejection } from '../../../helpers/rejection.js'

/** The key ring reduced to what access tokens see: a current key and the public keys that verify. */
function source(current: TestKey, previous: readonly TestKey[] = []): EdDSAKeySource & { lookups: string[] } {
  const lookups: string[] = []
  const known = new Map([current, ...previous].map((k) => [k.kid, k.publicKey]))
  return {
    lookups,
    current: async () => current,
    publicKey: async (kid) => {
      lookups.push(kid)
      return known.get(kid)
    },
  }
}

describe('core/sessions: access tokens (EdDSA)', () => {
  const clock = manualClock(START)
  let current: TestKey
  let previous: TestKey
  let foreign: TestKey
  let keys: ReturnType<typeof source>
  let tokens: AccessTokens
  const verifier = (ring: EdDSAKeySource) => createAccessTokens({ keys: eddsaKeys(ring), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock })

  before(async () => {
    ;[current, previous, foreign] = await Promise.all([ed25519(), ed25519(), ed25519()])
  })
  beforeEach(() => {
    clock.set(START)
    keys = source(current, [previous])
    tokens = verifier(keys)
  })

  it('signs with the current key, naming it by kid; a previous key still verifies its tokens', async () => {
    const signed = await tokens.sign({ sub: '42', epoch: 1, kind: 'user', permissions: ['users:read'] })
    const [header] = signed.token.split('.')
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).to.deep.equal({ alg: 'EdDSA', typ: 'at+jwt', kid: current.kid })
    expect(await tokens.verify(signed.token)).to.include({ sub: '42', epoch: 1, jti: signed.jti })
    const byPrevious = await verifier(source(previous)).sign({ sub: '7', epoch: 0, kind: 'user' })
    expect(await tokens.verify(byPrevious.token)).to.include({ sub: '7' })
    expect(keys.lookups).to.deep.equal([current.kid, previous.kid])
  })

  it('lets a failure to read the keys through as itself (a database error is not an invalid token)', async () => {
    const down = new Error('connect ECONNREFUSED')
    const broken = verifier({ current: async () => current, publicKey: async () => Promise.reject(down) })
    const token = (await tokens.sign({ sub: '42', epoch: 0, kind: 'user' })).token
    let caught: unknown
    await broken.verify(token).catch((err: unknown) => (caught = err))
    expect(caught).to.equal(down)
  })

  describe('a forged-token corpus', () => {
    const header = () => ({ alg: 'EdDSA', typ: 'at+jwt', kid: current.kid })
    const good = async () => (await tokens.sign({ sub: '42', epoch: 0, kind: 'user' })).token
    const corpus: Forgery[] = [
      ...eddsaForgeries({ good, claims: goodClaims, now: nowSeconds, keys: () => ({ current, previous, foreign }) }),
      {
        name: 'an HS256 token of an environment with a secret (the algorithm is pinned per environment)',
        make: async () =>
          (
            await createAccessTokens({ keys: hs256Keys(randomBytes(32)), issuer: ISSUER, audience: AUDIENCE, environment: 'test', clock }).sign({
              sub: '42',
              epoch: 0,
              kind: 'user',
            })
          ).token,
      },
    ]

    for (const forgery of corpus) {
      it(`refuses ${forgery.name} with TOKEN_INVALID and one message`, async () => {
        const err = await rejection(tokens.verify(await forgery.make()))
        expect({ code: err.code, status: err.status, message: err.message, details: err.details }).to.deep.equal({
          code: 'TOKEN_INVALID',
          status: 401,
          message: 'The access token is invalid or expired.',
          details: undefined,
        })
      })
    }

    it('controls: the same constructions with honest values verify (each forgery fails for its one defect)', async () => {
      expect(await tokens.verify(await signRaw(header(), goodClaims(), current.privateKey))).to.include({ sub: '42' })
      expect(await tokens.verify(await signRaw({ ...header(), kid: previous.kid }, goodClaims(), previous.privateKey))).to.include({ sub: '42' })
      const foreignRing = verifier(source(foreign))
      expect(await foreignRing.verify(await signRaw({ ...header(), kid: foreign.kid }, goodClaims(), foreign.privateKey))).to.include({ sub: '42' })
    })

    it('asks the key source only for kids it could know (no lookup for alg none, HS256 or a missing kid)', async () => {
      keys.lookups.length = 0
      for (const name of [
        'alg none, no signature',
        'HS256 with the raw public key bytes as the HMAC secret (HS/EdDSA confusion)',
        'the right key, no kid',
        'the right key, a 1000-character kid',
      ]) {
        await rejection(tokens.verify(await corpus.find((f) => f.name === name)!.make()))
      }
      expect(keys.lookups).to.deep.equal([])
    })
  })
})
