import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointSchema, type Endpoint } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksDisable extends AdminCommand<typeof WebhooksDisable> {
  static override summary = 'Switch a webhook endpoint off: nothing is sent to it until it is on again.'
  static override description =
    'Its pending deliveries fail when they come due. The endpoint, its secret and its history stay; `gantry webhooks enable` undoes it.'
  static override examples = ['<%= config.bin %> webhooks disable ep_3hQ9xK2mP1bW7cT4vN8sLd']
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override resultSchema = endpointSchema

  async run(): Promise<Endpoint> {
    const endpoint = await this.call('webhooks.disable', { id: this.args.id })
    this.ui.out(`Disabled webhook endpoint ${endpoint.id} (${endpoint.url}).`)
    return endpoint
  }
}
