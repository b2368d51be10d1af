import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { apiKeyPageSchema, type ApiKeyPage } from '../../src/core/apikeys/apikeys.schema.js'

export default class ApikeysList extends AdminCommand<typeof ApikeysList> {
  static override summary = 'List API keys, a page at a time; never a secret.'
  static override description =
    'In creation order, revoked keys included. --json prints { data, nextCursor }; pass nextCursor back with --cursor for the next page.'
  static override examples = ['<%= config.bin %> apikeys list', '<%= config.bin %> apikeys list --owner ci@example.com --json']
  static override flags = {
    owner: Flags.string({ summary: 'Only the keys of this user (email).' }),
    limit: Flags.integer({ summary: 'Keys per page (at most 500).', default: 50, min: 1, max: 500 }),
    cursor: Flags.string({ summary: 'Where the previous page ended (its nextCursor).' }),
  }
  static override resultSchema = apiKeyPageSchema

  async run(): Promise<ApiKeyPage> {
    const { owner, limit, cursor } = this.flags
    const page = await this.call('apikeys.list', { owner, limit, cursor })
    this.ui.table(
      page.data.map((k) => ({ ...k, scopes: k.scopes.join(','), state: k.revoked ? 'revoked' : 'active' })),
      [
        ['id', 'ID'],
        ['name', 'NAME'],
        ['owner', 'OWNER'],
        ['scopes', 'SCOPES'],
        ['state', 'STATE'],
        ['expiresAt', 'EXPIRES'],
        ['lastUsedAt', 'LAST USED'],
      ],
      { empty: owner !== undefined || cursor !== undefined ? 'No API keys match.' : 'No API keys yet: make one with `gantry apikeys create`.' },
    )
    this.nextPageHint(page.nextCursor)
    return page
  }
}
