import type { Hook } from '@oclif/core'
import { GantryError } from '../../core/errors.js'
import { renderFailure } from '../failure.js'

/**
 * An unknown command is a usage error like any other: one line, exit 2, and the error document on stdout
 * under --json (oclif's own handler ignores --json). Suggests the commands of the same topic.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const id = options.id.replaceAll(':', ' ')
  const topic = id.split(' ')[0] ?? ''
  const near = options.config.commandIDs.filter((c) => c.split(':')[0] === topic).map((c) => c.replaceAll(':', ' '))
  const hint = near.length ? `The ${topic} commands: ${near.join(', ')}.` : 'Run `gantry --help` to list the commands.'
  const argv = options.argv ?? []
  renderFailure(new GantryError('INVALID_INPUT', `Unknown command "${id}".`, { hint }), {
    json: argv.includes('--json') || options.id === '--json',
    verbose: argv.includes('--verbose'),
  })
}

export default hook
