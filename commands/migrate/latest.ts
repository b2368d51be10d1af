import { Flags } from '@oclif/core'
import type { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { printPreview } from '../../src/cli/migrate-output.js'
import { describeHolder, latestResultSchema, workspaceMigrator } from '../../src/db/migrator/index.js'

export default class MigrateLatest extends GantryCommand<typeof MigrateLatest> {
  static override summary = "Apply pending migrations: Gantry's own schema first, then the app's."
  static override description =
    'Takes a lock bound to the database session, so concurrent runs wait (up to --lock-timeout) and then find nothing to do. Refuses to run over an edited or a partial migration. --dry-run prints the SQL instead.'
  static override examples = [
    '<%= config.bin %> migrate latest',
    '<%= config.bin %> migrate latest -e production --json',
    '<%= config.bin %> migrate latest --dry-run',
  ]
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the SQL of each pending migration without running it.' }),
    'lock-timeout': sharedFlags.lockTimeout,
  }
  static override resultSchema = latestResultSchema

  async run(): Promise<z.infer<typeof latestResultSchema>> {
    const runtime = await this.runtime()
    const db = await runtime.database()
    const migrator = workspaceMigrator(db, runtime.workspace.migrations, {
      lockTimeoutSeconds: this.flags['lock-timeout'],
      onWait: (holder) => this.ui.note(`Waiting for the migration lock, held by ${describeHolder(holder)}…`),
    })
    const result = await this.ui.spin(this.flags['dry-run'] ? 'Preparing the preview' : 'Migrating', () => migrator.latest({ dryRun: this.flags['dry-run'] }))
    if (result.dryRun) printPreview(this.ui, result.dryRun)
    else if (result.applied.length === 0) this.ui.out('Already up to date: no pending migrations.')
    else for (const m of result.applied) this.ui.out(`${this.ui.color.green('✔')} ${m.set}/${m.name} ${this.ui.color.dim(`(${m.durationMs} ms)`)}`)
    return result
  }
}

