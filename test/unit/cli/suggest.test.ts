import { expect } from 'chai'
import { asTyped, unknownCommandHint } from '../../../src/cli/hooks/command-not-found.js'
import { closest } from '../../../src/cli/suggest.js'
import { usageError, usageLine } from '../../../src/cli/usage.js'

describe('did you mean', () => {
  const commands = ['migrate:latest', 'migrate:status', 'migrate:rollback', 'users:list', 'users:delete', 'users:create', 'env:list']

  it('finds a typo within a third of its length in edits, and nothing further away', () => {
    expect(closest('limt', ['limit', 'role', 'cursor'])).to.equal('limit')
    expect(closest('lst', ['list', 'last'])).to.equal('list') // a tie goes to the first listed
    expect(closest('migrat latest', ['migrate latest', 'migrate status'])).to.equal('migrate latest')
    expect(closest('xyz', ['limit', 'role'])).to.equal(undefined)
    expect(closest('delete-everything', ['delete'])).to.equal(undefined)
  })

  it('an unknown command suggests the closest command, else the topic, else its topic list, else --help', () => {
    expect(unknownCommandHint('migrat latest', commands)).to.match(/^Did you mean `gantry migrate latest`\?/)
    expect(unknownCommandHint('users lst', commands)).to.match(/^Did you mean `gantry users list`\?/)
    expect(unknownCommandHint('migrat', commands)).to.match(/^Did you mean `gantry migrate`\?/)
    expect(unknownCommandHint('users frobnicate', commands)).to.equal('The users commands: users list, users delete, users create.')
    expect(unknownCommandHint('nosuch', commands)).to.equal('Run `gantry --help` to list the commands.')
  })

  it('an unknown command is shown as typed: oclif joins its words with `:` and cuts the rest by counting them', () => {
    // What oclif passes for `gantry webhooks create http://127.0.0.1:23382/hook --json` (checked with its normalizeArgv).
    const typed = ['webhooks', 'create', 'http://127.0.0.1:23382/hook', '--json']
    expect(asTyped('webhooks:create:http://127.0.0.1:23382/hook', [], typed)).to.deep.equal({
      command: 'webhooks create http://127.0.0.1:23382/hook',
      rest: ['--json'],
    })
    expect(asTyped('users:lst', ['--verbose'], ['users', 'lst', '--verbose'])).to.deep.equal({ command: 'users lst', rest: ['--verbose'] })
    // Run with some other argv than the process's: oclif's own view.
    expect(asTyped('users:lst', ['--json'], ['migrate', 'latest'])).to.deep.equal({ command: 'users lst', rest: ['--json'] })
  })

  it('a usage error names the command, its usage line and the flag meant', () => {
    const command = { id: 'users:delete', args: { email: { required: true } }, flags: { force: {}, yes: {}, json: {} } } as never
    expect(usageLine(command)).to.equal('gantry users delete EMAIL [flags]')
    const typo = Object.assign(new Error('Nonexistent flag: --forse'), { flags: ['--forse'] })
    const failure = usageError(typo, command)
    expect(failure.code).to.equal('INVALID_INPUT')
    expect(failure.hint).to.equal('Did you mean --force? Its help: gantry users delete --help')
    expect(failure.details?.usage).to.equal('gantry users delete EMAIL [flags]')
    expect(usageError(new Error('Missing 1 required arg:\nemail'), command).hint).to.equal('gantry users delete --help')
  })
})
