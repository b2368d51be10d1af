import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointSchema, type Endpoint } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksEnable extends AdminCommand<typeof WebhooksEnable> {
  static override summary = 'Switch a webhook endpoint back on.'
  static override description =
    'Whether it was switched off by hand or after failing for too long: its failure count starts again, and it acts for you from now on (you must hold the read permission of every type it sends, else it is refused: FORBIDDEN, exit 1). Deliveries that failed while it was off stay failed: `gantry webhooks replay` queues them again.'
  static override examples = ['<%= config.bin %> webhooks enable ep_3hQ9xK2mP1bW7cT4vN8sLd']
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override resultSchema = endpointSchema

  async run(): Promise<Endpoint> {
    const endpoint = await this.call('webhooks.enable', { id: this.args.id })
    this.ui.out(`Enabled webhook endpoint ${endpoint.id} (${endpoint.url}).`)
    return endpoint
  }
}
