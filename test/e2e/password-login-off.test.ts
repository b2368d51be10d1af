/**
 * `auth.passwordLogin: false` with a break-glass admin, end to end: a `gantry serve` whose environment signs in
 * through its identity provider only refuses every password login over HTTP (the API's and the console's),
 * tells sign-in pages to show no password form, and the one admin named in `auth.breakGlass` still signs in
 * through the CLI on the database (`gantry login --break-glass`), audited as `sessions.break-glass`; the
 * session it stores works against the server.
 */
import { expect } from 'chai'
import { parseJson, tempDir } from '../helpers/cli.js'
import { ADMIN, createServeWorkspace, killLeftovers, listeningUrl, startServe, stopServe, type ServeWorkspace } from '../helpers/serve-process.js'

describe('e2e: password sign-in off, and the break-glass admin', function () {
  this.timeout(120_000)
  let ws: ServeWorkspace

  before(async () => {
    ws = await createServeWorkspace({
      auth: {
        passwordLogin: false,
        breakGlass: ADMIN.email,
        // Never reached here: only its presence matters (a provider is what replaces the password).
        sso: { providers: [{ id: 'corp', issuer: 'https://login.example.com', clientId: 'gantry' }] },
      },
    })
    ws.env.XDG_CONFIG_HOME = tempDir('gantry-break-glass-xdg-')
  })
  after(() => ws?.cleanup())
  afterEach(killLeftovers)

  it('refuses password logins over HTTP; the break-glass admin signs in on the database, loudly, and the session works', async () => {
    const serve = startServe(ws)
    const url = await listeningUrl(serve)
    try {
      const options = (await (await fetch(`${url}/api/v1/auth/sso`)).json()) as { passwordLogin: boolean }
      expect(options.passwordLogin).to.equal(false)

      const http = await ws.gantry(['login', '--url', url, '--email', ADMIN.email, '--password-stdin', '--json'], ADMIN.password)
      expect(http.code, http.stderr).to.equal(1)
      expect(parseJson<{ error: { code: string } }>(http).error.code).to.equal('PASSWORD_LOGIN_DISABLED')
      const consoleLogin = await fetch(`${url}/api/v1/auth/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url, 'x-gantry-console': '1' },
        body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
      })
      expect(consoleLogin.status).to.equal(403)
      expect(((await consoleLogin.json()) as { code: string }).code).to.equal('PASSWORD_LOGIN_DISABLED')

      // Wrong password, then the right one: the password is checked as at any login.
      const wrong = await ws.gantry(['login', '--break-glass', '--url', url, '--password-stdin', '--json'], 'not the password at all')
      expect(wrong.code).to.equal(1)
      expect(parseJson<{ error: { code: string } }>(wrong).error.code).to.equal('INVALID_CREDENTIALS')
      const glass = await ws.gantry(['login', '--break-glass', '--url', url, '--password-stdin', '--json'], ADMIN.password)
      expect(glass.code, glass.stderr).to.equal(0)
      expect(parseJson(glass)).to.deep.include({ url, email: ADMIN.email })
      expect(glass.stderr).to.include('Break-glass sign-in: recorded in the audit log as sessions.break-glass')

      const me = parseJson<{ user: { email: string; role: string } }>(await ws.gantry(['whoami', '--remote', '--url', url, '--json']))
      expect(me.user).to.deep.include({ email: ADMIN.email, role: 'admin' })
      const audit = parseJson<{ data: Array<{ action: string; after: Record<string, unknown> | null }> }>(
        await ws.gantry(['audit', 'list', '--action', 'sessions.break-glass', '--json']),
      )
      expect(audit.data.map((e) => [e.action, e.after?.email])).to.deep.equal([['sessions.break-glass', ADMIN.email]])
      const refusals = parseJson<{ data: Array<{ after: Record<string, unknown> | null }> }>(
        await ws.gantry(['audit', 'list', '--action', 'sessions.login-failed', '--json']),
      )
      expect(refusals.data.map((e) => e.after?.reason)).to.include.members(['password-login-off', 'wrong-password'])
    } finally {
      await stopServe(serve)
    }
  })
})
