import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, jwtVerify, type JWTPayload } from 'jose'
import { localContext } from '../../../src/core/context.js'
import { KEY_RELOAD_INTERVAL_MS } from '../../../src/core/sessions/signing-key-ring.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

const ISSUER = 'https://gantry.example.test'
const AUDIENCE = 'orders-api'

/** The code of a jose (or Gantry) error a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return (err as { code?: string }).code
  }
  throw new Error('expected a refusal')
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

// Another service verifies Gantry's EdDSA access tokens knowing nothing but the JWKS URL of a real,
// listening server — before and after a key rotation — and refuses tokens whose kid or key is not Gantry's.
describe('server: a verifier that knows only the JWKS URL (EdDSA)', function () {
  const admin = localContext('local:test@host')
  let server: TestServer
  let http: Server
  let base: string

  before(async () => {
    server = await createTestServer('sqlite', { environment: { auth: { algorithm: 'EdDSA', issuer: ISSUER, audience: AUDIENCE } } })
    http = server.app.listen(0, '127.0.0.1')
    await once(http, 'listening')
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  })
  after(async () => {
    if (http) {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    }
    await server?.cleanup()
  })

  /** A remote key set as a verifier builds it: the URL only; it refetches at once on an unknown kid. */
  const remoteJwks = () => createRemoteJWKSet(new URL('/.well-known/jwks.json', base), { cooldownDuration: 0 })
  const verify = (jwks: ReturnType<typeof remoteJwks>, token: string, currentDate?: Date) =>
    jwtVerify(token, jwks, {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'exp', 'jti'],
      ...(currentDate ? { currentDate } : {}),
    })
  /** An access token from Gantry's own login route. */
  const login = async (who: keyof typeof USERS): Promise<string> => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: USERS[who], password: PASSWORD }),
    })
    expect(res.status).to.equal(200)
    return ((await res.json()) as { accessToken: string }).accessToken
  }
  const publishedKids = async (): Promise<string[]> => {
    const res = await fetch(`${base}/.well-known/jwks.json`)
    expect(res.status).to.equal(200)
    return ((await res.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)
  }
  /** Whether Gantry itself (its own bearer check) accepts the token. */
  const gantryAccepts = async (token: string): Promise<number> =>
    (await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status

  it('verifies an access token from login: signature through the JWKS, issuer, audience, subject', async () => {
    const token = await login('operator')
    const { payload, protectedHeader } = await verify(remoteJwks(), token)
    expect(protectedHeader).to.include({ alg: 'EdDSA', typ: 'at+jwt' })
    expect(await publishedKids()).to.deep.equal([protectedHeader.kid])
    expect(payload).to.include({ iss: ISSUER, aud: AUDIENCE, kind: 'user' })
    expect(payload.sub).to.be.a('string')
    expect(payload.permissions).to.include('sessions:write')
    expect(await refusal(jwtVerify(token, remoteJwks(), { algorithms: ['EdDSA'], issuer: ISSUER, audience: 'another-api' }))).to.equal(
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    )
    expect(await refusal(jwtVerify(token, remoteJwks(), { algorithms: ['EdDSA'], issuer: 'gantry', audience: AUDIENCE }))).to.equal(
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    )
  })

  it("refuses a token with a forged kid, and one signed by a foreign Ed25519 key (with its own kid or with Gantry's)", async () => {
    const token = await login('viewer')
    const [, payload, signature] = token.split('.')
    const { kid } = decodeProtectedHeader(token)
    const claims = decodeJwt(token) as JWTPayload
    const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const signForeign = (headerKid: string) => new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: headerKid }).sign(foreign.privateKey)

    const forgedKid = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: 'not-a-gantry-kid' })}.${payload}.${signature}`
    const foreignOwnKid = await signForeign('foreign-1')
    const foreignGantryKid = await signForeign(String(kid))
    const jwks = remoteJwks()
    expect(await refusal(verify(jwks, forgedKid))).to.equal('ERR_JWKS_NO_MATCHING_KEY')
    expect(await refusal(verify(jwks, foreignOwnKid))).to.equal('ERR_JWKS_NO_MATCHING_KEY')
    expect(await refusal(verify(jwks, foreignGantryKid))).to.equal('ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
    for (const forged of [forgedKid, foreignOwnKid, foreignGantryKid]) {
      expect(await refusal(server.services.sessions.verifyAccess(forged))).to.equal('TOKEN_INVALID')
      expect(await gantryAccepts(forged)).to.equal(401)
    }
    expect(await gantryAccepts(token)).to.equal(200)
    expect((await verify(jwks, token)).payload.sub).to.equal(claims.sub) // the genuine one still passes
  })

  it("after a rotation the previous key's token verifies until it expires, the new kid verifies too; the old key leaves the JWKS after its retention", async () => {
    const jwks = remoteJwks()
    const old = await login('admin')
    const oldKid = decodeProtectedHeader(old).kid
    await verify(jwks, old) // the verifier has the key set cached now

    server.clock.advance(60_000)
    const rotated = await server.services.signingKeys.rotate(admin)
    expect(rotated.previous?.kid).to.equal(oldKid)
    const fresh = await server.token('operator')
    const freshKid = decodeProtectedHeader(fresh).kid
    expect(freshKid).to.equal(rotated.current.kid).and.not.equal(oldKid)
    expect(await publishedKids()).to.deep.equal([freshKid, oldKid])

    // An unknown kid makes the remote set refetch: the new key verifies without a restart of the verifier.
    expect((await verify(jwks, fresh)).protectedHeader.kid).to.equal(freshKid)
    expect((await verify(jwks, old)).protectedHeader.kid).to.equal(oldKid)
    expect(await gantryAccepts(old)).to.equal(200)

    const exp = decodeJwt(old).exp as number
    expect((await verify(jwks, old, new Date((exp - 1) * 1000))).payload.sub).to.be.a('string')
    expect(await refusal(verify(jwks, old, new Date((exp + 1) * 1000)))).to.equal('ERR_JWT_EXPIRED')

    // Once no token it signed can be alive, the retired key drops out of the JWKS.
    server.clock.set(Date.parse(rotated.previous?.verifiesUntil ?? '') + KEY_RELOAD_INTERVAL_MS + 1)
    expect(await publishedKids()).to.deep.equal([freshKid])
    expect(await refusal(verify(remoteJwks(), old, new Date((exp - 1) * 1000)))).to.equal('ERR_JWKS_NO_MATCHING_KEY')
  })
})
