import { expect } from 'chai'
import { cliHint, nextPageCommand } from '../../../src/cli/hints.js'
import { responseError } from '../../../src/client/http-errors.js'
import { GantryError, inputProblem } from '../../../src/core/errors.js'
import { toProblem } from '../../../src/server/problem.js'

/**
 * Core errors name fields and a reason; each door words the hint. The same error read locally, over
 * HTTP, and by the remote CLI from that HTTP answer: flags in the CLI both ways, body fields over HTTP.
 */
describe('hints: one core error, worded by each door', () => {
  const cases: Array<{ err: GantryError; cli: string; http: string }> = [
    {
      err: new GantryError('MISSING_INPUT', 'A password is needed.', { details: inputProblem(['password', 'generatePassword'], 'password-missing') }),
      cli: 'Pipe one with --password-stdin, or pass --generate-password.',
      http: 'Send "password", or "generatePassword": true.',
    },
    {
      err: new GantryError('INVALID_INPUT', 'Rule "a" counts by ip.', {
        hint: 'Name a rule keyed on user, or none.',
        details: inputProblem(['rule'], 'rule-key-mismatch', { subjectType: 'user' }),
      }),
      cli: 'Pass --rule NAME of a rule keyed on user, or leave --rule out.',
      http: 'Send a "rule" keyed on user, or "*".',
    },
    {
      err: new GantryError('INVALID_INPUT', 'There is no rule "x" yet.', { details: inputProblem(['limit', 'window'], 'rule-incomplete') }),
      cli: 'e.g. gantry ratelimit set api --match "* /api/*" --limit 100 --window 1m',
      http: 'Send "limit", "window" in the body, e.g. {"match": "* /api/*", "limit": 100, "window": "1m"}.',
    },
  ]
  const at = { method: 'PUT', url: 'https://gantry.test/api/v1/admin/x' }

  for (const { err, cli, http } of cases) {
    it(`${err.code}:${String(err.details?.reason)}`, () => {
      expect(cliHint(err)).to.equal(cli)
      const problem = toProblem(err, 'r-1', '/api/v1/admin/x')
      expect(problem.hint).to.equal(http)
      expect(problem.input).to.deep.include({ fields: err.details?.fields, reason: err.details?.reason })
      const remote = responseError(problem.status, '', JSON.stringify(problem), {}, at)
      expect(cliHint(remote)).to.equal(cli)
    })
  }

  it("without an input problem: the error's own hint, else the CLI's default for the code; a flag-free core catalog", () => {
    expect(cliHint(new GantryError('FILE_EXISTS', 'x exists.', { hint: 'Pick another name.' }))).to.equal('Pick another name.')
    expect(cliHint(new GantryError('FILE_EXISTS', 'x exists.'))).to.equal('Pass --force to overwrite it.')
    expect(new GantryError('FILE_EXISTS', 'x exists.').hint).to.equal(undefined)
    expect(toProblem(new GantryError('USER_EXISTS', 'a@x exists.'), 'r-2', '/api/v1/admin/users').input).to.equal(undefined)
  })
})

describe('hints: the next page', () => {
  it('is the command the user ran, every flag kept, its cursor replaced, quoted for the shell', () => {
    expect(nextPageCommand('gantry users list', ['--role', 'viewer', '--limit', '2'], 'abc')).to.equal('gantry users list --role viewer --limit 2 --cursor abc')
    expect(nextPageCommand('gantry users list', ['--limit=2', '--cursor', 'old', '-e', 'staging'], 'new')).to.equal(
      'gantry users list --limit=2 -e staging --cursor new',
    )
    expect(nextPageCommand('gantry audit list', ['--cursor=old', '--actor', "local:o'brien@host 1"], 'n')).to.equal(
      "gantry audit list --actor 'local:o'\\''brien@host 1' --cursor n",
    )
  })
})
