import type { MigrationPreview, MigrationState } from '../db/migrator/types.js'
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

/** States in the order a summary names them: what needs attention first, applied last. */
const SUMMARY_ORDER = ['pending', 'failed', 'partial', 'modified', 'missing', 'applied'] as const satisfies readonly MigrationState[]

/**
 * `28 pending, 1 failed, 1 modified, 20 applied.`: pending always (the count a reader looks for), every other
 * state when there is one.
 */
export function statusSummary(counts: Readonly<Record<MigrationState, number>>): string {
  const parts = SUMMARY_ORDER.filter((state) => state === 'pending' || counts[state] > 0).map((state) => `${counts[state]} ${state}`)
  return `${parts.join(', ')}.`
}
