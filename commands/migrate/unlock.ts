import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { workspaceMigrator } from '../../src/db/migrator/index.js'

const resultSchema = z.object({ cleared: z.boolean() })

export default class MigrateUnlock extends GantryCommand<typeof MigrateUnlock> {
  static override summary = 'Clear the lock row the plain knex CLI left behind (<table>_lock).'
  static override description =
    "Gantry's own lock is bound to the database session and never needs this; a knex CLI run killed mid-way leaves is_locked=1, which makes `migrate latest` refuse."
  static override examples = ['<%= config.bin %> migrate unlock']
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    const result = await workspaceMigrator(await runtime.database(), runtime.workspace.migrations).unlockKnex()
    this.ui.out(result.cleared ? 'Cleared the knex lock row.' : 'The knex lock row was not set; nothing to do.')
    return result
  }
}
