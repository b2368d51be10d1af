import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { parseWhenFlag } from '../../../src/cli/flags-input.js'
import { flagViewSchema, type FlagView } from '../../../src/core/flags/flags.schema.js'

export default class FlagsRuleAdd extends AdminCommand<typeof FlagsRuleAdd> {
  static override summary = 'Add a targeting rule to a flag: who it matches, and the variant it serves them.'
  static override description = [
    "--when is conditions joined by `and`: `role in [admin,operator]`, `email endsWith @example.com`, `emailDomain = example.com`, `plan not in [free]`, `appVersion semver>= 2.1.0`, `age >= 18`, `ip in cidr 10.0.0.0/8`, `segment beta-testers`. Attributes are the context's: userId, email, emailDomain, role, permissions, apiKeyId, ip, and any the app passes. Quote a value that holds spaces or commas with double quotes. No --when matches everyone.",
    'Rules are checked in order and the first that matches decides; --position puts the new one before the rule at that index (default: last). For a percentage of the matched users, add the rule and then `gantry flags rollout KEY --rule N`.',
  ].join('\n\n')
  static override examples = [
    "<%= config.bin %> flags rule add new-checkout --when 'role in [admin,operator]' --serve on",
    "<%= config.bin %> flags rule add new-checkout --when 'emailDomain = example.com and plan in [pro,team]' --serve on --position 0",
    "<%= config.bin %> flags rule add button-colour --when 'segment beta-testers' --serve green --description 'beta'",
  ]
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override flags = {
    when: Flags.string({ summary: 'Who the rule matches (default: everyone).' }),
    serve: Flags.string({ summary: 'The variant it serves.', required: true }),
    position: Flags.integer({ summary: 'Insert before the rule at this index (default: last).', min: 0 }),
    description: Flags.string({ summary: 'Why the rule is there.' }),
  }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const { when, serve, position, description } = this.flags
    const parsed = when === undefined ? { conditions: [], segments: [] } : parseWhenFlag(when)
    const flag = await this.call(
      'flags.add-rule',
      { key: this.args.key },
      { rule: { description: description ?? '', conditions: [...parsed.conditions], segments: [...parsed.segments], serve: { variant: serve } }, position },
    )
    this.ui.out(`Flag ${flag.key} has ${flag.rules.length} rule(s); \`gantry flags show ${flag.key}\` lists them.`)
    return flag
  }
}
