import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { issuedTokenSchema, type IssuedToken } from '../../src/core/sessions/sessions.schema.js'

export default class TokensIssue extends AdminCommand<typeof TokensIssue> {
  static override summary = 'Mint an access token for a script, acting as a user; printed once.'
  static override description =
    "The token carries the user's permissions and ends when it expires, when the user is disabled or changes password, or at `gantry tokens revoke --user`. It needs the environment's token secret: set GANTRY_AUTH_SECRET (at least 32 bytes) in .env.<environment>."
  static override examples = [
    '<%= config.bin %> tokens issue --user ci@example.com --ttl 1h',
    '$ TOKEN=$(<%= config.bin %> tokens issue --user ci@example.com --json | jq -r .token)',
  ]
  static override flags = {
    user: Flags.string({ summary: 'Email of the user the token acts for.', required: true }),
    ttl: Flags.string({ summary: 'Lifetime, 1s to auth.maxTokenTtl (default 24h), e.g. 1h (default: the environment’s access-token lifetime).' }),
  }
  static override resultSchema = issuedTokenSchema

  async run(): Promise<IssuedToken> {
    const { user, ttl } = this.flags
    const issued = await this.call('tokens.issue', { email: user }, { ttl })
    this.ui.note(`Access token for ${issued.user}, valid until ${issued.expiresAt} (shown once):`)
    this.ui.out(issued.token)
    return issued
  }
}
