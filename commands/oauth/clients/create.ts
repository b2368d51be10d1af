import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { oauthClientWithSecretSchema, type OAuthClientWithSecret } from '../../../src/core/oauth/oauth-clients.schema.js'

export default class OauthClientsCreate extends AdminCommand<typeof OauthClientsCreate> {
  static override summary = 'Create an OAuth client for a user; its secret is printed once.'
  static override description =
    'A machine client of the client-credentials grant: it trades its client id and secret (gcs_<env>_<id>_<secret><check>) for a short-lived access token at POST /oauth/token. The secret is shown only here: Gantry stores a hash of it. The client acts for its owner (default: the user you act as with --remote; a local run must name one with --owner). Scopes default to every permission the owner holds, and each must lie within them (else exit 2). A client stops working when its owner is disabled, and only ever acts with what the owner still holds.'
  static override examples = [
    '<%= config.bin %> oauth clients create billing-sync --owner ci@example.com --scope orders:read --scope users:read --expires 90d',
    '<%= config.bin %> oauth clients create reporting --owner ada@example.com --json',
  ]
  static override args = { name: Args.string({ description: 'A name saying what the client is for.', required: true }) }
  static override flags = {
    owner: Flags.string({ summary: 'Email of the user the client acts for (default: you, with --remote; a local run must name one).' }),
    scope: Flags.string({
      summary: 'A permission the client may ask for (repeatable; default: all of the owner’s).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    expires: Flags.string({ summary: 'Lifetime, e.g. 90d or 12h (default: never expires).' }),
  }
  static override resultSchema = oauthClientWithSecretSchema

  async run(): Promise<OAuthClientWithSecret> {
    const { owner, scope, expires } = this.flags
    const result = await this.call('oauth.clients.create', { name: this.args.name, owner, scopes: scope, expires })
    const { client } = result
    this.ui.out(
      `Created OAuth client ${client.id} "${client.name}" for ${client.owner} (scopes ${client.scopes.join(', ')}; expires ${client.expiresAt ?? 'never'}).`,
    )
    this.ui.out(`Client id: ${client.id}`)
    this.ui.out(`Client secret (shown once): ${result.clientSecret}`)
    return result
  }
}
