import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { endpointWithSecretSchema, type EndpointWithSecret } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksRotateSecret extends AdminCommand<typeof WebhooksRotateSecret> {
  static override summary = 'Give a webhook endpoint a new signing secret; it is printed once.'
  static override description =
    'For the grace period (default 24h; 0s ends it at once) each request carries two signatures, one per secret, so the receiver can switch to the new secret without refusing a delivery. Rotating again during a grace period ends the older secret. The secret can sign any event the endpoint sends, so you must hold the read permission of each of its types (else FORBIDDEN, exit 1). Needs GANTRY_ENCRYPTION_KEY (not set: exit 2).'
  static override examples = [
    '<%= config.bin %> webhooks rotate-secret ep_3hQ9xK2mP1bW7cT4vN8sLd',
    '<%= config.bin %> webhooks rotate-secret ep_3hQ9xK2mP1bW7cT4vN8sLd --grace 1h --json',
  ]
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override flags = {
    grace: Flags.string({ summary: 'How long the previous secret keeps signing beside the new one, e.g. 24h, 30m, 0s.', default: '24h' }),
  }
  static override resultSchema = endpointWithSecretSchema

  async run(): Promise<EndpointWithSecret> {
    const result = await this.call('webhooks.rotate-secret', { id: this.args.id }, { grace: this.flags.grace })
    const { endpoint } = result
    this.ui.out(`Rotated the secret of webhook endpoint ${endpoint.id}; the previous one signs until ${endpoint.previousSecretUntil ?? 'now (no grace)'}.`)
    this.ui.out(`Secret (shown once): ${result.secret}`)
    return result
  }
}
