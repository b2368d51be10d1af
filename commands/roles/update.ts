import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { roleSchema, type Role } from '../../src/core/roles/roles.schema.js'

export default class RolesUpdate extends AdminCommand<typeof RolesUpdate> {
  static override summary = "Grant or revoke a role's permissions, or change its description."
  static override description = [
    "Permissions are resource:action, Gantry's own or your app's (orders:write). A role keeps at least one permission.",
    'The built-in operator and viewer roles take extra permissions and give them back; their built-in permissions cannot be revoked and * cannot be granted to them (exit 1). The built-in admin role (*) cannot be changed at all (exit 1).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> roles update operator --grant orders:write',
    '<%= config.bin %> roles update support --grant users:write --revoke audit:read',
  ]
  static override args = { name: Args.string({ description: 'Role name.', required: true }) }
  static override flags = {
    grant: Flags.string({ summary: 'A permission to add (repeatable).', multiple: true }),
    revoke: Flags.string({ summary: 'A permission to remove (repeatable).', multiple: true }),
    description: Flags.string({ summary: 'New description.' }),
  }
  static override resultSchema = roleSchema

  async run(): Promise<Role> {
    const { grant, revoke, description } = this.flags
    const role = await this.call('roles.update', { name: this.args.name }, { grant, revoke, description })
    this.ui.out(`Role ${role.name}: ${role.permissions.join(' ')}.`)
    return role
  }
}
