import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { revokedSessionsSchema, type RevokedSessions } from '../../src/core/sessions/sessions.schema.js'

export default class TokensRevoke extends AdminCommand<typeof TokensRevoke> {
  static override summary = 'End every session of a user: refresh tokens at once, access tokens within 1 s.'
  static override description =
    "Bumps the user's session epoch, which every token check compares, and revokes their live refresh tokens. The user can log in again; API keys are not affected (`gantry apikeys revoke`)."
  static override examples = ['<%= config.bin %> tokens revoke --user ada@example.com']
  static override flags = {
    user: Flags.string({ summary: 'Email of the user.', required: true }),
  }
  static override resultSchema = revokedSessionsSchema

  async run(): Promise<RevokedSessions> {
    const result = await this.call('tokens.revoke', { email: this.flags.user })
    this.ui.out(`Ended every session of ${result.user} (${result.refreshTokensRevoked} refresh token(s) revoked).`)
    return result
  }
}
