import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { apiKeyWithSecretSchema, type ApiKeyWithSecret } from '../../src/core/apikeys/apikeys.schema.js'

export default class ApikeysCreate extends AdminCommand<typeof ApikeysCreate> {
  static override summary = 'Create an API key for a user; the key is printed once.'
  static override description =
    'The key (gk_<env>_<id>_<secret><check>) carries the environment name and is shown only here: Gantry stores a hash of its secret. Scopes default to every permission the owner holds, and each must lie within them (else exit 2). A key stops working when its owner is disabled, and only ever acts with what the owner still holds.'
  static override examples = [
    '<%= config.bin %> apikeys create --name ci-deploy --owner ci@example.com --scope users:read --scope audit:read --expires 90d',
    '<%= config.bin %> apikeys create --name reporting --owner ada@example.com --json',
  ]
  static override flags = {
    name: Flags.string({ summary: 'A name saying what the key is for.', required: true }),
    owner: Flags.string({ summary: 'Email of the user the key acts for.', required: true }),
    scope: Flags.string({ summary: 'A permission the key grants (repeatable; default: all of the owner’s).', multiple: true }),
    expires: Flags.string({ summary: 'Lifetime, e.g. 90d or 12h (default: never expires).' }),
  }
  static override resultSchema = apiKeyWithSecretSchema

  async run(): Promise<ApiKeyWithSecret> {
    const { name, owner, scope, expires } = this.flags
    const result = await this.call('apikeys.create', { name, owner, scopes: scope, expires })
    const { apiKey } = result
    this.ui.out(
      `Created API key ${apiKey.id} "${apiKey.name}" for ${apiKey.owner} (scopes ${apiKey.scopes.join(', ')}; expires ${apiKey.expiresAt ?? 'never'}).`,
    )
    this.ui.out(`Key (shown once): ${result.key}`)
    return result
  }
}
