/**
 * Single sign-on through the admin console in a real browser (Debian's Chromium): the sign-in page offers
 * the environment's identity provider, the provider (oidc-provider on loopback) asks for the account and the
 * consent on its own pages, and the browser comes back to the console signed in as the user the identity is
 * linked to — with the console's policy refusing nothing on the way. A refused sign-in comes back to the
 * sign-in page, which says so.
 */
import { expect } from 'chai'
import type { Browser } from 'playwright-core'
import { closeBrowser, launchBrowser, openPage, requireBrowser } from '../helpers/browser.js'
import { USERS, type TestServer } from '../helpers/server.js'
import { startSsoScene, type SsoScene } from '../helpers/sso-scene.js'

describe('the admin console: single sign-on in a browser', function () {
  this.timeout(90_000)
  let browser: Browser | undefined
  let scene: SsoScene | undefined
  let base: string
  let server: TestServer

  before(async function () {
    const executable = requireBrowser(this)
    scene = await startSsoScene({
      accounts: { op: { email: USERS.operator, email_verified: true }, stranger: { email: 'stranger@elsewhere.example', email_verified: true } },
    })
    ;({ base, server } = scene)
    browser = await launchBrowser(executable)
  })
  after(async () => {
    await closeBrowser(browser)
    await scene?.close()
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
