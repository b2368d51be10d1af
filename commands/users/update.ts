import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { userSchema, type User } from '../../src/core/users/users.schema.js'

export default class UsersUpdate extends AdminCommand<typeof UsersUpdate> {
  static override summary = "Change a user's name, email or role."
  static override description = 'The last active admin cannot be demoted (exit 1). A new email must not belong to another user.'
  static override examples = [
    '<%= config.bin %> users update ada@example.com --role operator',
    '<%= config.bin %> users update ada@example.com --email ada@new.example.com --name Ada',
  ]
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override flags = {
    name: Flags.string({ summary: 'New display name.' }),
    email: Flags.string({ summary: 'New email address.' }),
    role: Flags.string({ summary: 'New role.' }),
  }
  static override resultSchema = userSchema

  async run(): Promise<User> {
    const { name, email, role } = this.flags
    const user = await this.call('users.update', { email: this.args.email }, { name, email, role })
    this.ui.out(`Updated ${user.email}: ${user.name ? `${user.name}, ` : ''}${user.role}.`)
    return user
  }
}
