import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { userSchema, type User } from '../../src/core/users/users.schema.js'

export default class UsersShow extends AdminCommand<typeof UsersShow> {
  static override summary = 'Show one user.'
  static override examples = ['<%= config.bin %> users show ada@example.com', '<%= config.bin %> users show ada@example.com --json']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override resultSchema = userSchema

  async run(): Promise<User> {
    const user = await this.call('users.get', { email: this.args.email })
    this.ui.fields(user)
    return user
  }
}
