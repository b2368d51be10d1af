import { Args } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { oauthClientSchema, type OAuthClient } from '../../../src/core/oauth/oauth-clients.schema.js'

export default class OauthClientsRevoke extends AdminCommand<typeof OauthClientsRevoke> {
  static override summary = 'Revoke an OAuth client: no new token from the next request on, its tokens refused within a second.'
  static override description =
    'Takes the client id that `gantry oauth clients list` shows. Revoking a revoked client changes nothing. There is no undo: create a new client instead.'
  static override examples = ['<%= config.bin %> oauth clients revoke 4fQ9wZ2bKc1x']
  static override args = { clientId: Args.string({ description: 'The client id (see `gantry oauth clients list`).', required: true }) }
  static override resultSchema = oauthClientSchema

  async run(): Promise<OAuthClient> {
    const client = await this.call('oauth.clients.revoke', { clientId: this.args.clientId })
    this.ui.out(`Revoked OAuth client ${client.id} "${client.name}" of ${client.owner}.`)
    return client
  }
}
