import { Flags } from '@oclif/core'
import { AdminCommand } from '../../../src/cli/admin-command.js'
import { oauthClientPageSchema, type OAuthClientPage } from '../../../src/core/oauth/oauth-clients.schema.js'

export default class OauthClientsList extends AdminCommand<typeof OauthClientsList> {
  static override summary = 'List OAuth clients, a page at a time; never a secret.'
  static override description =
    'In creation order, revoked clients included. --json prints { data, nextCursor }; pass nextCursor back with --cursor for the next page.'
  static override examples = ['<%= config.bin %> oauth clients list', '<%= config.bin %> oauth clients list --owner ci@example.com --json']
  static override flags = {
    owner: Flags.string({ summary: 'Only the clients of this user (email).' }),
    limit: Flags.integer({ summary: 'Clients per page (at most 500).', default: 50, min: 1, max: 500 }),
    cursor: Flags.string({ summary: 'Where the previous page ended (its nextCursor).' }),
  }
  static override resultSchema = oauthClientPageSchema

  async run(): Promise<OAuthClientPage> {
    const { owner, limit, cursor } = this.flags
    const page = await this.call('oauth.clients.list', { owner, limit, cursor })
    this.ui.table(
      page.data.map((c) => ({ ...c, scopes: c.scopes.join(','), state: c.revoked ? 'revoked' : 'active' })),
      [
        ['id', 'CLIENT ID'],
        ['name', 'NAME'],
        ['owner', 'OWNER'],
        ['scopes', 'SCOPES'],
        ['state', 'STATE'],
        ['expiresAt', 'EXPIRES'],
        ['lastUsedAt', 'LAST USED'],
      ],
      {
        empty: owner !== undefined || cursor !== undefined ? 'No OAuth clients match.' : 'No OAuth clients yet: make one with `gantry oauth clients create`.',
      },
    )
    this.nextPageHint(page.nextCursor)
    return page
  }
}
