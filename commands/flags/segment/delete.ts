import { Args } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { sharedFlags } from '../../../src/cli/flags.js'
import { segmentViewSchema, type SegmentView } from '../../../src/core/flags/flags.schema.js'

export default class FlagsSegmentDelete extends AdminCommand<typeof FlagsSegmentDelete> {
  static override summary = 'Delete a segment that no rule names.'
  static override examples = ['<%= config.bin %> flags segment delete beta-testers']
  static override args = { name: Args.string({ description: 'The segment name.', required: true }) }
  static override flags = { force: sharedFlags.force, yes: sharedFlags.yes }
  static override resultSchema = segmentViewSchema

  async run(): Promise<SegmentView> {
    const segment = await this.call('flags.delete-segment', { name: this.args.name })
    this.ui.out(`Deleted segment ${segment.name}.`)
    return segment
  }
}
