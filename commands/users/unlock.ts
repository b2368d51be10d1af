import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { userSchema, type User } from '../../src/core/users/users.schema.js'

export default class UsersUnlock extends AdminCommand<typeof UsersUnlock> {
  static override summary = "End a user's lockout after failed logins."
  static override description = 'Clears the failed-login counter and the lockout at once, instead of waiting for it to end.'
  static override examples = ['<%= config.bin %> users unlock ada@example.com']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override resultSchema = userSchema

  async run(): Promise<User> {
    const user = await this.call('users.unlock', { email: this.args.email })
    this.ui.out(`Unlocked ${user.email}.`)
    return user
  }
}
