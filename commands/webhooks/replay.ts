import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { replayResultSchema } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksReplay extends AdminCommand<typeof WebhooksReplay> {
  static override summary = 'Queue again every failed delivery of a webhook endpoint since a time.'
  static override description =
    'After an outage of the receiver: each failed delivery created since --since (an ISO time or a duration back from now; default 1h) gets one more attempt, now, with its own webhook-id. Succeeded, skipped and pending deliveries are left alone. A switched-off endpoint fails them again: `gantry webhooks enable` it first.'
  static override examples = [
    '<%= config.bin %> webhooks replay ep_3hQ9xK2mP1bW7cT4vN8sLd',
    '<%= config.bin %> webhooks replay ep_3hQ9xK2mP1bW7cT4vN8sLd --since 2026-01-01T09:00:00Z --json',
  ]
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override flags = {
    since: Flags.string({ summary: 'Failed deliveries created from this time (ISO) or this long ago (24h).', default: '1h' }),
  }
  static override resultSchema = replayResultSchema

  async run(): Promise<{ requeued: number }> {
    const result = await this.call('webhooks.replay', { id: this.args.id }, { since: this.flags.since })
    this.ui.out(`Queued ${result.requeued} failed deliver${result.requeued === 1 ? 'y' : 'ies'} of ${this.args.id} again.`)
    return result
  }
}
