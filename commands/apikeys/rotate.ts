import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { apiKeyWithSecretSchema, type ApiKeyWithSecret } from '../../src/core/apikeys/apikeys.schema.js'

export default class ApikeysRotate extends AdminCommand<typeof ApikeysRotate> {
  static override summary = 'Give an API key a new secret; the new key is printed once.'
  static override description =
    'The key keeps its id, name, owner, scopes and expiry. The previous secret keeps working for the grace period (default 24h; 0s ends it at once), so clients can switch without downtime. Rotating again during a grace period ends the older secret.'
  static override examples = ['<%= config.bin %> apikeys rotate 4fQ9wZ2bKc1x', '<%= config.bin %> apikeys rotate 4fQ9wZ2bKc1x --grace 1h --json']
  static override args = { keyId: Args.string({ description: 'The key id (see `gantry apikeys list`).', required: true }) }
  static override flags = {
    grace: Flags.string({ summary: 'How long the previous secret keeps working, e.g. 24h, 30m, 0s.', default: '24h' }),
  }
  static override resultSchema = apiKeyWithSecretSchema

  async run(): Promise<ApiKeyWithSecret> {
    const result = await this.call('apikeys.rotate', { keyId: this.args.keyId }, { grace: this.flags.grace })
    const { apiKey } = result
    this.ui.out(`Rotated API key ${apiKey.id} "${apiKey.name}"; the previous secret works until ${apiKey.graceEndsAt ?? 'now (no grace)'}.`)
    this.ui.out(`Key (shown once): ${result.key}`)
    return result
  }
}
