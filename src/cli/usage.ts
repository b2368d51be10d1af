import type { Command } from '@oclif/core'
import { GantryError } from '../core/errors.js'
import { parseErrorLine } from './failure.js'
import { closest } from './suggest.js'

/** What a usage error needs to know of the command it is about. */
export interface CommandShape {
  readonly id: string
  readonly args?: Command.Class['args']
  readonly flags: Readonly<Record<string, unknown>>
}

/**
 * A parse error of oclif's (missing argument, unknown or bad flag) as Gantry's usage error: one line, and a
 * hint that names this command's help, with the flag meant when an unknown one is a typo of it.
 */
export function usageError(err: Error & { flags?: unknown }, command: CommandShape): GantryError {
  const help = `gantry ${command.id.replaceAll(':', ' ')} --help`
  const typos = Array.isArray(err.flags) ? (err.flags as string[]) : []
  const meant = typos.map((typed) => closest(typed.replace(/^-+/, '').split('=')[0] ?? '', Object.keys(command.flags))).find(Boolean)
  const hint = meant ? `Did you mean --${meant}? Its help: ${help}` : help
  return new GantryError('INVALID_INPUT', parseErrorLine(err.message), { hint, details: { usage: usageLine(command) }, cause: err })
}

/** `gantry users delete EMAIL [flags]`: the command, its arguments (optional ones bracketed), then flags. */
export function usageLine(command: CommandShape): string {
  const args = Object.entries(command.args ?? {}).map(([name, arg]) => (arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
  return ['gantry', command.id.replaceAll(':', ' '), ...args, '[flags]'].join(' ')
}
