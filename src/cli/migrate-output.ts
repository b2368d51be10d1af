import type { MigrationPreview } from '../db/migrator/types.js'
import type { Ui } from './ui.js'

/** Prints a dry run: the SQL of each migration, and whether it is approximate. */
export function printPreview(ui: Ui, previews: readonly MigrationPreview[]): void {
  if (previews.length === 0) ui.out('Nothing to run.')
  for (const p of previews) {
    ui.out(ui.color.bold(`-- ${p.set}/${p.name} (${p.direction})${p.approximate ? ' — approximate: it read the schema, which the real run will have changed' : ''}`))
    for (const s of p.statements) ui.out(`${s};`)
    if (p.statements.length === 0) ui.out('-- (no statements)')
  }
}
