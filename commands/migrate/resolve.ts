import { Args, Flags } from '@oclif/core'
import type { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { confirmDestructive } from '../../src/cli/prompts.js'
import { resolveResultSchema, workspaceMigrator } from '../../src/db/migrator/index.js'

export default class MigrateResolve extends GantryCommand<typeof MigrateResolve> {
  static override summary = 'Mark a partial or failed migration as applied or rolled back, once the schema is fixed by hand.'
  static override description =
    'Only for a migration that is partial (MySQL/MariaDB: it ran part way) or failed. --applied records it as applied; --rolled-back removes it, so `migrate latest` runs it again. The decision is recorded. Needs --force in a protected environment.'
  static override examples = [
    '<%= config.bin %> migrate resolve 20260101120000_add_index --rolled-back',
    '<%= config.bin %> migrate resolve 20260101120000_add_index --applied -e production --force',
  ]
  static override args = { name: Args.string({ description: 'The migration, with or without its extension.', required: true }) }
  static override flags = {
    applied: Flags.boolean({ summary: 'The schema now has everything the migration does: record it as applied.', exactlyOne: ['applied', 'rolled-back'] }),
    'rolled-back': Flags.boolean({ summary: 'The schema is back as before the migration: record it as not applied.', exactlyOne: ['applied', 'rolled-back'] }),
    force: sharedFlags.force,
  }
  static override resultSchema = resolveResultSchema

  async run(): Promise<z.infer<typeof resolveResultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    // Connected before asking: a database that is down fails now, not after the operator confirmed.
    const db = await runtime.database()
    const outcome = this.flags.applied ? 'applied' : 'rolled-back'
    const action = `Resolving migration ${this.args.name} as ${outcome}`
    await confirmDestructive({
      environment: this.envName,
      isProtected: runtime.environment.protected,
      force: this.flags.force,
      json: this.jsonEnabled(),
      action,
    })
    const result = await workspaceMigrator(db, runtime.workspace.migrations).resolve(this.args.name, outcome)
    this.ui.out(`${this.ui.color.green('✔')} ${result.set}/${result.name} recorded as ${outcome}.`)
    return result
  }
}
