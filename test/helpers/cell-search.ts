/**
 * Looking for a person where they must no longer be (issue 23, erasure): every non-null cell of every table
 * of a database as text, and the places where any of some needles is seen, like secret-search.ts does for secrets.
 */
import type { Knex } from 'knex'
import type { Dialect } from '../../src/db/url.js'

/** Every base table of the database. */
export async function tableNames(k: Knex, dialect: Dialect): Promise<string[]> {
  switch (dialect) {
    case 'sqlite':
      return ((await k.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite!_%' escape '!'")) as Array<{ name: string }>).map(
        (r) => r.name,
      )
    case 'mysql':
      return (
        (await k.raw("select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'")) as [
          Array<{ name: string }>,
        ]
      )[0].map((r) => r.name)
    case 'postgres':
      return ((await k.raw('select tablename as name from pg_tables where schemaname = current_schema()')) as { rows: Array<{ name: string }> }).rows.map(
        (r) => r.name,
      )
  }
}

/** Every non-null cell of every table, as `table.column: text`. */
export async function everyCell(k: Knex, dialect: Dialect): Promise<string[]> {
  const cells: string[] = []
  for (const table of await tableNames(k, dialect)) {
    for (const row of (await k(table).select('*')) as Array<Record<string, unknown>>) {
      for (const [column, value] of Object.entries(row)) {
        if (value === null) continue
        const text = Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'object' ? JSON.stringify(value) : String(value)
        cells.push(`${table}.${column}: ${text}`)
      }
    }
  }
  return cells
}

/** The places (cells, audit pages) where any of `needles` is seen, compared without case. */
export function sightings(texts: readonly string[], needles: readonly string[]): string[] {
  return texts.filter((t) => needles.some((n) => t.toLowerCase().includes(n.toLowerCase())))
}
