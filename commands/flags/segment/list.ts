import { AdminCommand } from '../../../src/cli/admin-command.js'
import { segmentListSchema } from '../../../src/core/flags/flags.schema.js'
import { formatWhen } from '../../../src/core/flags/condition-text.js'
import type { z } from 'zod'

export default class FlagsSegmentList extends AdminCommand<typeof FlagsSegmentList> {
  static override summary = 'List the segments, their conditions and the flags that use them.'
  static override examples = ['<%= config.bin %> flags segment list', '<%= config.bin %> flags segment list --json']
  static override resultSchema = segmentListSchema

  async run(): Promise<z.infer<typeof segmentListSchema>> {
    const list = await this.call('flags.segments')
    this.ui.table(
      list.data.map((s) => ({ name: s.name, when: formatWhen(s.conditions, []), usedBy: s.usedBy.join(', ') })),
      [
        ['name', 'NAME'],
        ['when', 'WHEN'],
        ['usedBy', 'USED BY'],
      ],
      { empty: 'No segments yet: make one with `gantry flags segment set NAME --when ...`.' },
    )
    return list
  }
}
