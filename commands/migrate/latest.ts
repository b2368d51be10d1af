import { Flags } from '@oclif/core'
import type { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { atomicMode, sharedFlags } from '../../src/cli/flags.js'
import { migrateProgress } from '../../src/cli/migrate-progress.js'
import { printPreview } from '../../src/cli/migrate-output.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { shadowDatabaseUrl, type Workspace } from '../../src/config/workspace.js'
import { isGantryError } from '../../src/core/errors.js'
import { describeHolder, latestResultSchema, unpreviewedError, workspaceMigrator, type PreviewOptions } from '../../src/db/migrator/index.js'
import { recordedRun } from '../../src/migration-audit.js'
import { backupChoice, migrationBackup } from '../../src/migration-backup.js'

export default class MigrateLatest extends GantryCommand<typeof MigrateLatest> {
  static override summary = "Apply pending migrations: Gantry's own schema first, then the app's."
  static override description =
    'Takes a lock bound to the database session, so concurrent runs wait (up to --lock-timeout) and then find nothing to do. Refuses to run over an edited or a partial migration. --dry-run runs the batch on a copy (SQLite) or a shadow database and prints the SQL each migration sent (see docs/migrations.md, "Dry run"); it exits 1 when one could not be previewed.'
  static override examples = [
    '<%= config.bin %> migrate latest',
    '<%= config.bin %> migrate latest -e production --json',
    '<%= config.bin %> migrate latest --dry-run',
    '<%= config.bin %> migrate latest --atomic',
    '<%= config.bin %> migrate latest -e production --maintenance',
    '<%= config.bin %> migrate latest -e staging --backup',
  ]
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the SQL of each pending migration without running it on this database.' }),
    all: Flags.boolean({ summary: "With --dry-run, also print the SQL of Gantry's own migrations (gantry_* tables).", dependsOn: ['dry-run'] }),
    'lock-timeout': sharedFlags.lockTimeout,
    atomic: sharedFlags.atomic,
    // A preview changes nothing, so taking the service down for it would only hurt: refused, not ignored,
    // because a script asking for both most likely meant something else.
    maintenance: Flags.boolean({
      summary: 'Turn maintenance mode on while migrating, and off afterwards (also when the migration fails) unless it was on already.',
      exclusive: ['dry-run'],
    }),
    backup: Flags.boolean({
      summary:
        "Back up the database (as `db backup` does) under the migration lock before the first pending migration runs. Default: on where the environment's config sets backups.directory (a missing dump tool is then only a warning), a warning on a protected environment that sets none; --no-backup skips it.",
      allowNo: true,
      exclusive: ['dry-run'],
    }),
  }
  static override resultSchema = latestResultSchema

  async run(): Promise<z.infer<typeof latestResultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    const db = await runtime.database()
    const progress = migrateProgress(this.ui, { direction: 'up' })
    const migrator = workspaceMigrator(db, runtime.workspace.migrations, {
      lockTimeoutSeconds: this.flags['lock-timeout'],
      onWait: (holder) => this.ui.note(`Waiting for the migration lock, held by ${describeHolder(holder)}…`),
      transaction: atomicMode(this.flags.atomic),
      onProgress: progress.onProgress,
    })
    if (this.flags['dry-run']) {
      const result = await this.ui.spin('Preparing the preview', () => migrator.latest({ dryRun: true, preview: this.preview(runtime.workspace) }))
      printPreview(this.ui, result)
      const unpreviewed = unpreviewedError(result)
      if (unpreviewed) throw unpreviewed
      return result
    }
    const choice = backupChoice(runtime, this.flags.backup)
    const backup = choice === 'off' ? undefined : migrationBackup(runtime, choice, this.ui)
    let result
    try {
      result = await this.underMaintenance(() =>
        recordedRun(runtime, () => progress.run(() => migrator.latest({ beforeRun: backup?.beforeRun })), {
          ended: (done) => ({ direction: 'up', migrations: done.applied, batch: done.batch.app ?? done.batch.gantry }),
          failed: (error) => ({ direction: 'up', migrations: [], error }),
          notRecorded: (reason) => this.ui.note(`This run is not in the audit log: ${reason}`),
        }),
      )
    } catch (err) {
      await backup?.record()
      throw backup ? backup.explain(err) : err
    }
    await backup?.record()
    const taken = backup?.taken()
    return { ...result, backup: taken ? { file: taken.file, bytes: taken.bytes, encrypted: taken.encrypted } : null }
  }

  /** What --dry-run needs: whether Gantry's own migrations are listed, and the workspace's shadow database. */
  private preview(workspace: Workspace): PreviewOptions | undefined {
    if (!this.flags['dry-run']) return undefined
    return { includeGantry: this.flags.all, shadowDatabase: shadowDatabaseUrl(workspace, this.envName) }
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
