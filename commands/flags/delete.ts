import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { flagViewSchema, type FlagView } from '../../src/core/flags/flags.schema.js'

export default class FlagsDelete extends AdminCommand<typeof FlagsDelete> {
  static override summary = 'Delete a feature flag: code that still asks for it gets the default it passes.'
  static override description = 'Remove the flag from the code first. In a protected environment it needs --force (or the environment name typed at a prompt).'
  static override examples = ['<%= config.bin %> flags delete new-checkout', '<%= config.bin %> flags delete new-checkout -e production --force']
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override flags = { force: sharedFlags.force, yes: sharedFlags.yes }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const flag = await this.call('flags.delete', { key: this.args.key })
    this.ui.out(`Deleted flag ${flag.key}.`)
    return flag
  }
}
