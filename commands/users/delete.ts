import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { deleteUserResultSchema } from '../../src/core/users/users.schema.js'
import type { User } from '../../src/core/users/users.schema.js'

export default class UsersDelete extends AdminCommand<typeof UsersDelete> {
  static override summary = 'Delete a user, their sessions and API keys.'
  static override description =
    'The last active admin cannot be deleted (exit 1). At a terminal it asks first (--yes skips that); in a protected environment it needs --force (or the environment name typed at a prompt). `gantry users disable` keeps the user and their history.'
  static override examples = ['<%= config.bin %> users delete bob@example.com', '<%= config.bin %> users delete bob@example.com -e production --force']
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override flags = { force: sharedFlags.force, yes: sharedFlags.yes }
  static override resultSchema = deleteUserResultSchema

  async run(): Promise<{ deleted: User }> {
    const result = await this.call('users.delete', { email: this.args.email })
    this.ui.out(`Deleted ${result.deleted.email}.`)
    return result
  }
}
