import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { enumFlag } from '../../src/cli/flags.js'
import { DELIVERY_STATUSES, deliveryPageSchema, type DeliveryPage } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksDeliveries extends AdminCommand<typeof WebhooksDeliveries> {
  static override summary = "List a webhook endpoint's deliveries, newest first, each with its last attempt."
  static override description =
    'A delivery is one event for one endpoint, tried at once, then after 5s, 5m, 30m, 2h, 5h, 10h and 10h until the receiver answers 2xx. LAST is the last answer (an HTTP status, or why there was none) and LATENCY its time; --json adds the start of a failed answer. --since takes an ISO time or a duration back from now (24h). --json prints { data, nextCursor }; pass nextCursor back with --cursor for the next page.'
  static override examples = [
    '<%= config.bin %> webhooks deliveries ep_3hQ9xK2mP1bW7cT4vN8sLd',
    '<%= config.bin %> webhooks deliveries ep_3hQ9xK2mP1bW7cT4vN8sLd --status failed --since 24h --json',
  ]
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override flags = {
    status: enumFlag(DELIVERY_STATUSES, 'Only deliveries in this state.'),
    since: Flags.string({ summary: 'Created from this time (ISO) or this long ago (24h).' }),
    limit: Flags.integer({ summary: 'Deliveries per page (at most 500).', default: 50, min: 1, max: 500 }),
    cursor: Flags.string({ summary: 'Where the previous page ended (its nextCursor).' }),
  }
  static override resultSchema = deliveryPageSchema

  async run(): Promise<DeliveryPage> {
    const { status, since, limit, cursor } = this.flags
    const page = await this.call('webhooks.deliveries', { id: this.args.id }, { status, since, limit, cursor })
    this.ui.table(
      page.data.map((d) => ({
        ...d,
        last: d.lastStatus ?? d.lastError,
        latency: d.lastAttempt ? `${d.lastAttempt.latencyMs} ms` : null,
      })),
      [
        ['id', 'ID'],
        ['eventType', 'EVENT'],
        ['status', 'STATUS'],
        ['attempts', 'ATTEMPTS'],
        ['last', 'LAST'],
        ['latency', 'LATENCY'],
        ['nextAttemptAt', 'NEXT'],
        ['createdAt', 'CREATED'],
      ],
      { empty: status !== undefined || since !== undefined || cursor !== undefined ? 'No deliveries match.' : 'No deliveries to this endpoint yet.' },
    )
    this.nextPageHint(page.nextCursor)
    return page
  }
}
