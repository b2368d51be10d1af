import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { apiKeySchema, type ApiKey } from '../../src/core/apikeys/apikeys.schema.js'

export default class ApikeysRevoke extends AdminCommand<typeof ApikeysRevoke> {
  static override summary = 'Revoke an API key: it stops working at once.'
  static override description =
    'Takes the key id that `gantry apikeys list` shows. Revoking a revoked key changes nothing. There is no undo: create a new key instead.'
  static override examples = ['<%= config.bin %> apikeys revoke 4fQ9wZ2bKc1x']
  static override args = { keyId: Args.string({ description: 'The key id (see `gantry apikeys list`).', required: true }) }
  static override resultSchema = apiKeySchema

  async run(): Promise<ApiKey> {
    const apiKey = await this.call('apikeys.revoke', { keyId: this.args.keyId })
    this.ui.out(`Revoked API key ${apiKey.id} "${apiKey.name}" of ${apiKey.owner}.`)
    return apiKey
  }
}
