/**
 * The foreign keys a database declares, read from its own catalog (SQLite's pragma, MariaDB's and
 * PostgreSQL's information schema), and the rows that break them: what a restored copy is checked with.
 * A MariaDB restore runs with FOREIGN_KEY_CHECKS=0 and SQLite enforces nothing unless asked, so a dangling
 * reference there shows only by looking; on PostgreSQL one would mean a constraint that did not come back.
 */
import type { Knex } from 'knex'
import type { Dialect } from '../../src/db/url.js'

/** One single-column foreign key: `table.column` references `parent.parentColumn`. */
export interface ForeignKey {
  readonly table: string
  readonly column: string
  readonly parent: string
  readonly parentColumn: string
}

/** A foreign key with the rows of its table whose value has no parent row. */
export interface DanglingReference extends ForeignKey {
  readonly rows: number
}

/** Every foreign key of the database's tables (the current schema's on PostgreSQL), sorted. */
export async function foreignKeys(k: Knex, dialect: Dialect): Promise<ForeignKey[]> {
  let keys: ForeignKey[]
  if (dialect === 'sqlite') {
    const tables = (await k.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'")) as Array<{ name: string }>
    keys = []
    for (const { name } of tables) {
      const list = (await k.raw('select "table" as parent, "from" as col, "to" as parent_col from pragma_foreign_key_list(?)', [name])) as Array<{
        parent: string
        col: string
        parent_col: string
      }>
      keys.push(...list.map((f) => ({ table: name, column: f.col, parent: f.parent, parentColumn: f.parent_col })))
    }
  } else if (dialect === 'mysql') {
    const [rows] = (await k.raw(
      `select table_name as t, column_name as c, referenced_table_name as p, referenced_column_name as pc
       from information_schema.key_column_usage
       where table_schema = database() and referenced_table_name is not null`,
    )) as [Array<{ t: string; c: string; p: string; pc: string }>]
    keys = rows.map((r) => ({ table: r.t, column: r.c, parent: r.p, parentColumn: r.pc }))
  } else {
    const { rows } = (await k.raw(
      `select c.conrelid::regclass::text as t, a.attname as c, c.confrelid::regclass::text as p, af.attname as pc
       from pg_constraint c
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       join pg_attribute af on af.attrelid = c.confrelid and af.attnum = c.confkey[1]
       where c.contype = 'f' and c.connamespace = current_schema()::regnamespace`,
    )) as { rows: Array<{ t: string; c: string; p: string; pc: string }> }
    keys = rows.map((r) => ({ table: r.t, column: r.c, parent: r.p, parentColumn: r.pc }))
  }
  return keys.sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`))
}

/** The foreign keys of `keys` that some row breaks (a non-null value with no parent row), with how many rows. */
export async function danglingReferences(k: Knex, keys: readonly ForeignKey[]): Promise<DanglingReference[]> {
  const dangling: DanglingReference[] = []
  for (const key of keys) {
    const [row] = (await k(`${key.table} as child`)
      .count({ n: '*' })
      .whereNotNull(`child.${key.column}`)
      .whereNotExists((q) =>
        q
          .select(k.raw('1'))
          .from(`${key.parent} as parent`)
          .whereRaw('?? = ??', [`parent.${key.parentColumn}`, `child.${key.column}`]),
      )) as Array<{
      n: number | string
    }>
    const rows = Number(row?.n ?? 0)
    if (rows > 0) dangling.push({ ...key, rows })
  }
  return dangling
}
