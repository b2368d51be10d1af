import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { enumFlag } from '../../src/cli/flags.js'
import { parseVariants } from '../../src/cli/flags-input.js'
import { flagTypeSchema, flagViewSchema, type FlagView } from '../../src/core/flags/flags.schema.js'

export default class FlagsCreate extends AdminCommand<typeof FlagsCreate> {
  static override summary = 'Create a feature flag; it starts off unless --on.'
  static override description = [
    'A boolean flag gets the variants on (true) and off (false): switched on it serves on, switched off it serves off. Another type names its variants with --variant name=value (repeatable): text for a string flag, a number, or JSON; its default and off variant are the first unless --default / --off-variant name others.',
    'Flags are temporary by default (they show as stale after flags.staleAfter, a reminder to remove them); --permanent for an operational switch that stays.',
  ].join('\n\n')
  static override examples = [
    "<%= config.bin %> flags create new-checkout --type boolean --description 'The one-page checkout'",
    '<%= config.bin %> flags create button-colour --type string --variant blue=#0000ff --variant green=#00ff00 --default blue',
    '<%= config.bin %> flags create search-timeout --type number --variant short=200 --variant long=800 --permanent --on',
  ]
  static override args = { key: Args.string({ description: 'The flag key: letters, digits, ".", "_" and "-".', required: true }) }
  static override flags = {
    type: enumFlag(flagTypeSchema, 'What the flag serves.'),
    description: Flags.string({ summary: 'What the flag is for.' }),
    variant: Flags.string({ summary: 'A variant as name=value (repeatable).', multiple: true }),
    default: Flags.string({ summary: 'The variant served when on and no rule matches (default: on, or the first).' }),
    'off-variant': Flags.string({ summary: 'The variant served while off (default: off, or the first).' }),
    on: Flags.boolean({ summary: 'Switch it on at once.' }),
    permanent: Flags.boolean({ summary: 'Never show it as stale.' }),
  }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const { type = 'boolean', description, variant, default: defaultVariant, on, permanent } = this.flags
    const flag = await this.call('flags.create', {
      key: this.args.key,
      type,
      description,
      variants: variant === undefined ? undefined : parseVariants(type, variant),
      defaultVariant,
      offVariant: this.flags['off-variant'],
      enabled: on,
      lifetime: permanent ? 'permanent' : 'temporary',
    })
    this.ui.out(`Created ${flag.type} flag ${flag.key} (${flag.enabled ? 'on' : 'off'}); every server has it within a second.`)
    return flag
  }
}
