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
import type { Browser, Locator, Page } from 'playwright-core'
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

  /** `gantry ARGS --json` in the server's workspace, which must succeed: its parsed output. */
  async function cli<T>(args: readonly string[]): Promise<T> {
    const result = await workspace.gantry([...args, '--json'])
    expect(result.code, result.stderr).to.equal(0)
    return JSON.parse(result.stdout) as T
  }

  /** The API's origin: the console's address without /console/. */
  const origin = (): string => new URL(base).origin

  async function signIn(page: Page, who: { email: string; password: string } = ADMIN, at = base): Promise<void> {
    await page.goto(at)
    await page.getByLabel('Email').fill(who.email)
    await page.getByLabel('Password').fill(who.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('navigation', { name: 'Areas' }).waitFor()
  }

  async function go(page: Page, area: string, at = base): Promise<void> {
    await page.goto(`${at}#/${area}`)
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

    it('shows the sign-in form when the first frame comes after the check for a session (a loaded machine)', async () => {
      const { page, problems } = await open()
      // A loaded machine paints late, and the page's effects wait for the paint: here no frame comes and
      // every timer waits 1.5 s longer, so the check for a session (no cookie: answered at once) finishes
      // before the page listens for its outcome.
      await page.addInitScript(`{
        const later = window.setTimeout
        window.requestAnimationFrame = () => 0
        window.setTimeout = (handler, ms, ...args) => later(handler, (ms ?? 0) + 1500, ...args)
      }`)
      await page.goto(base)
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      expect(problems).to.deep.equal([])
    })

    it('shows the sign-in form, not "Loading…" for ever, when the check for a session cannot reach the server', async () => {
      const { page } = await open()
      await page.route('**/api/v1/auth/console/refresh', (route) => route.abort('connectionrefused'))
      await page.goto(base)
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
    })

    it('keeps a second tab signed in when its refresh loses the race for the cookie to another tab', async () => {
      const first = await open()
      await signIn(first.page)
      // Two tabs renewing at once present the same cookie: one rotates it, and the server refuses the other
      // within its grace (test/integration/server/console.test.ts) without touching the cookie. Here the
      // second tab's first refresh gets that refusal; it must try again with the cookie the jar now holds.
      const second = await first.context.newPage()
      let refused = 0
      await second.route('**/api/v1/auth/console/refresh', async (route) => {
        if (refused > 0) return route.continue()
        refused++
        await route.fulfill({
          status: 401,
          contentType: 'application/problem+json',
          body: JSON.stringify({ title: 'Invalid or expired token', status: 401, code: 'TOKEN_INVALID', detail: 'The refresh token is invalid or expired.' }),
        })
      })
      await second.goto(base)
      await second.getByRole('navigation', { name: 'Areas' }).waitFor()
      expect(refused).to.equal(1)
      await second.close()
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
      await page.getByRole('heading', { name: 'Recent activity' }).waitFor()
      // The newest entry is the sign-in that opened this page, its user the actor.
      const newest = page.locator('[aria-labelledby="recent-audit"] tbody tr').first().locator('td')
      await newest.nth(2).filter({ hasText: 'sessions.login' }).waitFor()
      expect(await newest.nth(1).textContent()).to.match(/^user:\d+$/)
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

  describe('roles', () => {
    it('creates a role from the checklist, changes its permissions, and deletes it after a confirmation naming it', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'roles')
      const create = card(page, 'Create a role')
      await create.locator('summary').click()
      await create.getByLabel('Name').fill('e2e-auditor')
      await create.getByLabel('Description').fill('Reads users and the audit log.')
      const offered = create.getByRole('group', { name: 'Permissions of the new role' })
      await offered.getByRole('checkbox', { name: 'users:read', exact: true }).check()
      await offered.getByRole('checkbox', { name: 'audit:read', exact: true }).check()
      await create.getByRole('button', { name: 'Create' }).click()
      await create.getByText('Created the role e2e-auditor.').waitFor()
      const row = page.locator('[data-table="roles"] tbody tr', { hasText: 'e2e-auditor' })
      await row.getByText('Reads users and the audit log.').waitFor()
      expect(await row.locator('code').allTextContents()).to.have.members(['audit:read', 'users:read'])

      await row.getByRole('button', { name: 'Edit e2e-auditor' }).click()
      const editor = page.getByRole('region', { name: 'Edit the role e2e-auditor' })
      const permissions = editor.getByRole('group', { name: 'Permissions of e2e-auditor' })
      await permissions.getByRole('checkbox', { name: 'audit:read', exact: true }).uncheck()
      await permissions.getByRole('checkbox', { name: 'roles:read', exact: true }).check()
      await editor.getByRole('button', { name: 'Save' }).click()
      await editor.getByText('The role e2e-auditor is saved.').waitFor()
      await row.getByText('roles:read').waitFor()
      expect(await row.locator('code').allTextContents()).to.have.members(['roles:read', 'users:read'])
      const stored = await cli<{ data: { name: string; permissions: string[] }[] }>(['roles', 'list'])
      expect(stored.data.find((r) => r.name === 'e2e-auditor')?.permissions)
        .to.have.members(['roles:read', 'users:read'])
        .and.to.have.length(2)

      await row.getByRole('button', { name: 'Delete e2e-auditor' }).click()
      await confirm(page, /^Delete the role e2e-auditor\? This cannot be undone\.$/, 'Delete e2e-auditor')
      await page.getByText('The role e2e-auditor is deleted.').waitFor()
      await row.waitFor({ state: 'detached' })
      await editor.waitFor({ state: 'detached' })
      const left = await cli<{ data: { name: string }[] }>(['roles', 'list'])
      expect(left.data.map((r) => r.name)).to.deep.equal(['admin', 'operator', 'viewer'])
      expect(problems).to.deep.equal([])
    })
  })

  describe('API keys', () => {
    it('creates a scoped key whose secret shows once and works, and revokes it after a confirmation naming it', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'apikeys')
      const create = card(page, 'Create a key')
      await create.locator('summary').click()
      await create.getByLabel('Name').fill('e2e-reader')
      expect(await create.getByLabel('Owner').inputValue()).to.equal(ADMIN.email)
      await create.getByRole('group', { name: 'Scopes' }).getByRole('checkbox', { name: 'users:read', exact: true }).check()
      await create.getByRole('button', { name: 'Create' }).click()
      await create.getByText(`Created the key e2e-reader of ${ADMIN.email}.`).waitFor()
      const secret = (await create.locator('[data-secret]').textContent()) ?? ''
      expect(secret).to.match(/^gk_/)

      const me = `${origin()}/api/v1/auth/me`
      const answer = await fetch(me, { headers: { 'X-API-Key': secret } })
      expect(answer.status).to.equal(200)
      const who = (await answer.json()) as { user: { email: string }; apiKeyId: string | null; permissions: string[] }
      expect(who.user.email).to.equal(ADMIN.email)
      expect(who.permissions).to.deep.equal(['users:read'])

      const row = page.locator('[data-table="apikeys"] tbody tr', { hasText: 'e2e-reader' })
      await row.getByText('active').waitFor()
      expect(await row.locator('td').nth(2).locator('code').allTextContents()).to.deep.equal(['users:read'])
      expect(await row.locator('td code').first().textContent()).to.equal(`gk_development_${who.apiKeyId}`)
      // Shown this once: the list never holds it, nor does the page once left.
      expect(await page.locator('[data-table="apikeys"]').textContent()).not.to.include(secret)

      await row.getByRole('button', { name: 'Revoke e2e-reader' }).click()
      await confirm(page, new RegExp(`^Revoke the key e2e-reader \\(gk_development_${who.apiKeyId}\\) of admin@example\\.com\\?`), 'Revoke e2e-reader')
      await page.getByText('Revoked e2e-reader.').waitFor()
      await row.getByText('revoked').waitFor()
      expect(await row.getByRole('button').count()).to.equal(0)
      expect((await fetch(me, { headers: { 'X-API-Key': secret } })).status).to.equal(401)

      // Left and come back to: the secret is gone.
      await go(page, 'users')
      await go(page, 'apikeys')
      await row.getByText('revoked').waitFor()
      expect(await page.locator('[data-secret]').count()).to.equal(0)
      expect(problems).to.deep.equal([])
    })
  })

  describe('rate limits', () => {
    interface Rules {
      data: { name: string; match: string; key: string; limit: number; window: string; burst: number; mode: string; source: string }[]
    }

    it('adds rules in order, edits one, tests a request against them, and removes them after a confirmation naming each', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'ratelimits')
      const add = card(page, 'Add a rule')
      await add.locator('summary').click()
      // Paths no request of the console or of these tests takes: the rules refuse nothing here.
      for (const [name, match, limit] of [
        ['e2e-writes', 'POST /api/v1/e2e/*', '30'],
        ['e2e-reads', 'GET /api/v1/e2e/*', '60'],
      ] as const) {
        await add.getByLabel('Name').fill(name)
        await add.getByLabel('Match (method and path)').fill(match)
        await add.getByLabel('Limit (requests)').fill(limit)
        await add.getByLabel('Per window').fill('1m')
        await add.getByRole('button', { name: 'Add the rule' }).click()
        await add.getByText(`Rule ${name} is saved.`).waitFor()
      }
      const rows = page.locator('[data-table="ratelimits"] tbody tr')
      await counted(page, '[data-table="ratelimits"] tbody tr', 6)
      const order: string[] = []
      for (const row of await rows.all())
        order.push(`${await row.locator('td').first().textContent()} ${(await row.locator('th').textContent())?.split(' ')[0]}`)
      expect(order).to.deep.equal(['1 login-ip', '2 login-account', '3 oauth-token-ip', '4 oauth-token-client', '5 e2e-writes', '6 e2e-reads'])

      const writes = rows.filter({ has: page.getByRole('rowheader', { name: /^e2e-writes / }) })
      await writes.getByRole('button', { name: 'Edit rule e2e-writes' }).click()
      const editor = page.getByRole('region', { name: 'Edit rule e2e-writes' })
      expect(await editor.getByLabel('Match (method and path)').inputValue()).to.equal('POST /api/v1/e2e/*')
      await editor.getByLabel('Limit (requests)').fill('45')
      await editor.getByLabel('Burst (optional)').fill('5')
      await editor.getByLabel('Count by').selectOption('user')
      await editor.getByRole('button', { name: 'Save rule e2e-writes' }).click()
      await editor.waitFor({ state: 'detached' })
      // The editor closes; the page itself says the rule was saved.
      await page.getByRole('status').filter({ hasText: 'Rule e2e-writes is saved.' }).waitFor()
      await writes.getByText('45 per 1m').waitFor()
      await writes.getByText('burst 5').waitFor()
      const stored = await cli<Rules>(['ratelimit', 'list'])
      expect(stored.data.map((r) => r.name)).to.deep.equal(['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'e2e-writes', 'e2e-reads'])
      expect(stored.data[4]).to.deep.include({
        match: 'POST /api/v1/e2e/*',
        key: 'user',
        limit: 45,
        window: '1m',
        burst: 5,
        mode: 'enforce',
        source: 'database',
      })
      expect(stored.data[5]).to.deep.include({ match: 'GET /api/v1/e2e/*', key: 'ip', limit: 60, window: '1m', burst: 60 })

      const test = page.getByRole('region', { name: 'Test a request' })
      await test.getByLabel('Method').selectOption('POST')
      await test.getByLabel('Path').fill('/api/v1/e2e/orders')
      await test.getByLabel('User email (optional)').fill(ADMIN.email)
      await test.getByRole('button', { name: 'Test' }).click()
      const decision = test.getByRole('status')
      await decision.getByText('most restrictive rule: e2e-writes').waitFor()
      await decision.getByText('admitted', { exact: true }).waitFor()
      const step = (rule: string) => decision.locator('tbody tr').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${rule} `) }) })
      expect(await step('e2e-writes').locator('td').first().textContent()).to.equal('yes')
      expect(await step('e2e-writes').getByText('45 per 1m, burst 5').count()).to.equal(1)
      expect(await step('e2e-reads').locator('td').first().textContent()).to.match(/^no/)

      for (const name of ['e2e-writes', 'e2e-reads']) {
        await page.getByRole('button', { name: `Remove rule ${name}` }).click()
        await confirm(page, new RegExp(`^Remove rate-limit rule "${name}"\\? Its overrides and counts go with it\\.$`), `Remove ${name}`)
        await page.getByText(`Rule ${name} is removed.`).waitFor()
      }
      await counted(page, '[data-table="ratelimits"] tbody tr', 4)
      expect((await cli<Rules>(['ratelimit', 'list'])).data.map((r) => r.name)).to.deep.equal([
        'login-ip',
        'login-account',
        'oauth-token-ip',
        'oauth-token-client',
      ])
      expect(problems).to.deep.equal([])
    })
  })

  describe('audit', () => {
    it("filters by action and opens an entry's before and after", async () => {
      const audited = 'audited@example.com'
      const created = await workspace.gantry(['users', 'create', '--email', audited, '--role', 'viewer', '--password-stdin'], 'audited passphrase long 1')
      expect(created.code, created.stderr).to.equal(0)
      const updated = await workspace.gantry(['users', 'update', audited, '--role', 'operator'])
      expect(updated.code, updated.stderr).to.equal(0)
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'audit')
      const filters = page.getByRole('search', { name: 'Filter the audit log' })
      const entries = page.locator('[data-table="audit"] tbody tr:has(th)')
      const snapshot = (detail: Locator, title: 'Before' | 'After') => detail.locator('.grid > div').filter({ has: page.getByText(title, { exact: true }) })

      for (const [action, before] of [
        ['users.update', { email: audited, role: 'viewer' }],
        ['users.create', undefined],
      ] as const) {
        await filters.getByLabel('Action', { exact: true }).fill(action)
        await filters.getByRole('button', { name: 'Apply filters' }).click()
        await page.getByRole('caption').filter({ hasText: 'Audit entries that match, newest first' }).waitFor()
        await counted(page, '[aria-busy="true"]', 0)
        await until(async () => ((await entries.locator('th').allTextContents()).every((a) => a === action) ? true : undefined), `only ${action} entries`)
        const newest = entries.first()
        expect(await newest.locator('td').nth(2).textContent()).to.match(/^user \d+$/)
        const show = newest.getByRole('button', { name: /^Show entry \d+$/ })
        const controls = await show.getAttribute('aria-controls')
        await show.click()
        await newest.getByRole('button', { name: /^Hide entry \d+$/ }).waitFor()
        const detail = page.locator(`#${controls}`)
        await detail.getByText(/^Entry \d+ from /).waitFor()
        const after = JSON.parse((await snapshot(detail, 'After').locator('pre').textContent()) ?? '') as Record<string, unknown>
        expect(after).to.include({ email: audited, role: action === 'users.update' ? 'operator' : 'viewer' })
        if (before) expect(JSON.parse((await snapshot(detail, 'Before').locator('pre').textContent()) ?? '')).to.include(before)
        else expect(await snapshot(detail, 'Before').textContent()).to.equal('Before—')
      }
      const removed = await workspace.gantry(['users', 'delete', audited, '--yes'])
      expect(removed.code, removed.stderr).to.equal(0)
      expect(problems).to.deep.equal([])
    })
  })

  describe('maintenance', () => {
    after(async () => {
      // Never leave the shared server in maintenance for the suites that follow, whatever happened here.
      await workspace.gantry(['maintenance', 'off'])
    })

    it('turns on with a message while the console keeps working and the API answers 503, then turns off', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'maintenance')
      const message = 'Back after the e2e upgrade.'
      const turnOn = page.getByRole('region', { name: 'Turn on' })
      await turnOn.getByLabel('Message').fill(message)
      await turnOn.getByLabel('Retry-After (seconds)').fill('90')
      await turnOn.getByRole('button', { name: 'Turn maintenance on' }).click()
      await confirm(page, /^Turn maintenance on\? Every route but health, auth, admin and the console answers 503\.$/, 'Turn on')
      await page.getByText('Maintenance mode is on.').waitFor()
      await page.getByRole('heading', { name: 'State on' }).waitFor()
      await page.locator('dd', { hasText: message }).waitFor()
      expect(await cli(['maintenance', 'status'])).to.deep.include({ enabled: true, message, retryAfter: 90 })

      // Every instance sees the state within a second (the service caches it that long).
      const things = `${origin()}/api/v1/things`
      const refused = await until(
        async () => {
          const answer = await fetch(things)
          return answer.status === 503 ? answer : undefined
        },
        'a 503 from the API',
        { intervalMs: 100 },
      )
      expect(refused.headers.get('retry-after')).to.equal('90')
      expect(await refused.text()).to.include(message)

      // The console's page is still served, its session renewed, and another area works.
      await page.reload()
      await page.getByRole('navigation', { name: 'Areas' }).waitFor()
      await go(page, 'users')
      await page.locator('[data-table="users"] tbody tr', { hasText: ADMIN.email }).waitFor()
      expect((await fetch(things)).status).to.equal(503)

      await go(page, 'maintenance')
      const change = page.getByRole('region', { name: 'Change or turn off' })
      expect(await change.getByLabel('Message').inputValue()).to.equal(message)
      await change.getByRole('button', { name: 'Turn maintenance off' }).click()
      await confirm(page, /^Turn maintenance off\?/, 'Turn off')
      await page.getByText('Maintenance mode is off.').waitFor()
      await page.getByRole('heading', { name: 'State off' }).waitFor()
      expect(await cli(['maintenance', 'status'])).to.deep.include({ enabled: false })
      await until(async () => ((await fetch(things)).status === 404 ? true : undefined), 'the API answering again', { intervalMs: 100 })
      expect(problems).to.deep.equal([])
    })
  })

  describe('feature flags', () => {
    interface Flag {
      key: string
      type: string
      enabled: boolean
      variants: { name: string; value: unknown }[]
    }

    it('creates a boolean flag, switches it on, and deletes it after a confirmation naming it', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'flags')
      const create = card(page, 'Create a flag')
      await create.locator('summary').click()
      await create.getByLabel('Key').fill('e2e-checkout')
      await create.getByLabel('Description').fill('The new checkout.')
      expect(await create.getByLabel('Type').inputValue()).to.equal('boolean')
      await create.getByRole('button', { name: 'Create the flag' }).click()
      await create.getByText('Created flag e2e-checkout (off).').waitFor()
      const row = page.locator('[data-table="flags"] tbody tr', { hasText: 'e2e-checkout' })
      await row.getByText('off', { exact: true }).waitFor()
      // The new flag opens below the list, with the boolean variants.
      const detail = page.getByRole('region', { name: /^Flag e2e-checkout off$/ })
      await detail.getByRole('rowheader', { name: 'on' }).waitFor()
      await detail.getByRole('rowheader', { name: 'off' }).waitFor()

      await row.getByRole('button', { name: 'Switch on e2e-checkout' }).click()
      await confirm(page, /^Switch flag e2e-checkout on\?/, 'Switch e2e-checkout on')
      await page.getByText('Flag e2e-checkout is on.').waitFor()
      await row.getByText('on', { exact: true }).waitFor()
      await page.getByRole('region', { name: /^Flag e2e-checkout on$/ }).waitFor()
      expect(await cli<Flag>(['flags', 'show', 'e2e-checkout'])).to.deep.include({ key: 'e2e-checkout', type: 'boolean', enabled: true })
      const listed = await cli<{ data: Flag[] }>(['flags', 'list'])
      expect(listed.data.map((f) => [f.key, f.enabled])).to.deep.equal([['e2e-checkout', true]])

      await row.getByRole('button', { name: 'Delete e2e-checkout' }).click()
      await confirm(page, /^Delete the flag e2e-checkout\? .*This cannot be undone\.$/, 'Delete e2e-checkout')
      await page.getByText('Flag e2e-checkout is deleted.').waitFor()
      await row.waitFor({ state: 'detached' })
      await page.getByRole('region', { name: /^Flag e2e-checkout/ }).waitFor({ state: 'detached' })
      await page.getByText('No flag yet.').waitFor()
      expect((await cli<{ data: Flag[] }>(['flags', 'list'])).data).to.deep.equal([])
      expect(problems).to.deep.equal([])
    })
  })

  describe('webhooks', () => {
    // The development environment init writes allows private targets (webhooks.allowPrivateTargets), so a
    // loopback receiver is accepted here; the refusal is checked below against a server that does not.
    const HOOK = 'http://127.0.0.1:9/hook'

    it('adds an endpoint with its secret shown once, sends a test event, and deletes it after a confirmation naming it', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'webhooks')
      const create = card(page, 'Add an endpoint')
      await create.locator('summary').click()
      await create.getByLabel('URL').fill(HOOK)
      await create.getByLabel('Description').fill('A closed port: deliveries fail.')
      await create.getByRole('group', { name: 'Events' }).getByRole('checkbox', { name: 'users.*', exact: true }).check()
      await create.getByRole('button', { name: 'Add the endpoint' }).click()
      await create.getByText(`Created ${HOOK}.`).waitFor()
      const secret = (await create.locator('[data-secret]').textContent()) ?? ''
      expect(secret).to.match(/^whsec_/)
      const row = page.locator('[data-table="webhooks"] tbody tr', { hasText: HOOK })
      await row.getByText('enabled', { exact: true }).waitFor()
      expect(await row.locator('td').nth(1).textContent()).to.equal('users.*')
      const listed = await cli<{ data: { url: string; eventTypes: string[]; enabled: boolean }[] }>(['webhooks', 'list'])
      expect(listed.data.map((e) => [e.url, e.eventTypes, e.enabled])).to.deep.equal([[HOOK, ['users.*'], true]])
      expect(JSON.stringify(listed)).not.to.include(secret)

      // Port 9 is closed: the receiver gives no answer, and the page says so.
      await row.getByRole('button', { name: `Send test event to ${HOOK}` }).click()
      const outcome = page.getByRole('status').filter({ hasText: `Test event to ${HOOK}: failed` })
      await outcome.getByText(/^no answer in \d+ ms/).waitFor()
      // A refused test is not announced as a success.
      expect(
        await page
          .getByRole('status')
          .filter({ hasText: /test event to .* (was accepted|failed)\./i })
          .count(),
      ).to.equal(0)

      await row.getByRole('button', { name: `Delete ${HOOK}` }).click()
      await confirm(page, /^Delete the webhook endpoint http:\/\/127\.0\.0\.1:9\/hook and its delivery history\? This cannot be undone\.$/, `Delete ${HOOK}`)
      await page.getByText(`${HOOK} is deleted.`).waitFor()
      await row.waitFor({ state: 'detached' })
      expect((await cli<{ data: unknown[] }>(['webhooks', 'list'])).data).to.deep.equal([])
      expect(await page.locator('[data-secret]').count()).to.equal(1)
      await go(page, 'users')
      await go(page, 'webhooks')
      await page.getByText('No webhook endpoint yet.').waitFor()
      expect(await page.locator('[data-secret]').count()).to.equal(0)
      expect(problems).to.deep.equal([])
    })

    describe('where private targets are refused', () => {
      let refusing: ServeWorkspace | undefined
      let refusingServe: ServeProcess | undefined
      let refusingBase: string

      before(async () => {
        refusing = await createServeWorkspace({ environment: { webhooks: { allowPrivateTargets: false } } })
        refusingServe = startServe(refusing)
        refusingBase = `http://127.0.0.1:${new URL(await listeningUrl(refusingServe)).port}/console/`
      })
      after(async () => {
        if (refusingServe) await stopServe(refusingServe)
        refusing?.cleanup()
      })

      it("shows the API's problem detail when the endpoint is refused", async () => {
        const { page, problems } = await open()
        await signIn(page, ADMIN, refusingBase)
        await go(page, 'webhooks', refusingBase)
        const create = card(page, 'Add an endpoint')
        await create.locator('summary').click()
        await create.getByLabel('URL').fill(HOOK)
        await create.getByRole('group', { name: 'Events' }).getByRole('checkbox', { name: 'users.*', exact: true }).check()
        await create.getByRole('button', { name: 'Add the endpoint' }).click()
        await expectAlert(page, /Invalid input.*The webhook URL's host 127\.0\.0\.1 is a loopback address; webhooks go to public addresses only\./)
        expect(await create.locator('[data-secret]').count()).to.equal(0)
        expect(await page.locator('[data-table="webhooks"] tbody tr').count()).to.equal(0)
        const listed = await refusing!.gantry(['webhooks', 'list', '--json'])
        expect(JSON.parse(listed.stdout)).to.deep.include({ data: [] })
        expect(problems.filter((p) => !/status of 400/.test(p))).to.deep.equal([])
      })
    })
  })

  describe('backups', () => {
    it('lists the backup directory, and a backup taken with the CLI after Refresh', async () => {
      const { page, problems } = await open()
      await signIn(page)
      await go(page, 'backups')
      await page.getByRole('caption').filter({ hasText: '0 backup files, newest first' }).waitFor()
      const directory = (await page.locator('dd code').textContent()) ?? ''
      expect(directory).to.equal(join(workspace.root, '.gantry', 'backups'))

      const taken = await cli<{ file: string; encrypted: boolean }>(['db', 'backup'])
      expect(taken.file.startsWith(`${directory}/`), taken.file).to.equal(true)
      await page.getByRole('button', { name: 'Refresh' }).click()
      await page.getByRole('caption').filter({ hasText: '1 backup file, newest first' }).waitFor()
      const row = page.locator('[data-table="backups"] tbody tr')
      expect(await row.getByRole('rowheader').textContent()).to.equal(taken.file.slice(directory.length + 1))
      const cells = await row.locator('td').allTextContents()
      expect([cells[1], cells[2], cells[5]]).to.deep.equal(['development', 'manual', taken.encrypted ? 'yes' : 'no'])
      const listed = await cli<{ directory: string; data: { file: string }[] }>(['db', 'backups', 'list'])
      expect(listed.data.map((b) => b.file)).to.deep.equal([taken.file])
      expect(problems).to.deep.equal([])
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

/** The card a <details> of that summary makes (a create form). */
function card(page: Page, summary: string): Locator {
  return page.locator('details.card').filter({ has: page.locator('summary', { hasText: summary }) })
}

async function expectAlert(page: Page, text: RegExp): Promise<void> {
  await page.getByRole('alert').filter({ hasText: text }).waitFor()
}

/** Waits until `selector` matches `n` elements (the page's policy forbids the string evaluation waitForFunction would need). */
async function counted(page: Page, selector: string, n: number): Promise<void> {
  await until(async () => ((await page.locator(selector).count()) === n ? true : undefined), `${n} of ${selector}`)
}
