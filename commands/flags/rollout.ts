import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { parseSplit } from '../../src/cli/flags-input.js'
import { describeServe } from '../../src/cli/flags-output.js'
import { GantryError } from '../../src/core/errors.js'
import { flagViewSchema, type FlagView } from '../../src/core/flags/flags.schema.js'

export default class FlagsRollout extends AdminCommand<typeof FlagsRollout> {
  static override summary = 'Roll a flag out to a percentage of users, sticky per user.'
  static override description = [
    'Each user is hashed (MurmurHash3 of the flag key and the user id, or the --by attribute) into one of 100,000 buckets; each variant owns a contiguous range of them in its order. Raising a boolean rollout from 10% to 20% keeps the first 10% in. With several variants, a variant keeps everyone it had when it grows and the variants before it do not.',
    'It changes the rollout rule --rule names, else the last rule that rolls out to everyone, else adds one after the other rules. A context without the --by attribute gets --fallback (default: the off variant).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> flags rollout new-checkout --percent 25',
    '<%= config.bin %> flags rollout new-checkout --percent 50 --by orgId',
    '<%= config.bin %> flags rollout button-colour --split blue=80,green=20',
  ]
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override flags = {
    percent: Flags.string({ summary: 'A boolean flag: the share that gets on (up to three decimals).', exclusive: ['split'] }),
    split: Flags.string({ summary: 'Shares per variant adding up to 100: name=percent (repeatable or comma-separated).', multiple: true, delimiter: ',' }),
    by: Flags.string({ summary: 'The context attribute users are bucketed by (default userId).' }),
    fallback: Flags.string({ summary: 'The variant for a context without that attribute.' }),
    rule: Flags.integer({ summary: 'The index of the rule to change (`flags show`).', min: 0 }),
  }
  static override resultSchema = flagViewSchema

  async run(): Promise<FlagView> {
    const { percent, split, by, fallback, rule } = this.flags
    if (percent === undefined && split === undefined)
      throw new GantryError('MISSING_INPUT', 'Say the shares: --percent 25 (a boolean flag) or --split blue=80,green=20.')
    const share = Number(percent)
    if (percent !== undefined && (!Number.isFinite(share) || percent.trim() === ''))
      throw new GantryError('INVALID_INPUT', `--percent takes a number from 0 to 100; got "${percent.slice(0, 32)}".`)
    const shares =
      percent === undefined
        ? parseSplit(split ?? [])
        : [
            { variant: 'on', percent: share },
            { variant: 'off', percent: 100 - share },
          ]
    const flag = await this.call('flags.rollout', { key: this.args.key }, { split: shares, by, fallback, rule })
    const rollout = flag.rules.findLast((r) => 'rollout' in r.serve)
    this.ui.out(
      `Flag ${flag.key}: ${rollout ? describeServe(rollout.serve) : 'rolled out'}.${flag.enabled ? '' : ' It is off: `gantry flags set ' + flag.key + ' --on` starts the rollout.'}`,
    )
    return flag
  }
}
