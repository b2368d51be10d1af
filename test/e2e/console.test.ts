/**
 * The admin console in a real browser (Debian's Chromium driven by playwright-core) against a real
 * `gantry serve`: sign-in and the session (the access token never in storage, the refresh token in a cookie
 * no script reads; a page that outlives its session asks for the password again and keeps its state), every
 * area at desktop and phone width in light and dark with axe-core finding nothing serious and the page's
 * policy refusing nothing, each area's main flows, a viewer offered no action it cannot take, and a refused
 * action showing the API's problem detail. Screenshots of each area go to test-artifacts/console.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import { closeBrowser, launchBrowser, openPage, requireBrowser, runAxe, screenshot, type RecordedPage } from '../helpers/browser.js'
import { ADMIN, createServeWorkspace, listeningUrl, startServe, stopServe, until, type ServeProcess, type ServeWorkspace } from '../helpers/serve-process.js'

const VIEWER = { email: 'viewer@example.com', password: 'viewer passphrase long 1' } as const
const AREAS = ['overview', 'users', 'roles', 'apikeys', 'ratelimits', 'audit', 'maintenance', 'flags', 'webhooks', 'backups'] as const
const DESKTOP = { width: 1280, height: 860 }
const PHONE = { width: 390, height: 844 }

describe('the admin console in a browser', function () {
  this.timeout(120_000)
  let browser: Browser | undefined
  let workspace: ServeWorkspace
  let serve: ServeProcess
  let base: string
  const opened: RecordedPage[] = []

  before(async function () {
    const executable = requireBrowser(this)
    workspace = await createServeWorkspace()
    const viewer = await workspace.gantry(['users', 'create', '--email', VIEWER.email, '--role', 'viewer', '--password-stdin'], VIEWER.password)
    expect(viewer.code, viewer.stderr).to.equal(0)
    serve = startServe(workspace)
    // Loopback by name: the one plain-HTTP origin the console signs in on.
    base = `http://127.0.0.1:${new URL(await listeningUrl(serve)).port}/console/`
    browser = await launchBrowser(executable)
  })
  after(async () => {
    for (const page of opened) await page.close().catch(() => undefined)
    await closeBrowser(browser)
    if (serve) await stopServe(serve)
    workspace?.cleanup()
  })

  async function open(size = DESKTOP, colorScheme: 'light' | 'dark' = 'light'): Promise<RecordedPage> {
    const recorded = await openPage(browser!, { ...size, colorScheme })
    opened.push(recorded)
    return recorded
  }

  async function signIn(page: Page, who: { email: string; password: string } = ADMIN): Promise<void> {
    await page.goto(base)
    await page.getByLabel('Email').fill(who.email)
    await page.getByLabel('Password').fill(who.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('navigation', { name: 'Areas' }).waitFor()
  }

  async function go(page: Page, area: string): Promise<void> {
    await page.goto(`${base}#/${area}`)
    await page.locator('main h1').first().waitFor()
    // Settled: no table still loading.
    await counted(page, '[aria-busy="true"]', 0)
  }

  describe('sign-in and the session', () => {
    it('signs in; the access token stays out of storage and the refresh cookie out of reach of scripts', async () => {
      const { page, context, problems } = await open()
      await signIn(page)
      expect(await page.evaluate('JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage), document.cookie])')).to.equal('[[],[],""]')
      const cookies = await context.cookies()
      expect(cookies.map((c) => [c.name, c.path, c.httpOnly, c.sameSite])).to.deep.equal([['gantry_console_refresh', '/api/v1/auth/console', true, 'Strict']])
      // A reload keeps the session through the cookie, with no password asked.
      await page.reload()
      await page.getByRole('navigation', { name: 'Areas' }).waitFor()
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      expect(await context.cookies()).to.deep.equal([])
      await page.reload()
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      expect(problems).to.deep.equal([])
    })

    it('shows a wrong password as the API words it', async () => {
      const { page, problems } = await open()
      await page.goto(base)
      await page.getByLabel('Email').fill(ADMIN.email)
      await page.getByLabel('Password').fill('certainly not the password')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await expectAlert(page, /Wrong email or password/)
      expect(problems.filter((p) => !/status of 401/.test(p))).to.deep.equal([])
    })

    it('asks for the password again when the session ends under an open page, and keeps what the page held', async () => {
      const { page } = await open()
      await signIn(page)
      await go(page, 'users')
      await page.getByLabel('Search').fill('admin@')
      await page.locator('[data-table="users"] tbody tr').first().waitFor()
      const ended = await workspace.gantry(['tokens', 'revoke', '--user', ADMIN.email])
      expect(ended.code, ended.stderr).to.equal(0)
      // Access tokens end within a second of the revocation: the page's next call after that finds its
      // token refused and the cookie's family ended with it, and asks for the password.
      const dialog = page.getByRole('dialog', { name: 'Your session has ended' })
      const filter = page.locator('.filters select').first()
      await until(
        async () => {
          if (await dialog.isVisible()) return true
          await filter.selectOption((await filter.inputValue()) === 'viewer' ? '' : 'viewer', { timeout: 2_000 })
          return undefined
        },
        'the session-ended dialog',
        { timeoutMs: 15_000, intervalMs: 200 },
      )
      await dialog.getByLabel('Password').fill(ADMIN.password)
      await dialog.getByRole('button', { name: 'Sign in' }).click()
      await dialog.waitFor({ state: 'hidden' })
      expect(await page.getByLabel('Search').inputValue()).to.equal('admin@')
    })
  })

  describe('every area', () => {
    for (const [size, sizeName] of [
      [DESKTOP, 'desktop'],
      [PHONE, 'phone'],
    ] as const) {
      for (const scheme of ['light', 'dark'] as const) {
        it(`renders each area at ${sizeName} width in ${scheme}, with no serious axe finding and nothing the policy refuses`, async () => {
          const { page, problems } = await open(size, scheme)
          await signIn(page)
          for (const area of AREAS) {
            await go(page, area)
            expect(await runAxe(page), `${area} at ${sizeName} in ${scheme}`).to.deep.equal([])
            await screenshot(page, `${area}-${sizeName}-${scheme}`, { fullPage: true })
          }
          expect(problems).to.deep.equal([])
        })
      }
    }

    it('works from the keyboard alone: the skip link, the navigation and a form', async () => {
      const { page } = await open()
      await page.goto(base)
      await page.getByLabel('Email').waitFor()
      await page.keyboard.press('Tab')
      await page.keyboard.type(ADMIN.email)
      await page.keyboard.press('Tab')
      await page.keyboard.type(ADMIN.password)
      await page.keyboard.press('Enter')
      await page.getByRole('navigation', { name: 'Areas' }).waitFor()
      await page.keyboard.press('Tab')
      expect(await page.evaluate('document.activeElement.textContent')).to.equal('Skip to content')
      await page.keyboard.press('Tab')
      await page.keyboard.press('Tab')
      expect(await page.evaluate('document.activeElement.textContent')).to.equal('Users')
      await page.keyboard.press('Enter')
      await page.locator('h1', { hasText: 'Users' }).waitFor()
    })
  })

  describe('overview', () => {
    it("shows each readiness check, maintenance, this instance's traffic and the latest audit entries", async () => {
      const { page } = await open()
      await signIn(page)
      await go(page, 'overview')
      for (const check of ['database:responseTime', 'migrations:status']) await page.getByRole('rowheader', { name: check }).waitFor()
      await page.getByRole('img', { name: /requests in the last 60 minutes/ }).waitFor()
      await page.getByText(/Counted by this instance/).waitFor()
      await page.getByRole('heading', { name: 'Recent changes' }).waitFor()
      await page.getByRole('cell', { name: 'users.create' }).first().waitFor()
    })
  })

  describe('users', () => {
    it('creates a user with the password shown once, changes the role, disables, and deletes after a confirmation naming them', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'users')
      await page.getByText('Create a user').click()
      const form = page.locator('details form')
      await form.getByLabel('Email').fill('new.person@example.com')
      await form.getByLabel('Name').fill('New Person')
      await form.getByRole('button', { name: /Create/ }).click()
      await page.getByText('Created new.person@example.com.').waitFor()
      expect(await page.locator('[data-secret]').textContent()).to.have.length.greaterThan(11)

      const row = page.locator('[data-table="users"] tr', { hasText: 'new.person@example.com' })
      await row.getByLabel('Role of new.person@example.com').selectOption('operator')
      await confirm(page, /from viewer to operator/, 'Change role')
      await page.getByText('new.person@example.com is now operator.').waitFor()

      await row.getByRole('button', { name: 'Disable' }).click()
      await confirm(page, /Disable new\.person@example\.com/, 'Disable')
      await row.getByText('disabled').waitFor()

      await row.getByRole('button', { name: 'Delete' }).click()
      await confirm(page, /Delete the user new\.person@example\.com\?/, 'Delete new.person@example.com')
      await row.waitFor({ state: 'detached' })
      const listed = await workspace.gantry(['users', 'list', '--json'])
      expect(listed.stdout).not.to.include('new.person@example.com')
      expect(problems).to.deep.equal([])
    })

    it("searches, filters and pages through the API's cursor", async () => {
      const file = join(workspace.root, 'paged.csv')
      writeFileSync(file, ['email,name,role', ...Array.from({ length: 60 }, (_, i) => `page.${i}@example.com,Paged ${i},viewer`)].join('\n') + '\n')
      const seeded = await workspace.gantry(['users', 'import', file])
      expect(seeded.code, seeded.stderr).to.equal(0)
      const { page } = await open()
      await signIn(page)
      await go(page, 'users')
      await page.getByLabel('Search').fill('paged')
      await page.getByRole('caption').filter({ hasText: '60 users match' }).waitFor()
      const rows = page.locator('[data-table="users"] tbody tr')
      expect(await rows.count()).to.equal(50)
      await page.getByRole('button', { name: 'Next page' }).click()
      await page.getByRole('caption').filter({ hasText: 'page 2' }).waitFor()
      await counted(page, '[data-table="users"] tbody tr', 10)
      await page.getByRole('button', { name: 'Previous page' }).click()
      await counted(page, '[data-table="users"] tbody tr', 50)
    })

    it("shows the API's problem detail when an action is refused", async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'users')
      await page.getByText('Create a user').click()
      const form = page.locator('details form')
      await form.getByLabel('Email').fill(VIEWER.email)
      await form.getByRole('button', { name: /Create/ }).click()
      await expectAlert(page, /User already exists/)
      expect(problems.filter((p) => !/status of 409/.test(p))).to.deep.equal([])
    })
  })

  describe('a viewer', () => {
    it('is offered no action the role cannot take', async () => {
      const { page } = await open()
      await signIn(page, VIEWER)
      for (const area of AREAS) {
        await go(page, area)
        const offered = await page.locator('main button:visible').allTextContents()
        const actions = offered.filter(
          (text) =>
            !/^(Check again|Previous page|Next page|Show|Hide|Show .*|Hide .*|Filter|Apply filters|Refresh|Refresh now|Search|Test|Pause live updates|Resume live updates)$/.test(
              text,
            ),
        )
        expect(actions, area).to.deep.equal([])
        expect(await page.locator('main select[aria-label^="Role of"]').count(), area).to.equal(0)
      }
    })
  })
})

async function confirm(page: Page, question: RegExp, action: string): Promise<void> {
  const dialog = page.getByRole('dialog')
  await dialog.getByText(question).waitFor()
  await dialog.getByRole('button', { name: action }).click()
  await dialog.waitFor({ state: 'hidden' })
}

async function expectAlert(page: Page, text: RegExp): Promise<void> {
  await page.getByRole('alert').filter({ hasText: text }).waitFor()
}

/** Waits until `selector` matches `n` elements (the page's policy forbids the string evaluation waitForFunction would need). */
async function counted(page: Page, selector: string, n: number): Promise<void> {
  await until(async () => ((await page.locator(selector).count()) === n ? true : undefined), `${n} of ${selector}`)
}
