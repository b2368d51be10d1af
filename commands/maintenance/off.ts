import { AdminCommand } from '../../src/cli/admin-command.js'
import { maintenanceStateSchema, type MaintenanceState } from '../../src/core/maintenance/maintenance.schema.js'

export default class MaintenanceOff extends AdminCommand<typeof MaintenanceOff> {
  static override summary = 'Turn maintenance mode off: every route answers again.'
  static override description = 'Every running server sees the change within a second. When it is off already, nothing changes and nothing is audited.'
  static override examples = ['<%= config.bin %> maintenance off', '<%= config.bin %> maintenance off -e production --json']
  static override resultSchema = maintenanceStateSchema

  async run(): Promise<MaintenanceState> {
    const state = await this.call('maintenance.off')
    this.ui.out('Maintenance mode is off.')
    return state
  }
}
