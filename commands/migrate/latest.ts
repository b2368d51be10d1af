import { Flags } from '@oclif/core'
import type { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { printPreview } from '../../src/cli/migrate-output.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { isGantryError } from '../../src/core/errors.js'
import { describeHolder, latestResultSchema, workspaceMigrator } from '../../src/db/migrator/index.js'

export default class MigrateLatest extends GantryCommand<typeof MigrateLatest> {
  static override summary = "Apply pending migrations: Gantry's own schema first, then the app's."
  static override description =
    'Takes a lock bound to the database session, so concurrent runs wait (up to --lock-timeout) and then find nothing to do. Refuses to run over an edited or a partial migration. --dry-run prints the SQL instead.'
  static override examples = [
    '<%= config.bin %> migrate latest',
    '<%= config.bin %> migrate latest -e production --json',
    '<%= config.bin %> migrate latest --dry-run',
    '<%= config.bin %> migrate latest -e production --maintenance',
  ]
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the SQL of each pending migration without running it.' }),
    'lock-timeout': sharedFlags.lockTimeout,
    // A preview changes nothing, so taking the service down for it would only hurt: refused, not ignored,
    // because a script asking for both most likely meant something else.
    maintenance: Flags.boolean({
      summary: 'Turn maintenance mode on while migrating, and off afterwards (also when the migration fails) unless it was on already.',
      exclusive: ['dry-run'],
    }),
  }
  static override resultSchema = latestResultSchema

  async run(): Promise<z.infer<typeof latestResultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    const db = await runtime.database()
    const migrator = workspaceMigrator(db, runtime.workspace.migrations, {
      lockTimeoutSeconds: this.flags['lock-timeout'],
      onWait: (holder) => this.ui.note(`Waiting for the migration lock, held by ${describeHolder(holder)}…`),
    })
    const result = await this.underMaintenance(() =>
      this.ui.spin(this.flags['dry-run'] ? 'Preparing the preview' : 'Migrating', () => migrator.latest({ dryRun: this.flags['dry-run'] })),
    )
    if (result.dryRun) printPreview(this.ui, result.dryRun)
    else if (result.applied.length === 0) this.ui.out('Already up to date: no pending migrations.')
    else for (const m of result.applied) this.ui.out(`${this.ui.color.green('✔')} ${m.set}/${m.name} ${this.ui.color.dim(`(${m.durationMs} ms)`)}`)
    return result
  }

  /**
   * Runs `work` with maintenance mode on when --maintenance asks, and turns it off after, also when `work`
   * fails. When an operator had turned it on before, it stays on: ending it is theirs to decide.
   */
  private async underMaintenance<R>(work: () => Promise<R>): Promise<R> {
    if (!this.flags.maintenance) return work()
    const admin = await (await this.runtime()).admin()
    const before = await admin.call('maintenance.status')
    if (before.enabled) {
      this.ui.note(
        `Maintenance mode is on already (since ${before.since}, by ${before.by}); it stays on after the migration: \`gantry maintenance off\` ends it.`,
      )
      return work()
    }
    try {
      await admin.call('maintenance.on')
      this.ui.note('Maintenance mode is on until the migration ends.')
    } catch (err) {
      if (!isGantryError(err) || err.code !== 'MIGRATION_PENDING') throw err
      this.ui.note('Maintenance mode stays off: this database has no Gantry tables yet, so nothing is serving from it.')
    }
    let succeeded = false
    try {
      const result = await work()
      succeeded = true
      return result
    } finally {
      await admin.call('maintenance.off').then(
        () => this.ui.note('Maintenance mode is off.'),
        (err: unknown) => {
          // After a failed migration its error is the one to report; this one only must not be lost.
          if (succeeded) throw err
          this.ui.warn(`Maintenance mode may still be on (${(err as Error).message}): run \`gantry maintenance off\`.`)
        },
      )
    }
  }
}
