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
  const { command, rest } = asTyped(options.id, options.argv ?? [], process.argv.slice(2))
  // Hidden commands (the completion scripts' `__complete`) are for machines: never suggested.
  const visible = options.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  renderFailure(new GantryError('INVALID_INPUT', `Unknown command "${command}".`, { hint: unknownCommandHint(command, visible) }), {
    json: rest.includes('--json') || options.id === '--json',
    verbose: rest.includes('--verbose'),
  })
}

/**
 * The unknown command as the user typed it, and the words after it. oclif joins the words it took for a
 * command id with `:` and cuts the rest of argv by counting the `:`s, so a word with a colon of its own
 * (a URL) comes back split (`http //127.0.0.1 23382/hook`) and the words after it lost. The typed argv
 * (the process's, which oclif read) has them as they were; the id and oclif's rest are the fallback when
 * that argv does not start with the id (a hook run by some other caller).
 */
export function asTyped(id: string, oclifRest: readonly string[], typed: readonly string[]): { command: string; rest: readonly string[] } {
  for (let words = 1; words <= typed.length; words += 1) {
    if (typed.slice(0, words).join(':') === id) return { command: typed.slice(0, words).join(' '), rest: typed.slice(words) }
  }
  return { command: id.replaceAll(':', ' '), rest: oclifRest }
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
