/**
 * `db backup --tables gantry|app|all`: which tables a backup holds. Gantry's are those named `gantry_*` (its
 * schema, its migration tracking and lock) in the database's own schema; everything else — the app's tables,
 * knex's tracking tables, any other PostgreSQL schema — is the app's.
 */
import type { TableSet } from '../../core/backups/backup.schema.js'

export type { TableSet }

/** Whether `table` (keyed as row counts are: a PostgreSQL table outside the current schema as `schema.name`) is in `set`. */
export function inTableSet(set: TableSet, table: string): boolean {
  if (set === 'all') return true
  const gantry = !table.includes('.') && table.startsWith('gantry_')
  return set === 'gantry' ? gantry : !gantry
}

/** The row counts of the tables in `set`. */
export function countsInSet(set: TableSet, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([table]) => inTableSet(set, table)))
}
