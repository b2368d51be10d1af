import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointSchema, type Endpoint } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksUpdate extends AdminCommand<typeof WebhooksUpdate> {
  static override summary = "Change a webhook endpoint's URL, event types or description."
  static override description =
    'New --events replace the old ones. The endpoint then acts for you: you must hold the read permission of every type it sends, old ones included (else it is refused: FORBIDDEN, exit 1), and it sends only what you may read. The secret stays; `gantry webhooks rotate-secret` changes it.'
  static override examples = [
    "<%= config.bin %> webhooks update ep_3hQ9xK2mP1bW7cT4vN8sLd --events 'users.*' --events roles.created",
    '<%= config.bin %> webhooks update ep_3hQ9xK2mP1bW7cT4vN8sLd --endpoint-url https://crm.example.com/v2/hooks',
  ]
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override flags = {
    // Not --url: every admin command's --url names the server to send the call to.
    'endpoint-url': Flags.string({ summary: 'New http or https URL of the endpoint.' }),
    events: Flags.string({
      summary: 'The event types or wildcards to send from now on (repeatable, or comma-separated).',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
    }),
    description: Flags.string({ summary: 'New description.' }),
  }
  static override resultSchema = endpointSchema

  async run(): Promise<Endpoint> {
    const { 'endpoint-url': url, events, description } = this.flags
    const endpoint = await this.call('webhooks.update', { id: this.args.id }, { url, eventTypes: events, description })
    this.ui.out(`Updated webhook endpoint ${endpoint.id}: ${endpoint.url} (events ${endpoint.eventTypes.join(', ')}).`)
    return endpoint
  }
}
