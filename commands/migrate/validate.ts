import type { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { noteMigrateTarget } from '../../src/cli/migrate-target.js'
import { GantryError } from '../../src/core/errors.js'
import { validateResultSchema, workspaceMigrator } from '../../src/db/migrator/index.js'

export default class MigrateValidate extends GantryCommand<typeof MigrateValidate> {
  static override summary = 'Check that applied migrations are unchanged and none is partial (for CI).'
  static override description = 'Exits 1 (MIGRATION_DRIFT) when an applied migration was edited or one is partial; missing files are warnings.'
  static override examples = ['<%= config.bin %> migrate validate', '<%= config.bin %> migrate validate -e production --json']
  static override resultSchema = validateResultSchema

  async run(): Promise<z.infer<typeof validateResultSchema>> {
    const runtime = await this.runtime()
    noteMigrateTarget(this.ui, this.envName, runtime)
    const result = await workspaceMigrator(await runtime.database(), runtime.workspace.migrations).validate()
    for (const name of result.missing) this.ui.warn(`${name} is applied but its file is missing.`)
    if (!result.ok) {
      const what = [...result.modified.map((n) => `${n} (modified)`), ...result.partial.map((n) => `${n} (partial)`)].join(', ')
      throw new GantryError('MIGRATION_DRIFT', `Migrations drifted: ${what}.`, { details: result })
    }
    this.ui.out(`${this.ui.color.green('✔')} Applied migrations match their files.`)
    return result
  }
}
