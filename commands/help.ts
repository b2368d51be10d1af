import { Args, Command, Flags, loadHelpClass } from '@oclif/core'
import { renderFailure } from '../src/cli/failure.js'
import { unknownCommandHint } from '../src/cli/hooks/command-not-found.js'
import { GantryError } from '../src/core/errors.js'

/**
 * `gantry help [COMMAND]`: oclif's help, with an unknown command answered as every other usage error is
 * (one line, exit 2, did-you-mean) instead of oclif's own error format.
 */
export default class Help extends Command {
  static override summary = 'Show help for gantry or one of its commands.'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help migrate latest']
  // Not a GantryCommand: --env, --config, --verbose and --json would do nothing here.
  static override strict = false
  static override args = {
    command: Args.string({ description: 'The command (or topic) to show help for, e.g. "migrate latest".', required: false }),
  }
  static override flags = {
    'nested-commands': Flags.boolean({ char: 'n', summary: 'Include all nested commands in the output.' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Help)
    const subject = this.argv.filter((a) => !a.startsWith('-'))
    const id = subject.join(':')
    if (id && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      const typed = subject.join(' ')
      throw new GantryError('INVALID_INPUT', `Unknown command "${typed}".`, { hint: unknownCommandHint(typed, this.config.commandIDs) })
    }
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config, { all: flags['nested-commands'] }).showHelp(subject)
  }

  override async catch(err: Error): Promise<void> {
    renderFailure(err, { json: false, verbose: false })
  }
}
