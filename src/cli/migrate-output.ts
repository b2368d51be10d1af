import type { MigrationPreview, MigrationState, PreviewMode } from '../db/migrator/types.js'
import type { Ui } from './ui.js'

/** Where the preview ran, as the first line of the printed SQL. */
function whereItRan(preview: PreviewMode): string {
  switch (preview.mode) {
    case 'copy':
      return `-- Ran on a copy of the database (${preview.on}), deleted afterwards: each migration's SQL, in the order it would run.`
    case 'shadow':
      return `-- Ran on the shadow database ${preview.on} (the target's schema, none of its rows): each migration's SQL, in the order it would run.`
    case 'per-file':
      return `-- Previewed file by file against today's schema on ${preview.on} (writes not run), because ${preview.reason ?? 'no copy or shadow database could be had'}: a migration that needs what an earlier pending one makes cannot be previewed.`
  }
}

/** Prints a dry run: where it ran, then each migration's SQL, whether it is approximate, or why it could not be previewed. */
export function printPreview(ui: Ui, result: { readonly dryRun?: readonly MigrationPreview[] | undefined; readonly preview?: PreviewMode | undefined }): void {
  const previews = result.dryRun ?? []
  // No preview at all: nothing was pending. A preview without entries: only Gantry's own were, unlisted.
  if (!result.preview) {
    ui.out('Nothing to run.')
    return
  }
  ui.out(ui.color.dim(whereItRan(result.preview)))
  if (result.preview.reason && result.preview.mode !== 'per-file') ui.out(ui.color.dim(`-- Note: ${result.preview.reason}.`))
  if (previews.length === 0) ui.out("-- Only Gantry's own migrations are pending: --all prints their SQL.")
  for (const p of previews) {
    const approximate = p.approximate ? ' — approximate: it read what the real run may find different' : ''
    ui.out(ui.color.bold(`-- ${p.set}/${p.name} (${p.direction})${approximate}`))
    // A raw statement may span lines: each is its own output line (a line break inside one would be escaped).
    for (const s of p.statements) for (const line of `${s};`.split(/\r?\n/)) ui.out(line)
    if (p.error !== undefined) ui.out(ui.color.red(`-- could not be previewed: ${p.error}`))
    else if (p.statements.length === 0) ui.out('-- (no statements)')
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
