import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { roleSchema, type Role } from '../../src/core/roles/roles.schema.js'

export default class RolesUpdate extends AdminCommand<typeof RolesUpdate> {
  static override summary = "Grant or revoke a custom role's permissions, or change its description."
  static override description = 'Built-in roles cannot be changed (exit 1). A role keeps at least one permission.'
  static override examples = ['<%= config.bin %> roles update support --grant users:write --revoke audit:read']
  static override args = { name: Args.string({ description: 'Role name.', required: true }) }
  static override flags = {
    grant: Flags.string({ summary: 'A permission to add (repeatable).', multiple: true }),
    revoke: Flags.string({ summary: 'A permission to remove (repeatable).', multiple: true }),
    description: Flags.string({ summary: 'New description.' }),
  }
  static override resultSchema = roleSchema

  async run(): Promise<Role> {
    const { grant, revoke, description } = this.flags
    const role = await (await this.admin()).roles.update(this.args.name, { grant, revoke, description })
    this.ui.out(`Role ${role.name}: ${role.permissions.join(' ')}.`)
    return role
  }
}
