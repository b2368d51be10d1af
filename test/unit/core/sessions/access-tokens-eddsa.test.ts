import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { calculateJwkThumbprint, EncryptJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose'
import { manualClock } from '../../../../src/core/clock.js'
import { createAccessTokens, type AccessTokens } from '../../../../src/core/sessions/access-tokens.js'
import { eddsaKeys, hs256Keys, type EdDSAKeySource } from '../../../../src/core/sessions/token-keys.js'
import { AUDIENCE, b64, goodClaims, ISSUER, nowSeconds, rejection, signRaw, START } from './forgery.js'

interface TestKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

async function ed25519(): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const publicJwk = await exportJWK(publicKey)
  return { kid: await calculateJwkThumbprint(publicJwk), privateKey, publicKey, publicJwk }
}

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
  const verifier = (ring: EdDSAKeySource) => createAccessTokens({ keys: eddsaKeys(ring), issuer: ISSUER, audience: AUDIENCE, clock })

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
    const rawPublicKey = () => Buffer.from(String(current.publicJwk.x), 'base64url')

    const corpus: Array<{ name: string; make: () => Promise<string> }> = [
      { name: 'alg none, no signature', make: async () => `${b64({ alg: 'none', typ: 'at+jwt', kid: current.kid })}.${b64(goodClaims())}.` },
      { name: 'alg none, signature kept', make: async () => { const [, p, sig] = (await good()).split('.'); return `${b64({ alg: 'none', typ: 'at+jwt', kid: current.kid })}.${p}.${sig}` } },
      { name: 'HS256 with the raw public key bytes as the HMAC secret (HS/EdDSA confusion)', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt', kid: current.kid }, goodClaims(), rawPublicKey()) },
      { name: 'HS256 with the public JWK text as the HMAC secret', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt', kid: current.kid }, goodClaims(), Buffer.from(JSON.stringify(current.publicJwk))) },
      { name: 'HS256 with the public key PEM as the HMAC secret', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt', kid: current.kid }, goodClaims(), Buffer.from(await exportSPKI(current.publicKey))) },
      { name: 'HS256 with the public key bytes, no kid', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt' }, goodClaims(), rawPublicKey()) },
      { name: 'alg Ed25519 (the fully specified name) with the right key: the pin is EdDSA exactly', make: async () => signRaw({ ...header(), alg: 'Ed25519' }, goodClaims(), current.privateKey) },
      { name: 'a foreign Ed25519 key presenting a known kid', make: async () => signRaw(header(), goodClaims(), foreign.privateKey) },
      { name: 'a foreign Ed25519 key presenting the previous kid', make: async () => signRaw({ ...header(), kid: previous.kid }, goodClaims(), foreign.privateKey) },
      { name: 'a foreign Ed25519 key embedded as jwk, known kid', make: async () => signRaw({ ...header(), jwk: foreign.publicJwk }, goodClaims(), foreign.privateKey) },
      { name: 'a foreign key with its own (unknown) kid', make: async () => signRaw({ ...header(), kid: foreign.kid }, goodClaims(), foreign.privateKey) },
      { name: 'the right key, unknown kid', make: async () => signRaw({ ...header(), kid: 'no-such-kid' }, goodClaims(), current.privateKey) },
      { name: 'the right key, no kid', make: async () => signRaw({ alg: 'EdDSA', typ: 'at+jwt' }, goodClaims(), current.privateKey) },
      { name: 'the right key, kid not a string', make: async () => signRaw({ ...header(), kid: 42 }, goodClaims(), current.privateKey) },
      { name: 'the right key, a 1000-character kid', make: async () => signRaw({ ...header(), kid: 'k'.repeat(1000) }, goodClaims(), current.privateKey) },
      { name: 'the right key, jku pointing elsewhere', make: async () => signRaw({ ...header(), kid: 'remote', jku: 'https://evil.test/jwks.json' }, goodClaims(), current.privateKey) },
      { name: 'another HS256 secret', make: async () => signRaw({ alg: 'HS256', typ: 'at+jwt' }, goodClaims(), randomBytes(32)) },
      { name: 'ES256 with a known kid', make: async () => signRaw({ ...header(), alg: 'ES256' }, goodClaims(), (await generateKeyPair('ES256')).privateKey) },
      { name: 'tampered payload (sub changed, signature kept)', make: async () => { const [h, , sig] = (await good()).split('.'); return `${h}.${b64(goodClaims({ sub: '1', permissions: ['*'] }))}.${sig}` } },
      { name: 'tampered header (kid swapped for the previous key)', make: async () => (await good()).replace(/^[^.]+/, b64({ ...header(), kid: previous.kid })) },
      { name: 'tampered signature (one character)', make: async () => { const t = await good(); const i = t.length - 5; return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1) } },
      { name: 'signature stripped', make: async () => (await good()).replace(/[^.]+$/, '') },
      { name: 'wrong issuer', make: async () => signRaw(header(), goodClaims({ iss: 'https://evil.test' }), current.privateKey) },
      { name: 'wrong audience', make: async () => signRaw(header(), goodClaims({ aud: 'another-service' }), current.privateKey) },
      { name: 'typ JWT', make: async () => signRaw({ ...header(), typ: 'JWT' }, goodClaims(), current.privateKey) },
      { name: 'no typ', make: async () => signRaw({ alg: 'EdDSA', kid: current.kid }, goodClaims(), current.privateKey) },
      { name: 'expired (past the leeway)', make: async () => signRaw(header(), goodClaims({ iat: nowSeconds() - 1000, exp: nowSeconds() - 31 }), current.privateKey) },
      { name: 'issued in the future', make: async () => signRaw(header(), goodClaims({ iat: nowSeconds() + 120, exp: nowSeconds() + 1020 }), current.privateKey) },
      { name: 'a JWE (dir, A256GCM) under the raw public key bytes', make: async () => new EncryptJWT(goodClaims()).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'at+jwt', kid: current.kid }).encrypt(rawPublicKey()) },
      { name: 'an HS256 token of an environment with a secret (the algorithm is pinned per environment)', make: async () => (await createAccessTokens({ keys: hs256Keys(randomBytes(32)), issuer: ISSUER, audience: AUDIENCE, clock }).sign({ sub: '42', epoch: 0, kind: 'user' })).token },
    ]

    for (const forgery of corpus) {
      it(`refuses ${forgery.name} with TOKEN_INVALID and one message`, async () => {
        const err = await rejection(tokens.verify(await forgery.make()))
        expect({ code: err.code, status: err.status, message: err.message, details: err.details }).to.deep.equal({ code: 'TOKEN_INVALID', status: 401, message: 'The access token is invalid or expired.', details: undefined })
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
      for (const name of ['alg none, no signature', 'HS256 with the raw public key bytes as the HMAC secret (HS/EdDSA confusion)', 'the right key, no kid', 'the right key, a 1000-character kid']) {
        await rejection(tokens.verify(await corpus.find((f) => f.name === name)!.make()))
      }
      expect(keys.lookups).to.deep.equal([])
    })
  })
})
