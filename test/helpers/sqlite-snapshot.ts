/**
 * A snapshot of a SQLite database's Gantry tables, kept in memory: which rows a request changed (for "did
 * a refused request change anything?"), and how to put them back (row by row, so a cell that touched two
 * rows costs two writes, not a reload). `total_changes()` of the one connection tells cheaply whether
 * anything was written at all. The audit log is append-only: new entries are dropped, never compared.
 */
import type { Knex } from 'knex'

type Row = Record<string, unknown> & { __rowid: number }

/** One row that differs from the snapshot: added, removed, or changed (before and after). */
export interface RowChange {
  readonly table: string
  readonly change: 'added' | 'removed' | 'changed'
  readonly before?: Record<string, unknown>
  readonly after?: Record<string, unknown>
}

export interface SnapshotOptions {
  /** Tables compared but never put back (their rows live on in a process's memory: signing keys). */
  readonly keep?: readonly string[]
  /** Tables put back but never compared (counters the server writes on its own). */
  readonly uncompared?: readonly string[]
  /** Columns a request may move without changing anything that matters (`last_used_at`). */
  readonly volatileColumns?: readonly string[]
}

export interface SqliteSnapshot {
  /** Whether anything was written since the snapshot (or the last restore). */
  written(): Promise<boolean>
  /** The rows that differ from the snapshot, volatile columns and uncompared tables left out. */
  diff(): Promise<RowChange[]>
  /** Puts every differing row back (kept tables are re-read into the snapshot instead). */
  restore(): Promise<void>
  /** Takes the snapshot again, from the database as it is now. */
  retake(): Promise<void>
}

const AUDIT = 'gantry_audit_log'

/** Snapshots every gantry_ table of the database behind `knex` (a one-connection SQLite pool). */
export async function sqliteSnapshot(knex: Knex, options: SnapshotOptions = {}): Promise<SqliteSnapshot> {
  const keep = new Set(options.keep ?? [])
  const uncompared = new Set(options.uncompared ?? [])
  const volatile = new Set(options.volatileColumns ?? [])
  const tables = (
    (await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'gantry\\_%' ESCAPE '\\' AND name <> ?`, [AUDIT])) as { name: string }[]
  ).map((t) => t.name)
  let rows = new Map<string, Map<string, Row>>()
  let auditMax = 0
  let changes = 0

  const key = (row: Row): string => JSON.stringify(Object.entries(row).filter(([k]) => k !== '__rowid'))
  const read = async (table: string): Promise<Map<string, Row>> => {
    const all = (await knex.raw(`SELECT rowid AS __rowid, * FROM "${table}"`)) as Row[]
    return new Map(all.map((r) => [key(r), r]))
  }
  const totalChanges = async (): Promise<number> => ((await knex.raw('SELECT total_changes() AS n')) as { n: number }[])[0]?.n ?? 0
  const strip = (row: Row): Record<string, unknown> => Object.fromEntries(Object.entries(row).filter(([k]) => k !== '__rowid' && !volatile.has(k)))
  /** Per table, the rows only in the snapshot and the rows only in the database now. */
  const compare = async (): Promise<Map<string, { gone: Row[]; added: Row[] }>> => {
    const out = new Map<string, { gone: Row[]; added: Row[] }>()
    for (const table of tables) {
      const then = rows.get(table) as Map<string, Row>
      const now = await read(table)
      const gone = [...then].filter(([k]) => !now.has(k)).map(([, r]) => r)
      const added = [...now].filter(([k]) => !then.has(k)).map(([, r]) => r)
      if (gone.length + added.length > 0) out.set(table, { gone, added })
    }
    return out
  }

  const snapshot: SqliteSnapshot = {
    async retake() {
      rows = new Map()
      for (const table of tables) rows.set(table, await read(table))
      auditMax = ((await knex.raw(`SELECT COALESCE(MAX(id), 0) AS n FROM ${AUDIT}`)) as { n: number }[])[0]?.n ?? 0
      changes = await totalChanges()
    },
    async written() {
      return (await totalChanges()) !== changes
    },
    async diff() {
      const out: RowChange[] = []
      for (const [table, { gone, added }] of await compare()) {
        if (uncompared.has(table)) continue
        const byId = (rs: Row[]): Map<number, Row> => new Map(rs.map((r) => [r.__rowid, r]))
        const before = byId(gone)
        const after = byId(added)
        for (const [id, b] of before) {
          const a = after.get(id)
          if (!a) out.push({ table, change: 'removed', before: strip(b) })
          else if (JSON.stringify(strip(a)) !== JSON.stringify(strip(b))) out.push({ table, change: 'changed', before: strip(b), after: strip(a) })
        }
        for (const [id, a] of after) if (!before.has(id)) out.push({ table, change: 'added', after: strip(a) })
      }
      return out
    },
    async restore() {
      const differing = await compare()
      // Foreign keys off (outside the transaction, where SQLite honours it): putting a row back by delete and
      // insert must not cascade to its children, and the state restored was consistent already.
      await knex.raw('PRAGMA foreign_keys = OFF')
      await knex.transaction(async (trx) => {
        await trx.raw(`DELETE FROM ${AUDIT} WHERE id > ?`, [auditMax])
        for (const [table, { gone, added }] of differing) {
          if (keep.has(table)) continue
          for (const row of added) await trx.raw(`DELETE FROM "${table}" WHERE rowid = ?`, [row.__rowid])
          for (const row of gone) {
            const columns = Object.keys(row).filter((c) => c !== '__rowid')
            await trx.raw(
              `INSERT INTO "${table}" (rowid, ${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${['?', ...columns.map(() => '?')].join(', ')})`,
              [row.__rowid, ...columns.map((c) => row[c] as Knex.Value)],
            )
          }
        }
      })
      await knex.raw('PRAGMA foreign_keys = ON')
      for (const table of keep) if (differing.has(table)) rows.set(table, await read(table))
      changes = await totalChanges()
    },
  }
  await snapshot.retake()
  return snapshot
}
