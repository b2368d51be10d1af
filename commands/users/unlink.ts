import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { unlinkResultSchema, type UnlinkResult } from '../../src/core/users/users.schema.js'

export default class UsersUnlink extends AdminCommand<typeof UsersUnlink> {
  static override summary = "Remove a user's identity at a provider: that account no longer signs in as them."
  static override description =
    'The next sign-in with that provider links again only where the provider asserts a verified email of an allowed domain (auth.sso.providers[].allowedDomains); the user keeps every other way in.'
  static override examples = ['<%= config.bin %> users unlink ada@example.com --provider corp']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override flags = { provider: Flags.string({ summary: 'The provider id (auth.sso.providers[].id; see `gantry users show`).', required: true }) }
  static override resultSchema = unlinkResultSchema

  async run(): Promise<UnlinkResult> {
    const result = await this.call('users.unlink', { email: this.args.email }, { provider: this.flags.provider })
    this.ui.out(`Unlinked ${result.unlinked} identit${result.unlinked === 1 ? 'y' : 'ies'} at ${result.provider} from ${result.user}.`)
    return result
  }
}
