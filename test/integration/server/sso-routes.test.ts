/**
 * Single sign-on's HTTP routes against a real identity provider (oidc-provider on loopback): the providers
 * a sign-in page lists, the redirect with the cookie that binds the sign-in to the browser, and the callback
 * that ends in the console's session — or back at the console with `?sso=refused` when the browser does
 * not hold that cookie.
 */
import { expect } from 'chai'
import request from 'supertest'
import { createTestServer, USERS, type TestServer } from '../../helpers/server.js'
import { startTestIdp, type TestIdp } from '../../helpers/test-idp.js'

const CALLBACK = 'http://127.0.0.1:9/api/v1/auth/sso/corp/callback'
const WEB = { client_id: 'gantry', client_secret: 'the web client secret of the route tests', redirect_uris: [CALLBACK] }

describe('server: single sign-on routes', function () {
  let idp: TestIdp
  let server: TestServer

  before(async () => {
    idp = await startTestIdp({ accounts: { op: { email: USERS.operator, email_verified: true } }, clients: [WEB] })
    const domain = USERS.operator.slice(USERS.operator.indexOf('@') + 1)
    const provider = {
      id: 'corp',
      name: 'Corp',
      issuer: idp.issuer,
      clientId: WEB.client_id,
      clientSecret: WEB.client_secret,
      redirectUri: CALLBACK,
      allowedDomains: [domain],
    }
    server = await createTestServer('sqlite', { environment: { auth: { sso: { providers: [provider] } } } })
  })
  after(async () => {
    await server?.cleanup()
    await idp?.close()
  })

  /** The redirect to the provider: its Location and the binding cookie as the browser keeps it (name=value). */
  async function start() {
    const res = await request(server.app).get('/api/v1/auth/sso/corp/start').expect(302)
    const setCookie = String(res.headers['set-cookie'])
    expect(setCookie).to.match(/^gantry_sso=[^;]+; Max-Age=600; Path=\/api\/v1\/auth\/sso; HttpOnly; SameSite=Lax/)
    expect(res.headers['cache-control']).to.equal('no-store')
    return { location: String(res.headers.location), cookie: setCookie.split(';')[0] as string }
  }
  /** The callback as the browser requests it: the path and query of the provider's redirect. */
  const callbackPath = (url: string): string => {
    const u = new URL(url)
    return `${u.pathname}${u.search}`
  }

  it('lists the providers, redirects to one with PKCE, state and nonce, and signs in to the console at the callback', async () => {
    expect((await request(server.app).get('/api/v1/auth/sso').expect(200)).body).to.deep.equal({
      providers: [{ id: 'corp', name: 'Corp' }],
      passwordLogin: true,
    })
    const { location, cookie } = await start()
    const asked = new URL(location)
    expect(asked.origin).to.equal(idp.issuer)
    for (const param of ['state', 'nonce', 'code_challenge']) expect(asked.searchParams.get(param), param).to.match(/^[\w-]{20,}$/)
    expect(asked.searchParams.get('code_challenge_method')).to.equal('S256')
    expect(asked.searchParams.get('redirect_uri')).to.equal(CALLBACK)

    const back = await request(server.app)
      .get(callbackPath(await idp.signIn(location, 'op')))
      .set('Cookie', cookie)
      .expect(302)
    expect(back.headers.location).to.equal('/console/')
    const cookies = back.headers['set-cookie'] as unknown as string[]
    expect(cookies[0]).to.match(/^gantry_sso=; Max-Age=0/)
    expect(cookies[1]).to.match(/^gantry_console_refresh=grt_[^;]+; Max-Age=\d+; Path=\/api\/v1\/auth\/console; HttpOnly; SameSite=Strict/)

    // The console page, loaded after the redirect, finds its session through that cookie.
    const origin = 'http://127.0.0.1'
    const session = await request(server.app)
      .post('/api/v1/auth/console/refresh')
      .set('Host', '127.0.0.1')
      .set('Origin', origin)
      .set('X-Gantry-Console', '1')
      .set('Cookie', (cookies[1] as string).split(';')[0] as string)
      .expect(200)
    expect(session.body.me.user.email).to.equal(USERS.operator)
  })

  it('sends a callback without the binding cookie, or with an unknown provider, back to the console refused', async () => {
    const { location } = await start()
    const back = await request(server.app)
      .get(callbackPath(await idp.signIn(location, 'op')))
      .expect(302)
    expect(back.headers.location).to.equal('/console/?sso=refused')
    expect(String(back.headers['set-cookie'])).not.to.include('gantry_console_refresh')
    const unknown = await request(server.app).get('/api/v1/auth/sso/nope/start').expect(404)
    expect(unknown.body.code).to.equal('SSO_PROVIDER_UNKNOWN')
  })

  it('throttles the sign-on routes per address with the built-in sso-ip rule (60 at once), before any pending sign-in is written', async () => {
    expect((await server.services.rateLimits.snapshot()).login.map((r) => r.name)).to.include('sso-ip')
    const pending = async (): Promise<number> => {
      const row = (await (await server.runtime.database()).knex('gantry_sso_logins').count({ n: '*' }).first()) as { n: number | string }
      return Number(row.n)
    }
    let admitted = 0
    let refused: request.Response | undefined
    for (let i = 0; i < 70 && !refused; i++) {
      const res = await request(server.app).get('/api/v1/auth/sso/corp/start')
      if (res.status === 302) admitted++
      else refused = res
    }
    if (!refused) throw new Error('70 starts from one address, none refused')
    // The tests above spent a few of the burst (starts, callbacks).
    expect(admitted).to.be.within(50, 60)
    expect(refused.status).to.equal(429)
    expect(refused.headers['content-type']).to.match(/^application\/problem\+json/)
    expect(refused.body.code).to.equal('RATE_LIMITED')
    expect(String(refused.headers['ratelimit-policy'])).to.include('"sso-ip"')
    const before = await pending()
    await request(server.app).get('/api/v1/auth/sso/corp/callback?state=x&code=y').expect(429)
    await request(server.app)
      .post('/api/v1/auth/sso/token')
      .send({ code: 'c'.repeat(32), verifier: 'v'.repeat(43) })
      .expect(429)
    await request(server.app).get('/api/v1/auth/sso/corp/start').expect(429)
    expect(await pending(), 'no pending sign-in written by a refused start').to.equal(before)
  })
})
