import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { flagViewSchema, type FlagView } from '../../src/core/flags/flags.schema.js'

export default class FlagsSet extends AdminCommand<typeof FlagsSet> {
  static override summary = 'Switch a flag on or off, or change its description, default or off variant, or lifetime.'
  static override description = 'Only the given fields change. Every running server and app serves the change within a second (at once with Redis).'
  static override examples = [
    '<%= config.bin %> flags set new-checkout --on',
    '<%= config.bin %> flags set new-checkout --off -e production',
    '<%= config.bin %> flags set button-colour --default green --permanent',
  ]
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override flags = {
    on: Flags.boolean({ summary: 'Switch it on: rules and the default variant decide.', exclusive: ['off'] }),
    off: Flags.boolean({ summary: 'Switch it off: everyone gets the off variant.', exclusive: ['on'] }),
    description: Flags.string({ summary: 'What the flag is for.' }),
    default: Flags.string({ summary: 'The variant served when on and no rule matches.' }),
    'off-variant': Flags.string({ summary: 'The variant served while off.' }),
    permanent: Flags.boolean({ summary: 'Never show it as stale.', exclusive: ['temporary'] }),
    temporary: Flags.boolean({ summary: 'Show it as stale after flags.staleAfter.', exclusive: ['permanent'] }),
  }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const { on, off, description, default: defaultVariant, permanent, temporary } = this.flags
    const flag = await this.call(
      'flags.update',
      { key: this.args.key },
      {
        enabled: on ? true : off ? false : undefined,
        description,
        defaultVariant,
        offVariant: this.flags['off-variant'],
        lifetime: permanent ? 'permanent' : temporary ? 'temporary' : undefined,
      },
    )
    this.ui.out(`Flag ${flag.key} is ${flag.enabled ? 'on' : 'off'}; every server has the change within a second.`)
    return flag
  }
}
