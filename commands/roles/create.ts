import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { roleSchema, type Role } from '../../src/core/roles/roles.schema.js'

export default class RolesCreate extends AdminCommand<typeof RolesCreate> {
  static override summary = 'Create a custom role.'
  static override description =
    'Permissions are resource:action (users:read, apikeys:write …); * alone grants everything, and either half may be * (users:*, *:read).'
  static override examples = ['<%= config.bin %> roles create support --permission users:read --permission audit:read --description "Help desk"']
  static override args = { name: Args.string({ description: 'Role name: lower case letters, digits, - and _.', required: true }) }
  static override flags = {
    permission: Flags.string({ summary: 'A permission to grant (repeat the flag for more).', multiple: true, required: true }),
    description: Flags.string({ summary: 'What the role is for.', default: '' }),
  }
  static override resultSchema = roleSchema

  async run(): Promise<Role> {
    const role = await this.call('roles.create', { name: this.args.name, permissions: this.flags.permission, description: this.flags.description })
    this.ui.out(`Created role ${role.name}: ${role.permissions.join(' ')}.`)
    return role
  }
}
