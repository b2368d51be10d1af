import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { removeRuleResultSchema } from '../../src/core/ratelimits/ratelimits.schema.js'

export default class RatelimitRemove extends AdminCommand<typeof RatelimitRemove> {
  static override summary = 'Remove a stored rate-limit rule, its overrides and its counts.'
  static override description =
    'Removing "default" brings back the environment default from the config. At a terminal it asks first (--yes skips that); in a protected environment it needs --force (or the environment name typed at a prompt). To stop a rule for a while, `gantry ratelimit set NAME --disable` keeps it.'
  static override examples = ['<%= config.bin %> ratelimit remove api', '<%= config.bin %> ratelimit remove api -e production --force --json']
  static override args = { name: Args.string({ description: 'The rule to remove.', required: true }) }
  static override flags = { force: sharedFlags.force, yes: sharedFlags.yes }
  static override resultSchema = removeRuleResultSchema

  async run(): Promise<{ removed: string; version: number }> {
    const result = await this.call('ratelimits.remove', { name: this.args.name })
    this.ui.out(`Removed rule ${result.removed}. Every server stops applying it within a second.`)
    return result
  }
}
