/**
 * Pruning of migration-run records (migrations.runRetention): records started before a cutoff go, except
 * those the migrator and backups still read, per (migration_set, name):
 * - the latest run: `migrate status` derives partial and failed from it (status.ts);
 * - the latest applying run with a checksum (done, adopted or resolved-applied, not down): the checksum an
 *   edited file is compared with. Without it the migrator would adopt the edited file's checksum as new;
 * - the latest `up` run with a checksum: the checksum a backup's manifest records (src/db/backups.ts).
 * Everything older is history only (who ran what, when).
 */
import type { Knex } from 'knex'
import { RUNS_TABLE } from './tracking.js'

/** The statuses that leave a migration applied (status.ts's APPLIED_WITH). */
const APPLIED_WITH = ['done', 'adopted', 'resolved-applied']

/** Deletes up to `limit` run records started before `before` that nothing reads any more; says how many went. */
export async function pruneMigrationRuns(k: Knex, before: Date, limit: number): Promise<number> {
  if (!(await k.schema.hasTable(RUNS_TABLE))) return 0
  const newest = (scope: (q: Knex.QueryBuilder) => void) => {
    const q = k(RUNS_TABLE).max('id').groupBy('migration_set', 'name')
    scope(q)
    return q
  }
  // MySQL cannot read a table in a subquery of a DELETE of it: the ids are read first, then deleted.
  const rows = (await k(RUNS_TABLE)
    .select('id')
    .where('started_at', '<', before)
    .whereNotIn(
      'id',
      newest(() => undefined),
    )
    .whereNotIn(
      'id',
      newest((q) => void q.whereNot('direction', 'down').whereIn('status', APPLIED_WITH).whereNotNull('checksum')),
    )
    .whereNotIn(
      'id',
      newest((q) => void q.where('direction', 'up').whereNotNull('checksum')),
    )
    .orderBy('id')
    .limit(limit)) as Array<{ id: unknown }>
  if (rows.length === 0) return 0
  return k(RUNS_TABLE)
    .whereIn(
      'id',
      rows.map((r) => Number(r.id)),
    )
    .delete()
}
