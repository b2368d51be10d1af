import { Command } from '@oclif/core'
import { complete, workspaceEnvironments, type CompletableCommand } from '../src/cli/complete.js'

/**
 * What the scripts of `gantry completion` call on each TAB: the words after `gantry` (the last one being
 * typed) in, the candidates out, one per line. A plain oclif command: it must answer something at once,
 * wherever it runs, and never print an error in the middle of the user's command line.
 */
export default class Complete extends Command {
  static override hidden = true
  static override strict = false
  static override summary = 'Completion candidates for the words typed (used by the `gantry completion` scripts).'

  async run(): Promise<void> {
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv
    const candidates = complete(words.length > 0 ? words : [''], {
      commands: this.config.commands as unknown as CompletableCommand[],
      environments: () => workspaceEnvironments(words, process.cwd()),
    })
    if (candidates.length > 0) process.stdout.write(`${candidates.join('\n')}\n`)
  }
}
