import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { userSchema, type User } from '../../src/core/users/users.schema.js'

export default class UsersEnable extends AdminCommand<typeof UsersEnable> {
  static override summary = 'Enable a disabled user.'
  static override description = 'The user logs in again with their existing password.'
  static override examples = ['<%= config.bin %> users enable ada@example.com']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override resultSchema = userSchema

  async run(): Promise<User> {
    const user = await this.call('users.enable', { email: this.args.email })
    this.ui.out(`Enabled ${user.email}.`)
    return user
  }
}
