import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { pendingUnlessCi } from '../helpers/services.js'

const PASSWORD = 'correct horse battery staple 1'

/**
 * Prompts in the right order, driven on a pseudo-terminal: flags judged before a password is asked for, a
 * refused password asked again, destructive commands saying what and where before asking (No offered).
 */
describe('e2e: prompts and confirmations at a terminal', function () {
  this.timeout(120_000)
  let root: string
  let gantry: (args: readonly string[], input?: string) => Promise<CliResult>
  const ENV = { GANTRY_AUTH_SECRET: 'e2e-secret' }

  before(async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to prompt on')
    root = tempDir()
    const url = `sqlite:${join(root, 'gantry.sqlite3')}`
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: url }, production: { database: url } } }))
    gantry = (args, input) => runGantry(args, { cwd: root, input, env: ENV })
    expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
    expect((await gantry(['users', 'create', '--email', 'taken@example.com', '--password-stdin'], PASSWORD)).code).to.equal(0)
  })

  const terminal = (args: readonly string[], answers: Array<readonly [string, string]> = []) => onTerminal(args, { cwd: root, env: ENV, answers })

  it('users create judges every flag before asking for the password', async () => {
    for (const [flags, error] of [
      [['--email', 'not-an-email'], 'Error (INVALID_INPUT)'],
      [['--email', 'taken@example.com'], 'Error (USER_EXISTS)'],
      [['--email', 'new@example.com', '--role', 'nosuch'], 'Error (ROLE_NOT_FOUND)'],
    ] as const) {
      const run = await terminal(['users', 'create', ...flags])
      expect(run.screen, flags.join(' ')).to.include(error)
      expect(run.screen, flags.join(' ')).not.to.include('Password')
      expect(run.code).to.be.oneOf([1, 2])
    }
  })

  it('users create asks again after a password the policy refuses', async () => {
    const run = await terminal(
      ['users', 'create', '--email', 'ada@example.com'],
      [
        ['Password', 'short\r'],
        ['(again)', 'short\r'],
        ['Pick another', ''],
        ['Password', `${PASSWORD}\r`],
        ['(again)', `${PASSWORD}\r`],
      ],
    )
    expect(run.unasked, run.screen).to.deep.equal([])
    expect(run.code, run.screen).to.equal(0)
    expect(run.screen).to.include('Created ada@example.com')
  })

  it('users delete asks at a terminal, naming the user, environment and database; No keeps the user (exit 130), --yes does not ask', async () => {
    expect((await gantry(['users', 'create', '--email', 'bob@example.com', '--generate-password'])).code).to.equal(0)
    const declined = await terminal(['users', 'delete', 'bob@example.com'], [['Go ahead?', '\r']])
    expect(declined.unasked).to.deep.equal([])
    // The question wraps at the terminal's 100 columns.
    expect(declined.screen.replaceAll('\r\n', '')).to.match(
      /Deleting user bob@example\.com in environment "development" \(sqlite:.*gantry\.sqlite3\)\. Go ahead\? \(y\/N\)/,
    )
    expect(declined.code).to.equal(130)
    expect(declined.screen).to.include('Cancelled; nothing was done.')
    expect(parseJson<{ email: string }>(await gantry(['users', 'show', 'bob@example.com', '--json'])).email).to.equal('bob@example.com')

    const yes = await terminal(['users', 'delete', 'bob@example.com', '--yes'])
    expect(yes.code, yes.screen).to.equal(0)
    expect(yes.screen).not.to.include('Go ahead?')
    expect((await gantry(['users', 'show', 'bob@example.com'])).code).to.equal(1)
  })

  it('in a protected environment --yes does not stand for --force', async () => {
    expect((await gantry(['users', 'create', '--email', 'carol@example.com', '--generate-password'])).code).to.equal(0)
    const refused = await gantry(['users', 'delete', 'carol@example.com', '-e', 'production', '--yes'])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.include('Error (FORCE_REQUIRED): Deleting user carol@example.com in protected environment "production" (sqlite:')
    const typed = await terminal(['users', 'delete', 'carol@example.com', '-e', 'production', '--yes'], [['Type "production" to confirm', 'production\r']])
    expect(typed.unasked).to.deep.equal([])
    expect(typed.code, typed.screen).to.equal(0)
  })

  it('ratelimit apply offers No: Enter changes nothing', async () => {
    const file = join(root, 'rules.json')
    writeFileSync(file, JSON.stringify({ rules: [{ name: 'api', match: '* /api/*', limit: 10, window: '1m' }] }))
    const run = await terminal(['ratelimit', 'apply', 'rules.json'], [['(y/N)', '\r']])
    expect(run.unasked, run.screen).to.deep.equal([])
    expect(run.code).to.equal(0)
    expect(run.screen).to.include('Nothing was changed.')
    expect(parseJson<{ rules: unknown[] }>(await gantry(['ratelimit', 'export', '--json'])).rules.map((r) => (r as { name: string }).name)).not.to.include(
      'api',
    )
  })
})
