import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { deleteRoleResultSchema } from '../../src/core/roles/roles.schema.js'

export default class RolesDelete extends AdminCommand<typeof RolesDelete> {
  static override summary = 'Delete a custom role that no user holds.'
  static override description =
    'Built-in roles and roles still held by users cannot be deleted (exit 1). At a terminal it asks first (--yes skips that); in a protected environment it needs --force (or the environment name typed at a prompt).'
  static override examples = ['<%= config.bin %> roles delete support', '<%= config.bin %> roles delete support -e production --force']
  static override args = { name: Args.string({ description: 'Role name.', required: true }) }
  static override flags = { force: sharedFlags.force, yes: sharedFlags.yes }
  static override resultSchema = deleteRoleResultSchema

  async run(): Promise<{ deleted: string }> {
    const result = await this.call('roles.delete', { name: this.args.name })
    this.ui.out(`Deleted role ${result.deleted}.`)
    return result
  }
}
