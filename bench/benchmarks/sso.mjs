/**
 * Single sign-on's callback with the identity provider on loopback: the time from the browser's request of
 * GET /api/v1/auth/sso/<id>/callback to Gantry's answer (the console's session in a cookie), against the
 * protocol's floor measured the same way: openid-client's authorizationCodeGrant alone against the same
 * provider, with the same checks (PKCE, state, nonce, iss, the ID token's signature from the JWKS).
 *
 * Both run in this process over the test suite's own pieces, loaded through tsx: the provider is
 * oidc-provider (test/helpers/test-idp.ts), Gantry's server the one the HTTP tests run (test/helpers/server.ts,
 * SQLite) listening on loopback. Each sample starts a sign-in and walks the provider's login and consent
 * untimed; only the callback (or the bare exchange) is timed. What Gantry adds over the floor is its own
 * work: the pending sign-in taken once, the browser's binding, the identity's link, the session (refresh
 * family and audit entry in one transaction, an access token signed) and the cookies.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import { tsImport } from 'tsx/esm/api'

const SECRET = 'the client secret of the sso benchmark'
// Node 20's fetch, as a browser would make the requests (redirects left to the caller).
const { fetch } = globalThis

export default {
  name: 'sso-callback',
  description:
    "GET /api/v1/auth/sso/<id>/callback of Gantry's server (SQLite; the provider, oidc-provider, on loopback) vs openid-client's authorizationCodeGrant alone against the same provider with the same checks: the protocol's floor (a report: no target).",
  unit: 'ms',
  // Each pair is two sign-ins at the provider (its pages walked untimed); the built-in sso-ip rule allows 60 at once, a start and a callback each.
  pairs: { full: 25, quick: 10 },
  fullRunOnly: 'it starts an identity provider and an in-process server and walks two sign-ins per pair (about 10 s); the quick run has no room left',
  async setup() {
    const here = import.meta.url
    const [{ startTestIdp }, { createTestServer, USERS }, client] = await Promise.all([
      tsImport('../../test/helpers/test-idp.ts', here),
      tsImport('../../test/helpers/server.ts', here),
      import('openid-client'),
    ])
    // The port first: the provider registers the callback, and the server's config names it.
    const http = createServer()
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    const base = `http://127.0.0.1:${http.address().port}`
    const callback = `${base}/api/v1/auth/sso/corp/callback`
    // The reference's redirect URI: registered, never requested (the bare exchange reads the code from it).
    const referenceCallback = `${base}/reference/callback`
    const idp = await startTestIdp({
      accounts: { op: { email: USERS.operator, email_verified: true } },
      clients: [{ client_id: 'gantry', client_secret: SECRET, redirect_uris: [callback, referenceCallback] }],
    })
    const provider = {
      id: 'corp',
      name: 'Corp',
      issuer: idp.issuer,
      clientId: 'gantry',
      clientSecret: SECRET,
      redirectUri: callback,
      allowedDomains: [USERS.operator.slice(USERS.operator.indexOf('@') + 1)],
    }
    const server = await createTestServer('sqlite', { environment: { auth: { sso: { providers: [provider] } } } })
    http.on('request', server.app)
    const config = await client.discovery(new URL(idp.issuer), 'gantry', undefined, client.ClientSecretPost(SECRET), {
      execute: [client.enableNonRepudiationChecks, client.allowInsecureRequests],
    })

    const subject = {
      label: 'Gantry: GET /api/v1/auth/sso/corp/callback',
      async run() {
        const started = await fetch(`${base}/api/v1/auth/sso/corp/start`, { redirect: 'manual' })
        if (started.status !== 302) throw new Error(`the start answered ${started.status}: ${await started.text()}`)
        const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0]
        const back = await idp.signIn(started.headers.get('location'), 'op')
        const t0 = performance.now()
        const res = await fetch(back, { redirect: 'manual', headers: { cookie } })
        const ms = performance.now() - t0
        if (res.status !== 302 || res.headers.get('location') !== '/console/')
          throw new Error(`the callback answered ${res.status} to ${res.headers.get('location')}`)
        return ms
      },
    }
    const reference = {
      label: "openid-client: authorizationCodeGrant (the provider's exchange and the ID token's checks)",
      async run() {
        const verifier = client.randomPKCECodeVerifier()
        const state = client.randomState()
        const nonce = client.randomNonce()
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: referenceCallback,
          scope: 'openid email profile',
          state,
          nonce,
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        })
        const back = new URL(await idp.signIn(url.href, 'op'))
        const t0 = performance.now()
        const tokens = await client.authorizationCodeGrant(config, back, {
          pkceCodeVerifier: verifier,
          expectedState: state,
          expectedNonce: nonce,
          idTokenExpected: true,
        })
        const ms = performance.now() - t0
        if (tokens.claims()?.sub !== 'op') throw new Error('the bare exchange brought no ID token for op')
        return ms
      },
    }
    return {
      subject,
      reference,
      async cleanup() {
        http.closeAllConnections()
        await new Promise((resolve) => http.close(resolve))
        await server.cleanup()
        await idp.close()
      },
    }
  },
}
