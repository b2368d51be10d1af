import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointSchema, type Endpoint } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksShow extends AdminCommand<typeof WebhooksShow> {
  static override summary = 'Show one webhook endpoint: URL, event types, state, failures, rotation; never its secret.'
  static override examples = [
    '<%= config.bin %> webhooks show ep_3hQ9xK2mP1bW7cT4vN8sLd',
    '<%= config.bin %> webhooks show ep_3hQ9xK2mP1bW7cT4vN8sLd --remote --json',
  ]
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override resultSchema = endpointSchema

  async run(): Promise<Endpoint> {
    const endpoint = await this.call('webhooks.get', { id: this.args.id })
    this.ui.fields(endpoint)
    return endpoint
  }
}
