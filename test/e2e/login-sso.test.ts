/**
 * `gantry login --sso` (the built CLI) against a server and a real identity provider on loopback, the
 * browser played by this test: it reads the address the CLI prints, follows it to the provider, signs in
 * there, and lets the server send it back to the CLI's loopback listener. The CLI then holds a session of
 * its own; a callback with another state is ignored, and a stolen code without the CLI's verifier is useless.
 * With --device (RFC 8628) the test approves the printed code at the provider, as a person on another device.
 */
import { once } from 'node:events'
import { expect } from 'chai'
import { parseJson, runGantry, spawnGantry, tempDir } from '../helpers/cli.js'
import { USERS } from '../helpers/server.js'
import { startSsoScene, type SsoScene } from '../helpers/sso-scene.js'
import type { TestIdp } from '../helpers/test-idp.js'

describe('e2e: gantry login --sso (loopback redirect, RFC 8252)', function () {
  this.timeout(60_000)
  let scene: SsoScene | undefined
  let base: string
  let idp: TestIdp
  const xdg = tempDir('gantry-sso-xdg-')
  const cwd = tempDir('gantry-sso-cwd-')
  const env = { XDG_CONFIG_HOME: xdg, GANTRY_TOKEN: undefined, GANTRY_API_KEY: undefined }

  before(async () => {
    scene = await startSsoScene({
      client: { grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] },
      provider: { deviceFlow: true },
      deviceInterval: 1,
    })
    ;({ base, idp } = scene)
  })
  after(async () => {
    await scene?.close()
  })

  /** The browser: the CLI's address → the server's redirect (with its cookie) → the provider's sign-in → the server's callback → where it sends the browser next. */
  async function browse(start: string): Promise<string> {
    const started = await fetch(start, { redirect: 'manual' })
    expect(started.status).to.equal(302)
    const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0] as string
    const callback = await idp.signIn(started.headers.get('location') as string, 'op')
    const back = await fetch(callback, { redirect: 'manual', headers: { cookie } })
    expect(back.status).to.equal(302)
    return back.headers.get('location') as string
  }

  /**
   * `gantry login --sso ARGS` running: `told` resolves with the first match of `asked` in what it prints on
   * stderr (where it tells the person what to do), `exit` with its exit code; `stdout()` and `stderr()` so far.
   */
  function login(args: readonly string[], asked: RegExp) {
    const cli = spawnGantry(['login', '--sso', ...args, '--url', base, '--json'], { cwd, env })
    let out = ''
    let err = ''
    cli.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    const told = new Promise<RegExpExecArray>((resolve) => {
      cli.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        err += chunk
        const found = asked.exec(err)
        if (found) resolve(found)
      })
    })
    const exit = once(cli, 'close').then(([code]) => code as number)
    return { told, exit, stdout: () => out, stderr: () => err }
  }
  const BROWSER_ASKED = /Sign in with Corp in your browser: (\S+)/

  it('prints where to sign in, waits on 127.0.0.1, and stores the session the browser brought back', async () => {
    const cli = login(['--no-device'], BROWSER_ASKED)
    const start = (await cli.told)[1] as string
    const asked = new URL(start)
    expect(asked.origin).to.equal(base)
    expect(asked.searchParams.get('cli')).to.match(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(asked.searchParams.get('challenge')).to.match(/^[\w-]{43}$/)

    const toCli = new URL(await browse(start))
    expect(`${toCli.origin}${toCli.pathname}`).to.equal(asked.searchParams.get('cli'))
    expect(toCli.searchParams.get('state')).to.equal(asked.searchParams.get('state'))
    const code = toCli.searchParams.get('code') as string

    // Another state at the CLI's door is turned away, and the CLI keeps waiting for its own.
    const wrong = new URL(toCli)
    wrong.searchParams.set('state', 'not-the-cli-state-at-all')
    expect((await fetch(wrong)).status).to.equal(400)
    // The code without the CLI's verifier buys nothing, and spends it: the CLI's exchange then fails too.
    const stolen = await fetch(`${base}/api/v1/auth/sso/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, verifier: 'x'.repeat(43) }),
    })
    expect(stolen.status).to.equal(401)
    expect((await fetch(toCli)).status).to.equal(200)
    expect(await cli.exit, cli.stderr()).to.not.equal(0)
    expect(cli.stderr()).to.include('SSO_FAILED')

    // A clean sign-in: the session is stored, and remote commands act as the operator.
    const again = login(['--no-device'], BROWSER_ASKED)
    expect((await fetch(await browse((await again.told)[1] as string))).status).to.equal(200)
    expect(await again.exit, again.stderr()).to.equal(0)
    expect(JSON.parse(again.stdout())).to.deep.include({ url: base, email: USERS.operator, apiKeyId: null })
    const me = parseJson<{ user: { email: string } }>(await runGantry(['whoami', '--remote', '--url', base, '--json'], { cwd, env }))
    expect(me.user.email).to.equal(USERS.operator)
    expect(cli.stdout(), 'the refused run printed no session').to.not.include('accessToken')
  })

  it('--device: prints the page and the code, polls while the person approves it on another device, and stores the session', async () => {
    const cli = login(['--device'], /Sign in with Corp on any device: open (\S+) and enter the code (\S+)/)
    const [, page, userCode] = await cli.told
    expect(page).to.equal(`${idp.issuer}/device`)
    await idp.approveDevice(userCode as string, 'op')
    // The server asks the provider once its interval has passed by the server's clock (a manual one here):
    // until then the CLI's polls are answered pending, and it waits the second each answer names.
    scene?.server.clock.advance(1000)
    expect(await cli.exit, cli.stderr()).to.equal(0)
    expect(JSON.parse(cli.stdout())).to.deep.include({ url: base, email: USERS.operator, apiKeyId: null })
    const me = parseJson<{ user: { email: string } }>(await runGantry(['whoami', '--remote', '--url', base, '--json'], { cwd, env }))
    expect(me.user.email).to.equal(USERS.operator)
  })

  it('names the providers when --provider names none of them', async () => {
    const result = await runGantry(['login', '--sso', '--provider', 'nope', '--url', base], { cwd, env })
    expect(result.code).to.equal(1)
    expect(result.stderr).to.include('has no identity provider "nope"; it has corp')
  })
})
