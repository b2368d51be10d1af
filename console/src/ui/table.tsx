/** Tables as every area shows them: a caption, a head of column names, a body of rows. */
import type { ComponentChildren } from 'preact'

/** A column's name, or false for a column this reader does not get (Actions, for one who may not act). */
export type Column = string | false

/** The head row: one column header per name. */
export function TableHead({ columns }: { columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) =>
          column === false ? null : (
            <th key={column} scope="col">
              {column}
            </th>
          ),
        )}
      </tr>
    </thead>
  )
}

/**
 * A table in its scrolling frame. `name` is its `data-table` (what tests and the benchmark find it by), `busy`
 * its `aria-busy` while it loads, `captionClass` "sr-only" for a caption only screen readers need.
 */
export function Table({
  caption,
  captionClass,
  columns,
  busy,
  name,
  children,
}: {
  caption: ComponentChildren
  captionClass?: string
  columns: readonly Column[]
  busy?: boolean
  name?: string
  /** The rows. */
  children: ComponentChildren
}) {
  return (
    <div class="table-wrap">
      <table aria-busy={busy} data-table={name}>
        <caption class={captionClass}>{caption}</caption>
        <TableHead columns={columns} />
        <tbody>{children}</tbody>
      </table>
    </div>
  )
}
