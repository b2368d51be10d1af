import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { expect } from 'chai'
import stringWidth from 'string-width'
import { parseJson, runGantry, tempDir } from '../helpers/cli.js'
import { hasScript, onTerminal, runOnPty } from '../helpers/pty.js'
import { pendingUnlessCi } from '../helpers/services.js'

/** Red and green as chalk and ora write them at the basic colour level. */
const RED = '\x1b[31m'
const GREEN = '\x1b[32m'
const YELLOW = '\x1b[33m'

describe('e2e: what a terminal shows is what happened', function () {
  this.timeout(120_000)
  let dir: string
  const gantry = (args: string[], env: NodeJS.ProcessEnv = {}) => runGantry(args, { cwd: dir, env })
  const onPty = (args: string[], options: Omit<Parameters<typeof runOnPty>[1], 'cwd'> = {}) => runOnPty(args, { cwd: dir, ...options })

  before(async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to run on')
    dir = tempDir()
    const init = await runGantry(['init', '--yes', '--name', 'screens'], { cwd: dir })
    expect(init.code, init.stderr).to.equal(0)
  })
  after(() => dir && rmSync(dir, { recursive: true, force: true }))

  it('env check: each step ends with the mark of its result, in its colour, and the exit code follows', async () => {
    // Not migrated yet: the database answers (green ✔), the migrations check fails (red ✖), exit 3.
    const pending = await onPty(['env', 'check'], { color: true })
    expect(pending.code, pending.text).to.equal(3)
    expect(pending.raw).to.include(`${GREEN}✔\x1b[39m Checking the database`)
    expect(pending.raw).to.include(`${RED}✖\x1b[39m Checking migrations`)
    expect(pending.text).not.to.include('✔ Checking migrations')
    expect(pending.text).to.match(/migrations +fail/)

    // An unreachable database: its step is ✖, never ✔ above a table that says fail.
    writeFileSync(join(dir, '.env.staging'), `DATABASE_URL=postgres://postgres@127.0.0.1:1/x\nGANTRY_AUTH_SECRET=${'s'.repeat(32)}\n`)
    const down = await onPty(['env', 'check', '-e', 'staging'])
    expect(down.code, down.text).to.equal(3)
    expect(down.text)
      .to.include('✖ Checking the database')
      .and.match(/database +fail/)
    expect(down.text).not.to.include('✔ Checking the database')

    // A short secret in development warns (⚠, exit 0); production without one fails (✖, exit 3).
    expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
    const weak = await onPty(['env', 'check'], { env: { GANTRY_AUTH_SECRET: 'short' } })
    expect(weak.code, weak.text).to.equal(0)
    expect(weak.text)
      .to.include('⚠ Checking the token secret')
      .and.match(/auth +warn .*at least 32 bytes/)
    expect(weak.text).to.include('✔ Checking migrations')
    writeFileSync(join(dir, '.env.production'), `DATABASE_URL=sqlite:${join(dir, '.gantry', 'development.sqlite3')}\n`)
    const production = await onPty(['env', 'check', '-e', 'production'])
    expect(production.code, production.text).to.equal(3)
    expect(production.text).to.include('✖ Checking the token secret').and.include('Error (NOT_READY): production is not ready: auth: no token secret')
  })

  it('a terminal of zero columns gets no spinner: env check finishes and writes a few lines', async () => {
    const run = await onPty(['env', 'check'], { columns: 0, maxBytes: 64 * 1024, timeoutMs: 30_000 })
    expect(run.code, run.text).to.equal(0)
    expect(run.raw.length).to.be.below(4000)
    expect(run.text).not.to.match(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/)
    expect(run.text).to.match(/migrations +ok/)
  })

  it('env diff: an unset secret reads (unset), differences name the environments, colours only on colour terminals', async () => {
    const plain = await onPty(['env', 'diff', 'development', 'production'])
    expect(plain.code, plain.text).to.equal(0)
    const secretRow = plain.text.split('\n').find((l) => l.startsWith('GANTRY_AUTH_SECRET'))
    expect(secretRow).to.match(/^GANTRY_AUTH_SECRET +missing in production +\*\*\* \(\.env\.development\) +\(unset\)$/)
    expect(plain.text).not.to.include('*** (default)')
    expect(plain.text).to.match(/^VARIABLE +DIFFERENCE +development +production$/m)
    expect(plain.text).not.to.match(/only-in-|missing-in-/)
    for (const colour of [RED, YELLOW]) expect(plain.raw, 'no colour under NO_COLOR').not.to.include(colour)

    const coloured = await onPty(['env', 'diff', 'development', 'production'], { color: true })
    expect(coloured.raw).to.include(`${RED}missing in production`).and.include(`${RED}(unset)`).and.include(`${YELLOW}differs`)

    const json = parseJson<{ variables: Array<{ name: string; kind: string; b: { value: string | null } }> }>(
      await gantry(['env', 'diff', 'development', 'production', '--json']),
    )
    expect(json.variables.find((v) => v.name === 'GANTRY_AUTH_SECRET')).to.deep.include({ kind: 'missing-in-b', b: { source: 'default', value: null } })
  })

  it('an empty list prints its message alone, with no header run into it', async () => {
    const configPath = join(dir, 'gantry.config.json')
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { environments: Record<string, { auth?: Record<string, unknown> }> }
    config.environments.development!.auth = { ...config.environments.development!.auth, algorithm: 'EdDSA' }
    writeFileSync(configPath, JSON.stringify(config, null, 2))
    const keys = await onPty(['tokens', 'keys', 'list'])
    expect(keys.code, keys.text).to.equal(0)
    expect(keys.text.trim()).to.equal('No key yet: the first token signed makes one, or run `gantry tokens keys rotate`.')
    const users = await onPty(['users', 'list', '--role', 'viewer'])
    expect(users.code, users.text).to.equal(0)
    expect(users.text.trim()).to.equal('No users match.')
  })

  it('tables fit the terminal at 40, 60, 80 and 160 columns: no line wraps, every rule is shown whole', async () => {
    const set = await gantry(['ratelimit', 'set', 'search-per-key', '--match', 'GET /api/v1/search/*', '--limit', '50', '--window', '1m', '--key', 'apiKey'])
    expect(set.code, set.stderr).to.equal(0)
    const rules = parseJson<{ data: Array<{ name: string; match: string }> }>(await gantry(['ratelimit', 'list', '--json'])).data
    for (const columns of [40, 60, 80, 160]) {
      const run = await onPty(['ratelimit', 'list'], { columns })
      expect(run.code, run.text).to.equal(0)
      const lines = run.text.trimEnd().split('\n')
      for (const line of lines) expect(stringWidth(line), `${columns} columns: ${line}`).to.be.at.most(columns)
      for (const rule of rules) expect(run.text, `${columns} columns`).to.include(rule.name).and.include(rule.match)
      // Wide enough, a table (a header line, a line per rule); narrower, a record per rule.
      expect(
        lines.filter((l) => /^NAME +MATCH/.test(l)),
        `${columns} columns`,
      ).to.have.length(columns === 160 ? 1 : 0)
      if (columns < 160) expect(lines.filter((l) => /^NAME +\S/.test(l))).to.have.length(rules.length)
    }
  })

  it("serve at a terminal: a banner, then a readable line per request; --log-format json keeps pino's lines", async () => {
    const pretty = await onTerminal(['serve', '--port', '0'], {
      cwd: dir,
      answers: [
        [
          'Redis: none',
          async (terminal) => {
            const url = /http:\/\/127\.0\.0\.1:\d+/.exec(terminal.screen())?.[0]
            expect((await fetch(`${url}/api/nowhere`)).status).to.equal(404)
            await terminal.shows('GET /api/nowhere 404')
            return '\x03' // Ctrl-C: the server drains and stops
          },
        ],
      ],
    })
    const text = stripVTControlCharacters(pretty.screen)
    expect(pretty.code, text).to.equal(0)
    expect(text).to.match(
      /^\d\d:\d\d:\d\d INFO {2}listening {2}Gantry \S+ · development · http:\/\/127\.0\.0\.1:\d+ · sqlite:\.\/\.gantry\/development\.sqlite3 · Redis: none/m,
    )
    expect(text).to.match(/^\d\d:\d\d:\d\d \S+ +GET \/api\/nowhere 404 \d+ ms {2}\S+/m)
    expect(text).not.to.include('{"level"')

    const json = await onTerminal(['serve', '--port', '0', '--log-format', 'json'], { cwd: dir, answers: [['"msg":"listening"', '\x03']] })
    expect(json.code, json.screen).to.equal(0)
    const listening = json.screen.split(/\r?\n/).find((l) => l.includes('"msg":"listening"'))
    expect(JSON.parse(listening!)).to.include({ environment: 'development', database: 'sqlite:./.gantry/development.sqlite3', redis: null })
  })

  it('users list at a terminal: the next-page hint is a complete command that shows the next page', async () => {
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com', 'admin@example.com']) {
      const role = email.startsWith('admin') ? 'admin' : 'viewer'
      const made = await gantry(['users', 'create', '--email', email, '--role', role, '--generate-password'])
      expect(made.code, made.stderr).to.equal(0)
    }
    const first = await onPty(['users', 'list', '--role', 'viewer', '--limit', '2'])
    expect(first.code, first.text).to.equal(0)
    const hint = first.text.match(/^Next page: (gantry users list .*)$/m)?.[1]
    expect(hint).to.match(/^gantry users list --role viewer --limit 2 --cursor \S+$/)
    // Run exactly what it says (its words after `gantry`): the last viewer, no admin, no further hint.
    const next = await onPty(hint!.split(' ').slice(1))
    expect(next.code, next.text).to.equal(0)
    expect(next.text).to.include('c@example.com').and.not.include('a@example.com').and.not.include('admin@example.com')
    expect(next.text).not.to.include('Next page')
  })

  it('users list at a terminal: the total beyond the page, and through $PAGER when longer than the screen', async () => {
    const users = parseJson<{ total: number }>(await gantry(['users', 'list', '--json']))
    const pager = `cat > '${join(dir, 'paged.txt')}'`
    const short = await onPty(['users', 'list', '--limit', '2'], { rows: 40, env: { PAGER: pager } })
    expect(short.code, short.text).to.equal(0)
    expect(short.text).to.include(`This page: 2 of ${users.total} users.`)
    expect(existsSync(join(dir, 'paged.txt')), 'it fits: no pager').to.equal(false)
    const long = await onPty(['users', 'list'], { rows: 4, env: { PAGER: pager } })
    expect(long.code, long.text).to.equal(0)
    const paged = readFileSync(join(dir, 'paged.txt'), 'utf8')
    expect(paged)
      .to.match(/^ID +EMAIL/)
      .and.include('admin@example.com')
    expect(long.text).not.to.include('admin@example.com')
  })
})
