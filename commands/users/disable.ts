import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { userSchema, type User } from '../../src/core/users/users.schema.js'

export default class UsersDisable extends AdminCommand<typeof UsersDisable> {
  static override summary = 'Disable a user: no login, and every session ends at once.'
  static override description = 'The last active admin cannot be disabled (exit 1). `gantry users enable` undoes it.'
  static override examples = ['<%= config.bin %> users disable ada@example.com']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override resultSchema = userSchema

  async run(): Promise<User> {
    const user = await this.call('users.disable', { email: this.args.email })
    this.ui.out(`Disabled ${user.email}.`)
    return user
  }
}
