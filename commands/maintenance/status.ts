import { AdminCommand } from '../../src/cli/admin-command.js'
import { maintenanceStateSchema, type MaintenanceState } from '../../src/core/maintenance/maintenance.schema.js'

export default class MaintenanceStatus extends AdminCommand<typeof MaintenanceStatus> {
  static override summary = 'Show whether maintenance mode is on, since when, by whom, and its Retry-After and message.'
  static override description = 'A database whose Gantry migrations have not run yet reads as off.'
  static override examples = ['<%= config.bin %> maintenance status', '<%= config.bin %> maintenance status -e production --json']
  static override resultSchema = maintenanceStateSchema

  async run(): Promise<MaintenanceState> {
    const state = await this.call('maintenance.status')
    const who = state.since === null ? '' : ` since ${state.since}${state.by === null ? '' : ` (by ${state.by})`}`
    this.ui.out(
      state.enabled
        ? `Maintenance mode is on${who}: answering 503 with Retry-After ${state.retryAfter} s${state.message === null ? '' : ` and "${state.message}"`}.`
        : `Maintenance mode is off${who}.`,
    )
    return state
  }
}
