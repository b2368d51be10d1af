import { Args } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { oauthClientSchema, type OAuthClient } from '../../../src/core/oauth/oauth-clients.schema.js'

export default class OauthClientsShow extends AdminCommand<typeof OauthClientsShow> {
  static override summary = 'Show one OAuth client: owner, scopes, state, expiry, last use; never its secret.'
  static override examples = ['<%= config.bin %> oauth clients show 4fQ9wZ2bKc1x', '<%= config.bin %> oauth clients show 4fQ9wZ2bKc1x --remote --json']
  static override args = { clientId: Args.string({ description: 'The client id (see `gantry oauth clients list`).', required: true }) }
  static override resultSchema = oauthClientSchema

  async run(): Promise<OAuthClient> {
    const client = await this.call('oauth.clients.get', { clientId: this.args.clientId })
    this.ui.fields(client)
    return client
  }
}
