import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { apiKeySchema, type ApiKey } from '../../src/core/apikeys/apikeys.schema.js'

export default class ApikeysShow extends AdminCommand<typeof ApikeysShow> {
  static override summary = 'Show one API key: owner, scopes, state, expiry, last use; never its secret.'
  static override examples = ['<%= config.bin %> apikeys show 4fQ9wZ2bKc1x', '<%= config.bin %> apikeys show 4fQ9wZ2bKc1x --remote --json']
  static override args = { keyId: Args.string({ description: 'The key id (see `gantry apikeys list`).', required: true }) }
  static override resultSchema = apiKeySchema

  async run(): Promise<ApiKey> {
    const apiKey = await this.call('apikeys.get', { keyId: this.args.keyId })
    this.ui.fields(apiKey)
    return apiKey
  }
}
