import { Args } from '@oclif/core'
import { GantryCommand } from '../../src/cli/base-command.js'
import { userSchema, type User } from '../../src/core/users/users.schema.js'

export default class UsersEnable extends GantryCommand<typeof UsersEnable> {
  static override summary = 'Enable a disabled user.'
  static override description = 'The user logs in again with their existing password.'
  static override examples = ['<%= config.bin %> users enable ada@example.com']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override resultSchema = userSchema

  async run(): Promise<User> {
    const user = await (await (await this.runtime()).admin()).users.enable(this.args.email)
    this.ui.out(`Enabled ${user.email}.`)
    return user
  }
}
