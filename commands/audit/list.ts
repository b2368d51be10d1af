import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { auditPageSchema, type AuditPage } from '../../src/core/audit/audit.schema.js'

export default class AuditList extends AdminCommand<typeof AuditList> {
  static override summary = 'List audit log entries, newest first.'
  static override description =
    'Every change through any door is recorded: who (user, API key, or local:<os user>@<host>), what, target, before/after, IP, when. --since and --until take an ISO time or a duration back from now (90s, 30m, 24h, 7d). --json prints { data, nextCursor }.'
  static override examples = [
    '<%= config.bin %> audit list --since 24h',
    '<%= config.bin %> audit list --action users.delete --json',
    '<%= config.bin %> audit list --actor "local:ci@runner-1" --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z',
    "<%= config.bin %> audit list --actor 'local:*' --since 24h",
  ]
  static override flags = {
    actor: Flags.string({ summary: 'Only entries by this actor; * stands for any run of characters (local:*).' }),
    action: Flags.string({ summary: 'Only this action, e.g. users.create.' }),
    since: Flags.string({ summary: 'From this time (ISO) or this long ago (24h).' }),
    until: Flags.string({ summary: 'Before this time (ISO) or this long ago.' }),
    limit: Flags.integer({ summary: 'Entries per page (at most 500).', default: 50, min: 1, max: 500 }),
    cursor: Flags.string({ summary: 'Where the previous page ended (its nextCursor).' }),
  }
  static override resultSchema = auditPageSchema

  async run(): Promise<AuditPage> {
    const { actor, action, since, until, limit, cursor } = this.flags
    const page = await this.call('audit.list', { actor, action, since, until, limit, cursor })
    this.ui.table(
      page.data.map((e) => ({ ...e, target: `${e.targetType}:${e.targetId}` })),
      [
        ['at', 'AT'],
        ['actor', 'ACTOR'],
        ['action', 'ACTION'],
        ['target', 'TARGET'],
        ['ip', 'IP'],
      ],
      { empty: 'No audit entries match.' },
    )
    this.nextPageHint(page.nextCursor)
    return page
  }
}
