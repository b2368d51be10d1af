import { Flags } from '@oclif/core'
import type { z } from 'zod'
import { formatCount } from '../../src/cli/format.js'
import { GantryCommand } from '../../src/cli/base-command.js'
import { statusSummary } from '../../src/cli/migrate-output.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { GantryError } from '../../src/core/errors.js'
import { describeHolder, migrationStatusSchema, workspaceMigrator } from '../../src/db/migrator/index.js'

export default class MigrateStatus extends GantryCommand<typeof MigrateStatus> {
  static override summary = 'Show each migration and its state, and who holds the migration lock.'
  static override description =
    'States: applied, pending, modified (edited after it ran), missing (applied, file gone), failed (safe to rerun), partial (MySQL/MariaDB: ran part way; see `migrate resolve`). --fail-on-pending exits 1 when any is pending, for CI.'
  static override examples = ['<%= config.bin %> migrate status', '<%= config.bin %> migrate status -e production --fail-on-pending --json']
  static override flags = {
    'fail-on-pending': Flags.boolean({ summary: 'Exit 1 when a migration is pending.' }),
  }
  static override resultSchema = migrationStatusSchema

  async run(): Promise<z.infer<typeof migrationStatusSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    const db = await runtime.database()
    const status = await workspaceMigrator(db, runtime.workspace.migrations).status()
    const { color } = this.ui
    const paint = { applied: color.green, pending: color.yellow, modified: color.red, partial: color.red, failed: color.red, missing: color.dim } as const
    this.ui.table(
      status.migrations.map((m) => ({ ...m, state: paint[m.state](m.state) })),
      [
        ['set', 'SET'],
        ['name', 'NAME'],
        ['state', 'STATE'],
        ['batch', 'BATCH'],
        ['appliedAt', 'APPLIED AT'],
      ],
    )
    for (const m of status.migrations.filter((x) => x.statements?.length)) {
      this.ui.out(`\n${m.set}/${m.name} is ${m.state}; statements that ran:`)
      for (const s of m.statements ?? []) this.ui.out(`  ${s}`)
    }
    this.ui.out(`\nLock: ${status.lock ? `held by ${describeHolder(status.lock)}` : 'free'}`)
    this.ui.out(statusSummary(status.counts))
    if (this.flags['fail-on-pending'] && status.pending > 0) {
      throw new GantryError('MIGRATION_PENDING', `${formatCount(status.pending)} migration${status.pending === 1 ? '' : 's'} pending.`, {
        details: { pending: status.pending },
      })
    }
    return status
  }
}
