import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointListSchema, type EndpointList } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksList extends AdminCommand<typeof WebhooksList> {
  static override summary = 'List webhook endpoints; never a secret.'
  static override description =
    'In creation order, switched-off endpoints included: STATE says why one is off (by hand, or failing since a time). An environment holds at most 100 endpoints, so there is one page. --json prints { data }.'
  static override examples = ['<%= config.bin %> webhooks list', '<%= config.bin %> webhooks list -e production --json']
  static override resultSchema = endpointListSchema

  async run(): Promise<EndpointList> {
    const list = await this.call('webhooks.list')
    this.ui.table(
      list.data.map((e) => ({ ...e, events: e.eventTypes.join(','), state: e.enabled ? 'enabled' : `off: ${e.disabledReason ?? 'by hand'}` })),
      [
        ['id', 'ID'],
        ['url', 'URL'],
        ['events', 'EVENTS'],
        ['state', 'STATE'],
        ['failingSince', 'FAILING SINCE'],
      ],
      { empty: 'No webhook endpoints yet: make one with `gantry webhooks create`.' },
    )
    return list
  }
}
