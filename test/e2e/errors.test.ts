import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { runGantry, tempDir, type CliResult } from '../helpers/cli.js'

/** The documented shape of every failure: the exit code, one `Error (CODE): ...` line, no stack trace. */
function expectFailure(result: CliResult, exit: number, code: string): void {
  expect(result.code, result.stderr).to.equal(exit)
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('Error ('))
  expect(lines, result.stderr).to.have.length(1)
  expect(lines[0]).to.match(new RegExp(`^Error \\(${code}\\): \\S`))
  expect(result.stderr, 'no stack trace').not.to.match(/^\s+at /m)
}

/** With --json: exactly one JSON document on stdout, carrying error.code. */
function expectJsonFailure(result: CliResult, exit: number, code: string): void {
  expectFailure(result, exit, code)
  const body = JSON.parse(result.stdout) as { error: { code: string; message: string } }
  expect(body.error.code).to.equal(code)
  expect(body.error.message).to.be.a('string')
}

describe('e2e: errors', function () {
  this.timeout(60_000)
  let dir: string
  const write = (name: string, text: string): string => {
    const sub = join(dir, name)
    mkdirSync(sub, { recursive: true })
    writeFileSync(join(sub, 'gantry.config.json'), text)
    return sub
  }
  before(() => {
    dir = tempDir()
    write('ok', '{}')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('invalid JSON in the config: exit 2, CONFIG_INVALID', async () => {
    const cwd = write('badjson', '{ "environments": ')
    expectFailure(await runGantry(['env', 'list'], { cwd }), 2, 'CONFIG_INVALID')
    expectJsonFailure(await runGantry(['env', 'list', '--json'], { cwd }), 2, 'CONFIG_INVALID')
  })

  it('a wrong field type: exit 2, naming the path and what was expected', async () => {
    const cwd = write('badfield', JSON.stringify({ environments: { production: { server: { port: 'eighty' } } } }))
    const result = await runGantry(['env', 'show', 'production'], { cwd })
    expectFailure(result, 2, 'CONFIG_INVALID')
    expect(result.stderr).to.include('environments.production.server.port').and.include('expected')
    expectJsonFailure(await runGantry(['env', 'show', '--json'], { cwd }), 2, 'CONFIG_INVALID')
  })

  it('no config anywhere: exit 2, CONFIG_NOT_FOUND', async () => {
    const cwd = join(dir, 'empty')
    mkdirSync(cwd, { recursive: true })
    expectJsonFailure(await runGantry(['env', 'show', '--json', '--config', join(cwd, 'missing.json')], { cwd }), 2, 'CONFIG_NOT_FOUND')
  })

  it('an unknown environment (-e nope): exit 2, ENV_UNKNOWN', async () => {
    const cwd = join(dir, 'ok')
    expectFailure(await runGantry(['env', 'show', '-e', 'nope'], { cwd }), 2, 'ENV_UNKNOWN')
    expectJsonFailure(await runGantry(['env', 'check', '-e', 'nope', '--json'], { cwd }), 2, 'ENV_UNKNOWN')
  })

  it('an unknown flag: exit 2, one line, one JSON document with --json', async () => {
    const cwd = join(dir, 'ok')
    expectFailure(await runGantry(['env', 'list', '--bogus'], { cwd }), 2, 'INVALID_INPUT')
    expectJsonFailure(await runGantry(['env', 'list', '--bogus', '--json'], { cwd }), 2, 'INVALID_INPUT')
    expectJsonFailure(await runGantry(['init', '--database', 'oracle', '--json'], { cwd }), 2, 'INVALID_INPUT')
  })

  it('a bad flag or argument value says why, on one line', async () => {
    const cwd = join(dir, 'ok')
    const cases: Array<[string[], RegExp]> = [
      [['migrate', 'rollback', '--step', '0'], /--step: Expected an integer greater than or equal to 1 but received: 0\.$/],
      [['migrate', 'rollback', '--step', 'abc'], /--step: Expected an integer but received: abc\.$/],
      [['migrate', 'resolve'], /Missing 1 required arg: name: The migration/],
      [['migrate', 'resolve', 'x', '--applied', '--rolled-back'], /cannot also be provided/],
    ]
    for (const [args, reason] of cases) {
      const result = await runGantry(args, { cwd })
      expectFailure(result, 2, 'INVALID_INPUT')
      expect(result.stderr.split('\n')[0], args.join(' ')).to.match(reason)
    }
  })

  it('an unknown command: exit 2, one line, one JSON document with --json', async () => {
    const cwd = join(dir, 'ok')
    const human = await runGantry(['migrate', 'statux'], { cwd })
    expectFailure(human, 2, 'INVALID_INPUT')
    expect(human.stderr).to.include('Unknown command "migrate statux"').and.include('migrate status')
    expectJsonFailure(await runGantry(['migrate', 'statux', '--json'], { cwd }), 2, 'INVALID_INPUT')
  })
})
