import type { MigrationFile } from './source.js'
import { bareName } from './source.js'
import { isoTime, type AppliedRow, type RunRow } from './tracking.js'
import { migrationStateSchema, type MigrationInfo, type MigrationSet, type MigrationState } from './types.js'

/** What one set looks like on disk and in its tracking table. */
export interface SetSnapshot {
  readonly set: MigrationSet
  readonly table: string
  readonly files: readonly MigrationFile[]
  readonly applied: readonly AppliedRow[]
}

/** One migration with everything known about it. */
export interface MigrationEntry {
  readonly set: MigrationSet
  readonly name: string
  readonly state: MigrationState
  readonly file: MigrationFile | undefined
  readonly row: AppliedRow | undefined
  /** The latest run record, if any. */
  readonly latest: RunRow | undefined
  /** The checksum it was applied with (its latest successful 'up' record), if known. */
  readonly appliedChecksum: string | undefined
}

const APPLIED_WITH = new Set(['done', 'adopted', 'resolved-applied'])

/**
 * Derives each migration's state (DESIGN.md): partial (latest record partial, or running while nobody holds
 * the lock: `otherRunActive` false), then for applied ones missing/modified/applied, for the others failed/pending.
 */
export function deriveEntries(sets: readonly SetSnapshot[], runs: readonly RunRow[], otherRunActive: boolean): MigrationEntry[] {
  const entries: MigrationEntry[] = []
  for (const snapshot of sets) {
    const own = runs.filter((r) => r.migration_set === snapshot.set)
    const files = new Map(snapshot.files.map((f) => [f.name, f]))
    const rows = new Map(snapshot.applied.map((r) => [bareName(r.name), r]))
    const names = [...new Set([...files.keys(), ...rows.keys()])].sort()
    for (const name of names) {
      const mine = own.filter((r) => bareName(r.name) === name)
      const latest = mine.at(-1)
      const lastUp = mine.filter((r) => r.direction !== 'down' && APPLIED_WITH.has(r.status) && r.checksum).at(-1)
      const file = files.get(name)
      const row = rows.get(name)
      const state = stateOf(file, row, latest, lastUp?.checksum ?? undefined, otherRunActive)
      entries.push({ set: snapshot.set, name, state, file, row, latest, appliedChecksum: lastUp?.checksum ?? undefined })
    }
  }
  return entries
}

function stateOf(
  file: MigrationFile | undefined,
  row: AppliedRow | undefined,
  latest: RunRow | undefined,
  checksum: string | undefined,
  otherRunActive: boolean,
): MigrationState {
  if (latest?.status === 'partial' || (latest?.status === 'running' && !otherRunActive)) return 'partial'
  if (row) {
    if (!file) return 'missing'
    return checksum && checksum !== file.checksum ? 'modified' : 'applied'
  }
  if (latest?.direction === 'up' && latest.status === 'failed') return 'failed'
  return 'pending'
}

/** The statements a run record lists. */
export function recordedStatements(run: RunRow | undefined): string[] {
  if (!run?.statements) return []
  try {
    const parsed: unknown = JSON.parse(run.statements)
    return Array.isArray(parsed) ? parsed.map(String) : []
  } catch {
    return []
  }
}

/** An entry in the public status shape. */
export function toInfo(entry: MigrationEntry): MigrationInfo {
  const info: MigrationInfo = {
    set: entry.set,
    name: entry.name,
    state: entry.state,
    batch: entry.row ? entry.row.batch : null,
    appliedAt: entry.row ? isoTime(entry.row.migration_time) : null,
  }
  if (entry.state === 'partial' || entry.state === 'failed') {
    info.statements = recordedStatements(entry.latest)
    if (entry.latest?.error) info.error = entry.latest.error
  }
  return info
}

/** How many migrations are in each state, every state named (zeros included). */
export function countStates(migrations: readonly MigrationInfo[]): Record<MigrationState, number> {
  const counts = Object.fromEntries(migrationStateSchema.options.map((state) => [state, 0])) as Record<MigrationState, number>
  for (const m of migrations) counts[m.state] += 1
  return counts
}
