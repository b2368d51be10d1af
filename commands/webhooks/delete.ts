import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { endpointSchema, type Endpoint } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksDelete extends AdminCommand<typeof WebhooksDelete> {
  static override summary = 'Delete a webhook endpoint and its delivery history.'
  static override description =
    'Its pending deliveries are never sent. At a terminal it asks first (--yes skips that); in a protected environment it needs --force (or the environment name typed at a prompt). `gantry webhooks disable` keeps the endpoint and its history.'
  static override examples = [
    '<%= config.bin %> webhooks delete ep_3hQ9xK2mP1bW7cT4vN8sLd',
    '<%= config.bin %> webhooks delete ep_3hQ9xK2mP1bW7cT4vN8sLd -e production --force',
  ]
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override flags = { force: sharedFlags.force, yes: sharedFlags.yes }
  static override resultSchema = endpointSchema

  async run(): Promise<Endpoint> {
    const endpoint = await this.call('webhooks.delete', { id: this.args.id })
    this.ui.out(`Deleted webhook endpoint ${endpoint.id} (${endpoint.url}).`)
    return endpoint
  }
}
