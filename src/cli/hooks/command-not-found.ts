import type { Hook } from '@oclif/core'
import { GantryError } from '../../core/errors.js'
import { renderFailure } from '../failure.js'
import { closest } from '../suggest.js'

/**
 * An unknown command is a usage error like any other: one line, exit 2, and the error document on stdout
 * under --json (oclif's own handler ignores --json). Suggests the closest command ("did you mean"), else
 * the commands of the same topic.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const id = options.id.replaceAll(':', ' ')
  // Hidden commands (the completion scripts' `__complete`) are for machines: never suggested.
  const visible = options.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  renderFailure(new GantryError('INVALID_INPUT', `Unknown command "${id}".`, { hint: unknownCommandHint(id, visible) }), {
    json: (options.argv ?? []).includes('--json') || options.id === '--json',
    verbose: (options.argv ?? []).includes('--verbose'),
  })
}

/** `Did you mean …?` when one command is close to what was typed; else the topic's commands, else --help. */
export function unknownCommandHint(typed: string, commandIds: readonly string[]): string {
  const commands = commandIds.map((c) => c.replaceAll(':', ' '))
  const near = closest(typed, commands) ?? closest(typed, topicsOf(commands))
  if (near) return `Did you mean \`gantry ${near}\`? \`gantry ${near} --help\` shows how to use it.`
  const topic = typed.split(' ')[0] ?? ''
  const same = commands.filter((c) => c.split(' ')[0] === topic)
  return same.length ? `The ${topic} commands: ${same.join(', ')}.` : 'Run `gantry --help` to list the commands.'
}

/** The distinct first words of the commands: `gantry migrat` means the migrate topic. */
function topicsOf(commands: readonly string[]): string[] {
  return [...new Set(commands.map((c) => c.split(' ')[0] ?? c))]
}

export default hook
