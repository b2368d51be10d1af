import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { deliverySchema, type Delivery } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksRedeliver extends AdminCommand<typeof WebhooksRedeliver> {
  static override summary = 'Queue one more attempt of a webhook delivery, now.'
  static override description =
    'Whatever its state: the job worker (`gantry serve` runs one) sends it once, at once, with the same webhook-id, so a receiver that already has it can tell. If that attempt fails too, it is recorded and not retried.'
  static override examples = ['<%= config.bin %> webhooks redeliver 4211', '<%= config.bin %> webhooks redeliver 4211 --json']
  static override args = {
    delivery: Args.string({ description: 'The delivery id (see `gantry webhooks deliveries ID`).', required: true }),
  }
  static override resultSchema = deliverySchema

  async run(): Promise<Delivery> {
    const delivery = await this.call('webhooks.redeliver', { deliveryId: this.args.delivery })
    this.ui.out(`Queued delivery ${delivery.id} (${delivery.eventType} to ${delivery.endpointId}) again.`)
    return delivery
  }
}
