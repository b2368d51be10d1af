import { Flags } from '@oclif/core'
import type { z } from 'zod'
import { formatCount } from '../../src/cli/format.js'
import { GantryCommand } from '../../src/cli/base-command.js'
import { atomicMode, sharedFlags } from '../../src/cli/flags.js'
import { migrateProgress } from '../../src/cli/migrate-progress.js'
import { printPreview } from '../../src/cli/migrate-output.js'
import { recordedRun } from '../../src/migration-audit.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { confirmDestructive } from '../../src/cli/prompts.js'
import { shadowDatabaseUrl } from '../../src/config/workspace.js'
import { describeHolder, rollbackResultSchema, unpreviewedError, workspaceMigrator } from '../../src/db/migrator/index.js'
import type { Runtime } from '../../src/runtime.js'

export default class MigrateRollback extends GantryCommand<typeof MigrateRollback> {
  static override summary = "Undo the app's last batch of migrations, or the last N, or all after a name."
  static override description =
    "Runs each migration's down in reverse order and records it. Gantry's own schema is never rolled back. In a protected environment it needs --force (or the environment name typed at a prompt)."
  static override examples = [
    '<%= config.bin %> migrate rollback',
    '<%= config.bin %> migrate rollback --step 2',
    '<%= config.bin %> migrate rollback --to 20260101120000_create_users',
    '<%= config.bin %> migrate rollback --all --dry-run',
  ]
  static override flags = {
    step: Flags.integer({ summary: 'Undo the last N migrations.', min: 1, exclusive: ['to', 'all'] }),
    to: Flags.string({ summary: 'Undo every migration applied after NAME (NAME stays applied).', exclusive: ['step', 'all'] }),
    all: Flags.boolean({ summary: 'Undo every app migration.', exclusive: ['step', 'to'] }),
    'dry-run': Flags.boolean({ summary: 'Print the SQL of each down without running it on this database (as latest --dry-run does).' }),
    force: sharedFlags.force,
    'lock-timeout': sharedFlags.lockTimeout,
    atomic: sharedFlags.atomic,
  }
  static override resultSchema = rollbackResultSchema

  async run(): Promise<z.infer<typeof rollbackResultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    const dryRun = this.flags['dry-run']
    if (!dryRun && !(await this.confirmRollback(runtime))) return { rolledBack: [] }
    const db = await runtime.database()
    const progress = migrateProgress(this.ui, { direction: 'down' })
    const migrator = workspaceMigrator(db, runtime.workspace.migrations, {
      lockTimeoutSeconds: this.flags['lock-timeout'],
      onWait: (holder) => this.ui.note(`Waiting for the migration lock, held by ${describeHolder(holder)}…`),
      transaction: atomicMode(this.flags.atomic),
      onProgress: progress.onProgress,
    })
    const { step, to, all } = this.flags
    const preview = dryRun ? { shadowDatabase: shadowDatabaseUrl(runtime.workspace, this.envName) } : undefined
    const result = dryRun
      ? await this.ui.spin('Preparing the preview', () => migrator.rollback({ step, to, all, dryRun, preview }))
      : await recordedRun(runtime, () => progress.run(() => migrator.rollback({ step, to, all })), {
          ended: (done) => ({ direction: 'down', migrations: done.rolledBack }),
          failed: (error) => ({ direction: 'down', migrations: [], error }),
          notRecorded: (reason) => this.ui.note(`This run is not in the audit log: ${reason}`),
        })
    if (result.dryRun) printPreview(this.ui, result)
    const unpreviewed = unpreviewedError(result)
    if (unpreviewed) throw unpreviewed
    return result
  }

  /**
   * In a protected environment without --force: connects, lists what the rollback would undo, then asks
   * (a database that is down fails before the question, and the operator sees what they confirm). False
   * when there is nothing to undo: nothing to ask either.
   */
  private async confirmRollback(runtime: Runtime): Promise<boolean> {
    if (!runtime.environment.protected || this.flags.force) return true
    const { step, to, all } = this.flags
    const plan = await workspaceMigrator(await runtime.database(), runtime.workspace.migrations).planRollback({ step, to, all })
    if (plan.length === 0) {
      this.ui.out('Nothing to roll back.')
      return false
    }
    this.ui.out('To undo, in this order:')
    for (const m of plan) this.ui.out(`  ${m.set}/${m.name} ${this.ui.color.dim(`(batch ${m.batch})`)}`)
    await confirmDestructive({
      environment: this.envName,
      isProtected: true,
      force: false,
      json: this.jsonEnabled(),
      action: `Rolling back ${formatCount(plan.length)} migration${plan.length === 1 ? '' : 's'}`,
    })
    return true
  }
}
