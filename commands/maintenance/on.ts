import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { DEFAULT_RETRY_AFTER, maintenanceStateSchema, type MaintenanceState } from '../../src/core/maintenance/maintenance.schema.js'

export default class MaintenanceOn extends AdminCommand<typeof MaintenanceOn> {
  static override summary = 'Turn maintenance mode on: every route but health, auth and admin answers 503.'
  static override description =
    'The 503 answers are problem+json (code MAINTENANCE) with Retry-After; every running server sees the change within a second. Run it again to change --retry-after or --message. In a protected environment it needs --force (or the environment name typed at a prompt). `gantry maintenance off` ends it.'
  static override examples = [
    '<%= config.bin %> maintenance on',
    '<%= config.bin %> maintenance on --retry-after 600 --message "Upgrading the database, back at 14:10 UTC"',
    '<%= config.bin %> maintenance on -e production --force --json',
  ]
  static override flags = {
    'retry-after': Flags.integer({ summary: 'Seconds clients are told to wait (Retry-After), 1 to 86400.', default: DEFAULT_RETRY_AFTER }),
    message: Flags.string({ summary: 'What the 503 answers say (at most 500 characters).' }),
    force: sharedFlags.force,
    yes: sharedFlags.yes,
  }
  static override resultSchema = maintenanceStateSchema

  async run(): Promise<MaintenanceState> {
    const state = await this.call('maintenance.on', { retryAfter: this.flags['retry-after'], message: this.flags.message })
    this.ui.out(`Maintenance mode is on: every route but health, auth and admin answers 503 (Retry-After ${state.retryAfter} s).`)
    return state
  }
}
