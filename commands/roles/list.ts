import { AdminCommand } from '../../src/cli/admin-command.js'
import { roleListSchema, type RoleList } from '../../src/core/roles/roles.schema.js'

export default class RolesList extends AdminCommand<typeof RolesList> {
  static override summary = 'List the roles, their permissions and how many users hold each.'
  static override description = 'Built in: admin (*), operator (every :read, plus ratelimits, maintenance, apikeys and sessions :write), viewer (*:read).'
  static override examples = ['<%= config.bin %> roles list', '<%= config.bin %> roles list --json']
  static override resultSchema = roleListSchema

  async run(): Promise<RoleList> {
    const roles = await this.call('roles.list')
    this.ui.table(
      roles.data.map((r) => ({ ...r, permissions: r.permissions.join(' '), builtin: r.builtin ? 'yes' : '' })),
      [
        ['name', 'NAME'],
        ['permissions', 'PERMISSIONS'],
        ['users', 'USERS'],
        ['builtin', 'BUILT IN'],
        ['description', 'DESCRIPTION'],
      ],
    )
    return roles
  }
}
