/**
 * The admin console as HTTP sees it (the browser's view is test/e2e/console.test.ts): the page with its
 * strict policy and the API's other security headers, hashed assets kept for good and sent compressed, open
 * during maintenance and outside the default rate rule, off with `server.console: false`; and its session —
 * the refresh token only in an HttpOnly, SameSite=Strict cookie scoped to the session routes, which answer
 * only the console's own header and origin, send no CORS headers, and refuse to sign in over plain HTTP to
 * anything but loopback.
 */
import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { expect } from 'chai'
import request from 'supertest'
import { CONSOLE_ROUTES } from '../../../console/src/routes.js'
import { consoleDirectory } from '../../../src/server/console.js'
import { CONSOLE_COOKIE, CONSOLE_HEADER, CONSOLE_SESSION_PATH } from '../../../src/server/routes/console-session.routes.js'
import { local } from '../../helpers/admin-fixture.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

const LOGIN = `${CONSOLE_SESSION_PATH}/login`
const REFRESH = `${CONSOLE_SESSION_PATH}/refresh`
const LOGOUT = `${CONSOLE_SESSION_PATH}/logout`

describe('the admin console over HTTP', function () {
  let s: TestServer
  let server: Server
  let origin: string

  before(async function () {
    // dist/console is written by `npm run build`, which `npm test` runs first.
    if (!existsSync(join(consoleDirectory(), 'index.html'))) throw new Error('dist/console is missing: run `npm run build` first')
    s = await createTestServer('sqlite', {
      environment: { server: { corsOrigins: ['https://elsewhere.example'] } },
    })
    server = s.app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    if (server) await new Promise((resolve) => server.close(resolve))
    await s?.cleanup()
  })

  const page = (path: string) => request(server).get(path)
  const session = (path: string, headers: Record<string, string> = {}) =>
    request(server)
      .post(path)
      .set({ [CONSOLE_HEADER]: '1', Origin: origin, ...headers })

  describe('the page', () => {
    it('is served at /console/ with a strict policy, the security headers of the API and no caching of the page itself', async () => {
      await page('/console').expect(308).expect('Location', '/console/')
      const res = await page('/console/')
        .expect(200)
        .expect('Content-Type', /^text\/html/)
      const csp = String(res.headers['content-security-policy'])
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ]) {
        expect(csp).to.include(directive)
      }
      expect(csp).not.to.match(/unsafe-inline|unsafe-eval|https:|\*/)
      expect(res.headers['x-content-type-options']).to.equal('nosniff')
      expect(res.headers['strict-transport-security']).to.match(/max-age=/)
      expect(res.headers['cache-control']).to.equal('no-cache')
      expect(res.text).to.match(/<script type="module" src="assets\/main-[A-Z0-9]+\.js"><\/script>/)
      expect(res.text).not.to.match(/<script>|<style>| style=/)
    })

    it('sends every asset the page links under its content hash, kept for good, brotli or gzip as the client takes them', async () => {
      const html = await page('/console/').expect(200)
      const assets = [...html.text.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => `/console/${m[1]}`)
      expect(assets).to.have.length(3)
      for (const asset of assets) {
        const plain = await page(asset).set('Accept-Encoding', 'identity').expect(200)
        expect(plain.headers['cache-control']).to.equal('public, max-age=31536000, immutable')
        expect(plain.headers['content-encoding']).to.equal(undefined)
        const br = await page(asset)
          .set('Accept-Encoding', 'gzip, br')
          .buffer(true)
          .parse((res, done) => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () => done(null, Buffer.concat(chunks)))
          })
          .expect(200)
        expect(br.headers['content-encoding']).to.equal('br')
        expect(br.headers.vary).to.match(/Accept-Encoding/)
        // superagent decodes brotli as a browser does: what arrives is the asset itself.
        expect((br.body as Buffer).toString()).to.equal(plain.text || String(plain.body))
      }
      await page('/console/assets/nothing-here.js').expect(404)
    })

    it('stays open during maintenance and outside the default rate rule: the operator who must end maintenance can reach it', async () => {
      const tight = await createTestServer('sqlite', { environment: { rateLimits: { default: { limit: 1, window: '1h', burst: 1 } } } })
      try {
        await tight.services.maintenance.on(local, { message: 'Upgrading', retryAfter: 60 })
        for (let i = 0; i < 3; i++) await request(tight.app).get('/console/').expect(200)
        // Behind the same address the API answers maintenance's 503 once, then the default rule's 429.
        await request(tight.app).get('/api/v1/things').expect(503)
        await request(tight.app).get('/api/v1/things').expect(429)
        await request(tight.app).get('/console/').expect(200)
      } finally {
        await tight.cleanup()
      }
    })

    it('is not served with server.console false, and neither are its session routes', async () => {
      const off = await createTestServer('sqlite', { environment: { server: { console: false } } })
      try {
        await request(off.app).get('/console/').expect(404)
        await request(off.app).post(LOGIN).set(CONSOLE_HEADER, '1').send({ email: USERS.admin, password: PASSWORD }).expect(404)
      } finally {
        await off.cleanup()
      }
    })
  })

  it('documents every route the page calls beyond the operation table (whose routes it takes from the table itself)', async () => {
    const doc = (await request(server).get('/api/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> }
    for (const [name, { method, path }] of Object.entries(CONSOLE_ROUTES)) {
      expect(doc.paths[path]?.[method.toLowerCase()], `${name}: ${method} ${path}`).to.not.equal(undefined)
    }
  })

  describe('the session', () => {
    it('signs in with the access token in the answer and the refresh token only in an HttpOnly, SameSite=Strict cookie scoped to the session routes', async () => {
      const res = await session(LOGIN).send({ email: USERS.admin, password: PASSWORD }).expect(200)
      expect(Object.keys(res.body as object).sort()).to.deep.equal(['accessToken', 'expiresAt', 'me'])
      expect(res.body.me.user.email).to.equal(USERS.admin)
      expect(res.headers['cache-control']).to.equal('no-store')
      const cookie = String(res.headers['set-cookie'])
      expect(cookie).to.match(
        new RegExp(`^${CONSOLE_COOKIE}=[^;]+; Max-Age=\\d+; Path=${CONSOLE_SESSION_PATH.replace(/\//g, '\\/')}; HttpOnly; SameSite=Strict$`),
      )
      // Loopback over plain HTTP: the one case the cookie goes without Secure (a browser would drop it).
      expect(cookie).not.to.include('Secure')
      await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.accessToken}`).expect(200)
    })

    it('rotates the cookie on refresh, refuses the spent one, and ends the session and drops the cookie on logout', async () => {
      const login = await session(LOGIN).send({ email: USERS.admin, password: PASSWORD }).expect(200)
      const first = String(login.headers['set-cookie']).split(';')[0]!
      const refreshed = await session(REFRESH, { Cookie: first }).expect(200)
      const second = String(refreshed.headers['set-cookie']).split(';')[0]!
      expect(second).not.to.equal(first)
      // Within the grace (a second tab's refresh racing the first), the spent cookie is refused and nothing
      // else happens: the rotated one goes on working.
      const raced = await session(REFRESH, { Cookie: first }).expect(401)
      expect(raced.headers['set-cookie']).to.equal(undefined)
      const third = String((await session(REFRESH, { Cookie: second }).expect(200)).headers['set-cookie']).split(';')[0]!
      // Past the grace a concurrent refresh from a second tab gets, a reuse is a theft.
      s.clock.advance(11_000)
      const reused = await session(REFRESH, { Cookie: first }).expect(401)
      expect(reused.body.code).to.equal('TOKEN_INVALID')
      // Left alone: in a browser it may be another tab's race, whose cookie jar already holds the new one.
      expect(reused.headers['set-cookie']).to.equal(undefined)
      // Reuse of a spent token ends its whole family: the latest cookie is refused too.
      await session(REFRESH, { Cookie: third }).expect(401)

      const again = await session(LOGIN).send({ email: USERS.admin, password: PASSWORD }).expect(200)
      const cookie = String(again.headers['set-cookie']).split(';')[0]!
      const out = await session(LOGOUT, { Cookie: cookie }).expect(204)
      expect(String(out.headers['set-cookie'])).to.match(new RegExp(`^${CONSOLE_COOKIE}=; Max-Age=0`))
      await session(REFRESH, { Cookie: cookie }).expect(401)
      // No cookie at all: nobody is signed in on this browser, which the page asks on every load.
      expect((await session(REFRESH).expect(200)).body).to.equal(null)
    })

    it("answers only the console's own header and origin, and never with CORS headers, whatever the allowlist says", async () => {
      const cases: [what: string, headers: Record<string, string>][] = [
        ['no console header', { [CONSOLE_HEADER]: '' }],
        ['another value of the header', { [CONSOLE_HEADER]: 'yes' }],
        ['no Origin', { Origin: '' }],
        ['an allowed CORS origin', { Origin: 'https://elsewhere.example' }],
        ['the same host on another scheme', { Origin: origin.replace('http:', 'https:') }],
        ['the same host on another port', { Origin: 'http://127.0.0.1:1' }],
        ['a lookalike', { Origin: `${origin}.evil.example` }],
      ]
      for (const [path, body] of [
        [LOGIN, { email: USERS.admin, password: PASSWORD }],
        [REFRESH, undefined],
        [LOGOUT, undefined],
      ] as const) {
        for (const [what, headers] of cases) {
          const req = request(server).post(path)
          for (const [name, value] of Object.entries({ [CONSOLE_HEADER]: '1', Origin: origin, ...headers })) if (value) req.set(name, value)
          const res = await (body ? req.send(body) : req)
          expect(res.status, `${path} with ${what}`).to.equal(403)
          expect(res.body.code, `${path} with ${what}`).to.equal('CONSOLE_ORIGIN_REFUSED')
          expect(res.headers['set-cookie'], `${path} with ${what}`).to.equal(undefined)
          expect(res.headers['access-control-allow-origin'], `${path} with ${what}`).to.equal(undefined)
        }
      }
      const preflight = await request(server).options(LOGIN).set('Origin', 'https://elsewhere.example').set('Access-Control-Request-Method', 'POST')
      expect(preflight.headers['access-control-allow-origin']).to.equal(undefined)
      // The rest of the API keeps its allowlist.
      const api = await request(server).get('/api/health/ready').set('Origin', 'https://elsewhere.example')
      expect(api.status).to.be.oneOf([200, 503])
    })

    it('refuses to sign in over plain HTTP to anything but loopback, and marks the cookie Secure over HTTPS', async () => {
      const insecure = await request(server)
        .post(LOGIN)
        .set({ Host: 'admin.example.com', Origin: 'http://admin.example.com', [CONSOLE_HEADER]: '1' })
        .send({ email: USERS.admin, password: PASSWORD })
        .expect(403)
      expect(insecure.body.code).to.equal('CONSOLE_INSECURE')
      expect(insecure.headers['set-cookie']).to.equal(undefined)
      for (const host of ['localhost', 'console.localhost', '[::1]', '127.0.0.2']) {
        const res = await request(server)
          .post(LOGIN)
          .set({ Host: `${host}:8080`, Origin: `http://${host}:8080`, [CONSOLE_HEADER]: '1' })
          .send({ email: USERS.admin, password: PASSWORD })
        expect(res.status, host).to.equal(200)
      }

      const proxied = await createTestServer('sqlite', { environment: { server: { trustProxy: true } } })
      try {
        const res = await request(proxied.app)
          .post(LOGIN)
          .set({ Host: 'admin.example.com', 'X-Forwarded-Proto': 'https', Origin: 'https://admin.example.com', [CONSOLE_HEADER]: '1' })
          .send({ email: USERS.admin, password: PASSWORD })
          .expect(200)
        expect(String(res.headers['set-cookie'])).to.match(/; Secure$|; Secure;/)
      } finally {
        await proxied.cleanup()
      }
    })

    it("refuses a loopback name over plain HTTP on a connection from another machine: the Host header is only the client's word", async () => {
      const address = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address
      if (!address) throw new Error('this test needs a non-loopback IPv4 address on the machine (none found)')
      const outside = s.app.listen(0, address)
      await new Promise((resolve) => outside.once('listening', resolve))
      try {
        const port = (outside.address() as AddressInfo).port
        const res = await request(`http://${address}:${port}`)
          .post(LOGIN)
          .set({ Host: `localhost:${port}`, Origin: `http://localhost:${port}`, [CONSOLE_HEADER]: '1' })
          .send({ email: USERS.admin, password: PASSWORD })
          .expect(403)
        expect(res.body.code).to.equal('CONSOLE_INSECURE')
      } finally {
        await new Promise((resolve) => outside.close(resolve))
      }
    })

    it('keeps the login throttle and the wrong-password answer of the API login', async () => {
      const res = await session(LOGIN).send({ email: USERS.admin, password: 'not the password at all' }).expect(401)
      expect(res.body.code).to.equal('INVALID_CREDENTIALS')
      expect(res.headers['set-cookie']).to.equal(undefined)
    })
  })
})
