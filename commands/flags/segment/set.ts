import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { GantryError } from '../../../src/core/errors.js'
import { segmentViewSchema, type SegmentView } from '../../../src/core/flags/flags.schema.js'
import { parseWhenFlag } from '../../../src/cli/flags-input.js'

export default class FlagsSegmentSet extends AdminCommand<typeof FlagsSegmentSet> {
  static override summary = 'Create a segment, or replace its conditions: a named set of conditions any flag rule can reuse (`segment NAME`).'
  static override description = 'The conditions are written as for `flags rule add --when`. Every rule naming the segment follows the change within a second.'
  static override examples = [
    "<%= config.bin %> flags segment set beta-testers --when 'emailDomain in [example.com,example.org]'",
    "<%= config.bin %> flags segment set internal --when 'ip in cidr [10.0.0.0/8, 192.168.0.0/16]' --description 'office networks'",
  ]
  static override args = { name: Args.string({ description: 'The segment name.', required: true }) }
  static override flags = {
    when: Flags.string({ summary: 'Who the segment holds.', required: true }),
    description: Flags.string({ summary: 'What the segment is.' }),
  }
  static override resultSchema = segmentViewSchema

  async run(): Promise<SegmentView> {
    const parsed = parseWhenFlag(this.flags.when)
    if (parsed.segments.length > 0) throw new GantryError('INVALID_INPUT', '--when: a segment is made of conditions; it cannot name another segment.')
    const segment = await this.call('flags.set-segment', { name: this.args.name }, { description: this.flags.description, conditions: [...parsed.conditions] })
    this.ui.out(`Segment ${segment.name} saved${segment.usedBy.length > 0 ? `; used by ${segment.usedBy.join(', ')}` : ''}.`)
    return segment
  }
}
