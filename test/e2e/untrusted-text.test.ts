/**
 * What an attacker types or plants, through the built CLI: control characters refused at input (names,
 * GANTRY_ACTOR) and escaped on output (a name already in the database), and credentials refused over plain
 * http off this machine unless --allow-http / GANTRY_ALLOW_HTTP=1.
 */
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import {
  ADMIN,
  createServeWorkspace,
  killLeftovers,
  listeningUrl,
  startServe,
  stopServe,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'
import { sqliteKnex } from '../helpers/sqlite-file.js'

// eslint-disable-next-line no-control-regex -- the test looks for exactly these
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

describe('e2e: untrusted text and plain-http credentials', function () {
  this.timeout(120_000)
  let ws: ServeWorkspace
  let serve: ServeProcess
  let port: string

  before(async () => {
    ws = await createServeWorkspace()
    serve = startServe(ws)
    port = new URL(await listeningUrl(serve)).port
  })
  after(async () => {
    await stopServe(serve)
    killLeftovers()
    ws.cleanup()
  })

  const run = (args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; config?: string } = {}): Promise<CliResult> =>
    runGantry(args, { cwd: ws.root, input: options.input, env: { ...ws.env, XDG_CONFIG_HOME: options.config ?? tempDir('gantry-config-'), ...options.env } })

  /** The one error line (and its Try line) a refused run prints, with no stack. */
  const refusedWith = (result: CliResult, message: string | RegExp): void => {
    expect(result.code, result.stderr).to.equal(2)
    const lines = result.stderr.trim().split('\n')
    expect(lines).to.have.length.at.most(2)
    expect(lines[0]).to.match(/^Error \(INVALID_INPUT\): /)
    if (typeof message === 'string') expect(lines[0]).to.include(message)
    else expect(lines[0]).to.match(message)
    expect(result.stderr).to.not.match(/^\s+at /m)
  }

  it('refuses control characters in a key name and in GANTRY_ACTOR, naming the field', async () => {
    const key = await run(['apikeys', 'create', '--owner', ADMIN.email, '--name', 'ci\u001b]52;c;eA==\u0007'])
    refusedWith(key, 'name: contains a control character (U+001B at character 3): use printable text only.')

    const actor = await run(['users', 'list'], { env: { GANTRY_ACTOR: 'job 7\r\nlocal:root@prod' } })
    refusedWith(actor, 'GANTRY_ACTOR contains a control character (U+000D at character 6).')
    expect(actor.stderr).to.include('Try: Set GANTRY_ACTOR to one line of printable text')
  })

  it('shows a name planted in the database escaped in a table; --json keeps it exact', async () => {
    const planted = 'Eve\u001b]52;c;cm0gLXJmIH4=\u0007\r\n2  root@example.com  fake  admin\u202e'
    // Straight into the database: the services refuse such a name (the test above), an older version did not.
    const db = sqliteKnex(join(ws.root, '.gantry', 'development.sqlite3'))
    try {
      expect(await db('gantry_users').where({ email: ADMIN.email }).update({ name: planted })).to.equal(1)
    } finally {
      await db.destroy()
    }
    const human = await run(['users', 'list'])
    expect(human.code, human.stderr).to.equal(0)
    expect(RAW_CONTROL.test(human.stdout), human.stdout).to.equal(false)
    expect(human.stdout.trim().split('\n')).to.have.length(2)
    expect(human.stdout).to.include('Eve\\x1B]52;c;cm0gLXJmIH4=\\x07\\x0D\\x0A2  root@example.com  fake  admin\\u202E')

    const json = parseJson<{ data: Array<{ name: string }> }>(await run(['users', 'list', '--json']))
    expect(json.data[0]?.name).to.equal(planted)
  })

  describe('credentials over plain http', () => {
    // 0.0.0.0 is not loopback by the rule (it names no host), yet a connection to it reaches this machine on
    // Linux and macOS: an http URL off "this machine" that the test's own server answers.
    const offMachine = (): string => `http://0.0.0.0:${port}`

    it('login refuses it before reading the password, saying why and how; --allow-http logs in', async () => {
      const config = tempDir('gantry-config-')
      const refused = await run(['login', '--url', offMachine(), '--email', ADMIN.email, '--password-stdin'], { input: ADMIN.password, config })
      refusedWith(refused, `Refusing to send credentials to ${offMachine()} over plain http: they would cross the network in clear.`)
      expect(refused.stderr).to.include('Try: Use an https:// URL, or pass --allow-http (GANTRY_ALLOW_HTTP=1)')

      const allowed = await run(['login', '--url', offMachine(), '--email', ADMIN.email, '--password-stdin', '--allow-http', '--json'], {
        input: ADMIN.password,
        config,
      })
      expect(allowed.code, allowed.stderr).to.equal(0)
      expect(parseJson(allowed)).to.include({ url: offMachine(), email: ADMIN.email })

      // The stored login is not enough on its own: each run that sends it says so again.
      refusedWith(await run(['users', 'list', '--url', offMachine()], { config }), 'over plain http')
      const listed = await run(['users', 'list', '--url', offMachine(), '--json'], { config, env: { GANTRY_ALLOW_HTTP: '1' } })
      expect(listed.code, listed.stderr).to.equal(0)
      expect(parseJson<{ data: Array<{ email: string }> }>(listed).data.map((u) => u.email)).to.include(ADMIN.email)
    })

    it('GANTRY_API_KEY is refused the same way; health, which sends no credentials, is not', async () => {
      const env = { GANTRY_API_KEY: 'gk_development_x_y' }
      refusedWith(await run(['roles', 'list', '--url', offMachine()], { env }), `Refusing to send credentials to ${offMachine()} over plain http`)
      const health = await run(['health', '--url', offMachine(), '--json'])
      expect(health.code, health.stderr).to.equal(0)
    })
  })
})
