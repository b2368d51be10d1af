import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { oauthClientWithSecretSchema, type OAuthClientWithSecret } from '../../../src/core/oauth/oauth-clients.schema.js'

export default class OauthClientsRotate extends AdminCommand<typeof OauthClientsRotate> {
  static override summary = 'Give an OAuth client a new secret; the new secret is printed once.'
  static override description =
    'The client keeps its id, name, owner, scopes and expiry. The previous secret keeps working for the grace period (default 24h; 0s ends it at once), so the client can switch without downtime. Rotating again during a grace period ends the older secret. With --grace 0s (a leaked secret) the tokens already issued end too, within a second; with a grace they stay valid until they expire.'
  static override examples = ['<%= config.bin %> oauth clients rotate 4fQ9wZ2bKc1x', '<%= config.bin %> oauth clients rotate 4fQ9wZ2bKc1x --grace 1h --json']
  static override args = { clientId: Args.string({ description: 'The client id (see `gantry oauth clients list`).', required: true }) }
  static override flags = {
    grace: Flags.string({ summary: 'How long the previous secret keeps working, e.g. 24h, 30m, 0s.', default: '24h' }),
  }
  static override resultSchema = oauthClientWithSecretSchema

  async run(): Promise<OAuthClientWithSecret> {
    const result = await this.call('oauth.clients.rotate', { clientId: this.args.clientId }, { grace: this.flags.grace })
    const { client } = result
    this.ui.out(`Rotated OAuth client ${client.id} "${client.name}"; the previous secret works until ${client.graceEndsAt ?? 'now (no grace)'}.`)
    this.ui.out(`Client secret (shown once): ${result.clientSecret}`)
    return result
  }
}
