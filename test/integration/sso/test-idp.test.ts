/**
 * The test identity provider (test/helpers/test-idp.ts), tested itself with openid-client, the relying-party
 * library Gantry uses: discovery, the authorization code flow with PKCE S256, state and nonce, the `iss`
 * of RFC 9207, the device flow, and the account table changed after start. If these pass, a failing SSO
 * test of Gantry points at Gantry, not at its IdP.
 */
import { expect } from 'chai'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  ClientSecretPost,
  discovery,
  initiateDeviceAuthorization,
  None,
  pollDeviceAuthorizationGrant,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  type Configuration,
} from 'openid-client'
import { rejection } from '../../helpers/rejection.js'
import { startTestIdp, type TestIdp } from '../../helpers/test-idp.js'

const WEB = { client_id: 'gantry-web', client_secret: 'a web client secret of the tests', redirect_uris: ['http://127.0.0.1:9/oidc/callback'] }
const DEVICE = { client_id: 'gantry-cli', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none' }
const SCOPE = 'openid email profile groups'

describe('test identity provider (oidc-provider on loopback)', function () {
  let idp: TestIdp
  let web: Configuration

  // One IdP for the block (a test that changes the account table changes only an account of its own).
  before(async () => {
    idp = await startTestIdp({
      accounts: {
        alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', groups: ['ops', 'admins'] },
        bob: { email: 'bob@example.com', email_verified: false },
      },
      clients: [WEB, DEVICE],
    })
    web = await discovery(new URL(idp.issuer), WEB.client_id, undefined, ClientSecretPost(WEB.client_secret), { execute: [allowInsecureRequests] })
  })
  after(async () => {
    await idp?.close()
  })

  /** An authorization request as an RP makes it, and the checks it keeps for the callback. */
  async function authorizationRequest() {
    const pkceCodeVerifier = randomPKCECodeVerifier()
    const expectedState = randomState()
    const expectedNonce = randomNonce()
    const url = buildAuthorizationUrl(web, {
      redirect_uri: WEB.redirect_uris[0]!,
      scope: SCOPE,
      code_challenge: await calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: expectedState,
      nonce: expectedNonce,
    })
    return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true } }
  }

  it('is discovered at its issuer, advertises RFC 9207 iss, S256 only and the device flow', () => {
    const metadata = web.serverMetadata()
    expect(metadata.issuer).to.equal(idp.issuer)
    expect(idp.issuer).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(metadata).to.include({ authorization_response_iss_parameter_supported: true, device_authorization_endpoint: `${idp.issuer}/device/auth` })
    expect(metadata.code_challenge_methods_supported).to.deep.equal(['S256'])
    expect(metadata.scopes_supported).to.include.members(['openid', 'email', 'profile', 'groups'])
    expect(metadata.grant_types_supported).not.to.include('client_credentials')
    expect(metadata.end_session_endpoint).to.equal(undefined)
  })

  it('signs alice in through the authorization code flow with PKCE S256, state and nonce; the ID token carries her claims', async () => {
    const { url, checks } = await authorizationRequest()
    const callbackUrl = await idp.signIn(url.href, 'alice')
    expect(callbackUrl.startsWith(`${WEB.redirect_uris[0]}?`)).to.equal(true)

    const tokens = await authorizationCodeGrant(web, new URL(callbackUrl), checks)
    expect(tokens.access_token).to.be.a('string')
    expect(tokens.claims()).to.include({
      iss: idp.issuer,
      aud: WEB.client_id,
      sub: 'alice',
      nonce: checks.expectedNonce,
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Liddell',
    })
    expect(tokens.claims()?.groups).to.deep.equal(['ops', 'admins'])
    expect(decodeProtectedHeader(tokens.id_token!)).to.include({ alg: 'RS256', kid: idp.jwks.keys[0]!.kid })
  })

  it('puts iss in the authorization response, equal to the issuer, next to code and state', async () => {
    const { url, checks } = await authorizationRequest()
    const callback = new URL(await idp.signIn(url.href, 'alice'))
    expect(callback.searchParams.get('iss')).to.equal(idp.issuer)
    expect(callback.searchParams.get('state')).to.equal(checks.expectedState)
    expect(callback.searchParams.get('code')).to.be.a('string').and.not.equal('')
  })

  it('is refused by openid-client when the state is not the one expected', async () => {
    const { url, checks } = await authorizationRequest()
    const callbackUrl = await idp.signIn(url.href, 'alice')
    const err = await rejection(authorizationCodeGrant(web, new URL(callbackUrl), { ...checks, expectedState: randomState() }))
    expect(err.code).to.equal('OAUTH_INVALID_RESPONSE')
    expect((err.cause as Error).message).to.equal('unexpected "state" response parameter value')
  })

  it('answers error=access_denied (with iss) when the user refuses consent', async () => {
    const { url, checks } = await authorizationRequest()
    const callback = new URL(await idp.signIn(url.href, 'alice', { consent: false }))
    expect(Object.fromEntries(callback.searchParams)).to.include({ error: 'access_denied', state: checks.expectedState, iss: idp.issuer })
  })

  it('reads the account table at each sign-in: a flipped email_verified shows in the next ID token', async () => {
    idp.accounts.bob!.email_verified = true
    const { url, checks } = await authorizationRequest()
    const tokens = await authorizationCodeGrant(web, new URL(await idp.signIn(url.href, 'bob')), checks)
    expect(tokens.claims()).to.include({ sub: 'bob', email: 'bob@example.com', email_verified: true })
    expect(tokens.claims()).not.to.have.property('name')
  })

  it('completes the device flow: the CLI polls while the user approves its code in the browser', async () => {
    const cli = await discovery(new URL(idp.issuer), DEVICE.client_id, undefined, None(), { execute: [allowInsecureRequests] })
    const da = await initiateDeviceAuthorization(cli, { scope: SCOPE })
    expect(da.verification_uri).to.equal(`${idp.issuer}/device`)
    // The poll waits `interval` seconds before each request; the user approves meanwhile.
    const [tokens] = await Promise.all([pollDeviceAuthorizationGrant(cli, { ...da, interval: 1 }), idp.approveDevice(da.user_code, 'alice')])
    expect(tokens.access_token).to.be.a('string')
    expect(tokens.claims()).to.include({ iss: idp.issuer, aud: DEVICE.client_id, sub: 'alice', email: 'alice@example.com' })
  })

  it('refuses to approve an unknown user code', async () => {
    const err = await rejection(idp.approveDevice('BCDF-GHJK', 'alice'))
    expect(err.message).to.match(/not accepted/)
  })

  it('signs an arbitrary ID token with its own key, verifiable with its public JWKS', async () => {
    const forged = await idp.signIdToken({ iss: idp.issuer, aud: WEB.client_id, sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 60 })
    const { payload } = await jwtVerify(forged, createLocalJWKSet(idp.jwks), { issuer: idp.issuer, audience: WEB.client_id })
    expect(payload.sub).to.equal('mallory')
    const served = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; n: string }> }
    expect(served.keys.map((k) => k.kid)).to.deep.equal(idp.jwks.keys.map((k) => k.kid))
  })
})
