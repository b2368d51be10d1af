import type { MigrationPreview } from '../db/migrator/types.js'
import type { Ui } from './ui.js'

/** Prints a dry run: the SQL of each migration, and whether it is approximate. */
export function printPreview(ui: Ui, previews: readonly MigrationPreview[]): void {
  if (previews.length === 0) ui.out('Nothing to run.')
  for (const p of previews) {
    ui.out(
      ui.color.bold(`-- ${p.set}/${p.name} (${p.direction})${p.approximate ? ' — approximate: it read the schema, which the real run will have changed' : ''}`),
    )
    // A raw statement may span lines: each is its own output line (a line break inside one would be escaped).
    for (const s of p.statements) for (const line of `${s};`.split(/\r?\n/)) ui.out(line)
    if (p.statements.length === 0) ui.out('-- (no statements)')
  }
}
