import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointWithSecretSchema, type EndpointWithSecret } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksCreate extends AdminCommand<typeof WebhooksCreate> {
  static override summary = 'Create a webhook endpoint for some event types; its signing secret is printed once.'
  static override description =
    'Every audited change is an event, named in the past tense (users.created, roles.deleted, apikeys.rotated …); --events takes such types, a wildcard (users.*) or * for all, and you must hold the read permission of each (users:read for users.*), else it is refused (FORBIDDEN, exit 1). The secret (whsec_…) is shown only here: Gantry keeps it sealed under GANTRY_ENCRYPTION_KEY (not set: exit 2). Receivers check each request with any Standard Webhooks library. Outside development, only public addresses are accepted.'
  static override examples = [
    "<%= config.bin %> webhooks create https://crm.example.com/hooks --events 'users.*' --events roles.created --description 'CRM sync'",
    "<%= config.bin %> webhooks create https://ops.example.com/gantry --events 'apikeys.*,maintenance.*' --json",
  ]
  static override args = { url: Args.string({ description: 'Where events are POSTed: an http or https URL.', required: true }) }
  static override flags = {
    events: Flags.string({
      summary: 'An event type or wildcard to send (repeatable, or comma-separated).',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      required: true,
    }),
    description: Flags.string({ summary: 'What the endpoint is for.' }),
  }
  static override resultSchema = endpointWithSecretSchema

  async run(): Promise<EndpointWithSecret> {
    const { events, description } = this.flags
    const result = await this.call('webhooks.create', { url: this.args.url, eventTypes: events, description })
    const { endpoint } = result
    this.ui.out(`Created webhook endpoint ${endpoint.id} for ${endpoint.url} (events ${endpoint.eventTypes.join(', ')}).`)
    this.ui.out(`Secret (shown once): ${result.secret}`)
    return result
  }
}
