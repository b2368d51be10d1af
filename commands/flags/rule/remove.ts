import { Args } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { flagViewSchema, type FlagView } from '../../../src/core/flags/flags.schema.js'

export default class FlagsRuleRemove extends AdminCommand<typeof FlagsRuleRemove> {
  static override summary = "Remove one of a flag's rules, by the index `flags show` gives it."
  static override examples = ['<%= config.bin %> flags rule remove new-checkout 0']
  static override args = {
    key: Args.string({ description: 'The flag key.', required: true }),
    index: Args.integer({ description: 'The rule index (0 is the first).', required: true, min: 0 }),
  }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const flag = await this.call('flags.remove-rule', { key: this.args.key, index: this.args.index })
    this.ui.out(`Flag ${flag.key} has ${flag.rules.length} rule(s) left.`)
    return flag
  }
}
