/**
 * Single sign-on through the admin console in a real browser (Debian's Chromium): the sign-in page offers
 * the environment's identity provider, the provider (oidc-provider on loopback) asks for the account and the
 * consent on its own pages, and the browser comes back to the console signed in as the user the identity is
 * linked to — with the console's policy refusing nothing on the way. A refused sign-in comes back to the
 * sign-in page, which says so.
 */
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import type { Browser } from 'playwright-core'
import { closeBrowser, launchBrowser, openPage, requireBrowser } from '../helpers/browser.js'
import { createTestServer, USERS, type TestServer } from '../helpers/server.js'
import { startTestIdp, type TestIdp } from '../helpers/test-idp.js'

describe('the admin console: single sign-on in a browser', function () {
  this.timeout(90_000)
  let browser: Browser | undefined
  let http: Server
  let base: string
  let idp: TestIdp
  let server: TestServer

  before(async function () {
    const executable = requireBrowser(this)
    http = createServer()
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const callback = `${base}/api/v1/auth/sso/corp/callback`
    const client = { client_id: 'gantry', client_secret: 'the client secret of the console sign-in test', redirect_uris: [callback] }
    idp = await startTestIdp({
      accounts: { op: { email: USERS.operator, email_verified: true }, stranger: { email: 'stranger@elsewhere.example', email_verified: true } },
      clients: [client],
    })
    const domain = USERS.operator.slice(USERS.operator.indexOf('@') + 1)
    const provider = {
      id: 'corp',
      name: 'Corp',
      issuer: idp.issuer,
      clientId: client.client_id,
      clientSecret: client.client_secret,
      redirectUri: callback,
      allowedDomains: [domain],
    }
    server = await createTestServer('sqlite', { environment: { auth: { sso: { providers: [provider] } } } })
    http.on('request', server.app)
    browser = await launchBrowser(executable)
  })
  after(async () => {
    await closeBrowser(browser)
    http?.closeAllConnections()
    await new Promise((resolve) => http?.close(resolve))
    await server?.cleanup()
    await idp?.close()
  })

  /** From the console's sign-in page through the provider's own login and consent pages, as `account`. */
  async function signInWithCorp(account: string) {
    const recorded = await openPage(browser!, { width: 1280, height: 860 })
    const { page } = recorded
    await page.goto(`${base}/console/`)
    await page.getByRole('link', { name: 'Sign in with Corp' }).click()
    await page.getByPlaceholder('Enter any login').fill(account)
    await page.getByPlaceholder('and password').fill('anything')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    await page.getByRole('button', { name: 'Continue' }).click()
    return recorded
  }

  it('signs in with the provider and lands in the console as the linked user', async () => {
    const { page, problems, close } = await signInWithCorp('op')
    try {
      await page.getByRole('navigation', { name: 'Areas' }).waitFor()
      expect(new URL(page.url()).pathname).to.equal('/console/')
      await page.getByText(USERS.operator).first().waitFor()
      // Only the page's own problems count: the provider's pages are not the console's.
      expect(problems.filter((p) => p.includes(base))).to.deep.equal([])
      const logins = await server.services.audit.list({ actor: 'local:test', permissions: ['*'] }, { action: 'sessions.login' })
      expect(logins.data.map((e) => (e.after as { method?: string }).method)).to.include('sso:corp')
    } finally {
      await close()
    }
  })

  it('comes back to the sign-in page with the refusal when the account may not sign in', async () => {
    const { page, close } = await signInWithCorp('stranger')
    try {
      await page.getByRole('alert').filter({ hasText: 'The sign-in with your identity provider was refused.' }).waitFor()
      expect(new URL(page.url()).search).to.equal('?sso=refused')
      await page.getByRole('link', { name: 'Sign in with Corp' }).waitFor()
    } finally {
      await close()
    }
  })
})
