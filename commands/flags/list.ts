import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { describeServe } from '../../src/cli/flags-output.js'
import { flagListSchema } from '../../src/core/flags/flags.schema.js'
import type { z } from 'zod'

export default class FlagsList extends AdminCommand<typeof FlagsList> {
  static override summary = "List the environment's feature flags: on or off, their rules, which are stale."
  static override description =
    'A temporary flag (the default) is stale once older than flags.staleAfter in gantry.config.json (default 30d): the code should stop asking for it, then `gantry flags delete` it. --stale lists only those. --json prints { data } with every rule.'
  static override examples = ['<%= config.bin %> flags list', '<%= config.bin %> flags list --stale -e production --json']
  static override flags = { stale: Flags.boolean({ summary: 'Only the flags due for removal.' }) }
  static override resultSchema = flagListSchema

  async run(): Promise<z.infer<typeof flagListSchema>> {
    const list = await this.call('flags.list', { stale: this.flags.stale })
    this.ui.table(
      list.data.map((f) => ({
        key: f.key,
        type: f.type,
        state: f.enabled ? 'on' : 'off',
        rules: f.rules.length === 0 ? `-> ${f.enabled ? f.defaultVariant : f.offVariant}` : f.rules.map((r) => describeServe(r.serve)).join('; '),
        stale: f.stale ? 'stale' : '',
      })),
      [
        ['key', 'KEY'],
        ['type', 'TYPE'],
        ['state', 'STATE'],
        ['rules', 'RULES'],
        ['stale', ''],
      ],
      { empty: this.flags.stale ? 'No stale flags.' : 'No feature flags yet: make one with `gantry flags create KEY --type boolean`.' },
    )
    return list
  }
}
