import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { identitySchema, userSchema, type IdentityList, type User } from '../../src/core/users/users.schema.js'

/** A user with the accounts at identity providers that sign in as them. */
const shownSchema = userSchema.extend({ identities: identitySchema.array() })

export default class UsersShow extends AdminCommand<typeof UsersShow> {
  static override summary = 'Show one user, and the identity-provider accounts that sign in as them.'
  static override examples = ['<%= config.bin %> users show ada@example.com', '<%= config.bin %> users show ada@example.com --json']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override resultSchema = shownSchema

  async run(): Promise<User & { identities: IdentityList['identities'] }> {
    const user = await this.call('users.get', { email: this.args.email })
    const { identities } = await this.call('users.identities', { email: user.email })
    this.ui.fields(user)
    if (identities.length > 0) {
      this.ui.out('')
      this.ui.table(
        identities.map((i) => ({ ...i, email: i.email ?? '' })),
        [
          ['provider', 'PROVIDER'],
          ['subject', 'SUBJECT'],
          ['email', 'EMAIL AT PROVIDER'],
          ['linkedAt', 'LINKED'],
          ['lastLoginAt', 'LAST SIGN-IN'],
        ],
      )
    }
    return { ...user, identities }
  }
}
