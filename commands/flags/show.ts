import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { printFlag } from '../../src/cli/flags-output.js'
import { flagViewSchema, type FlagView } from '../../src/core/flags/flags.schema.js'

export default class FlagsShow extends AdminCommand<typeof FlagsShow> {
  static override summary = 'Show one feature flag: variants, default and off variant, its rules in order (numbered for `flags rule remove`).'
  static override examples = ['<%= config.bin %> flags show new-checkout', '<%= config.bin %> flags show new-checkout --remote --json']
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const flag = await this.call('flags.get', { key: this.args.key })
    printFlag(this.ui, flag)
    return flag
  }
}
