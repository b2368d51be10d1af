import { stripVTControlCharacters } from 'node:util'
import stringWidth from 'string-width'

/** Space between two columns, and between a record's label and its value. */
const GAP = '  '

/**
 * The lines of a table whose cells are already rendered (escaped, perhaps coloured). Within `width` columns
 * (a terminal's; undefined off a terminal, where scripts read whole rows) it is the usual aligned table; a
 * table wider than the terminal would wrap every row into noise. When only the last column overflows and
 * keeps some room, its cells wrap under it; otherwise the table is stacked as one record per row,
 * `LABEL  value` a line, records apart by a blank line, long values wrapped under their column, as psql's
 * expanded display does. Nothing is cut: every cell is still there.
 */
export function layoutTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  options: { width?: number | undefined; bold: (text: string) => string },
): string[] {
  const widths = headers.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))))
  const tableWidth = widths.reduce((sum, w) => sum + w, 0) + GAP.length * Math.max(0, widths.length - 1)
  const join = (parts: readonly string[]): string => parts.map((p, i) => (i === parts.length - 1 ? p : pad(p, widths[i] ?? 0))).join(GAP)
  if (options.width === undefined || tableWidth <= options.width) return [options.bold(join(headers)), ...rows.map(join)]
  // Only the last column too long (a description, a value): it wraps under itself while it keeps room to read.
  const lastStart = tableWidth - (widths.at(-1) ?? 0)
  const lastRoom = options.width - lastStart
  if (widths.length > 1 && lastRoom >= Math.max(MIN_WRAPPED, visibleWidth(headers.at(-1) ?? ''))) {
    const indent = ' '.repeat(lastStart)
    return [
      options.bold(join(headers)),
      ...rows.flatMap((row) => {
        const [first = '', ...rest] = wrap(row.at(-1) ?? '', lastRoom)
        return [join([...row.slice(0, -1), first]), ...rest.map((part) => indent + part)]
      }),
    ]
  }
  return records(headers, rows, options.width, options.bold)
}

/** The fewest columns a wrapped last column may have; narrower, a record per row reads better. */
const MIN_WRAPPED = 20

function records(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, width: number, bold: (text: string) => string): string[] {
  const labelWidth = Math.max(...headers.map(visibleWidth))
  const valueWidth = Math.max(1, width - labelWidth - GAP.length)
  const indent = ' '.repeat(labelWidth + GAP.length)
  const lines: string[] = []
  rows.forEach((row, r) => {
    if (r > 0) lines.push('')
    headers.forEach((header, i) => {
      const [first = '', ...rest] = wrap(row[i] ?? '', valueWidth)
      lines.push(`${bold(pad(header, labelWidth))}${GAP}${first}`.trimEnd(), ...rest.map((part) => indent + part))
    })
  })
  return lines
}

const graphemes = new Intl.Segmenter()

/**
 * A value cut into pieces of at most `width` columns, at a space where one falls late enough, else between
 * characters as the terminal shows them (a wide CJK character counts two, an emoji with its modifiers stays
 * whole). A coloured value is left whole:
 * cutting inside its escape sequences would break them, and the coloured cells (a status, a mark) are short.
 */
function wrap(value: string, width: number): string[] {
  if (visibleWidth(value) <= width || stripVTControlCharacters(value) !== value) return [value]
  const pieces: string[] = []
  let piece = ''
  for (const { segment } of graphemes.segment(value)) {
    if (piece !== '' && visibleWidth(piece + segment) > width) {
      // At the last space when it leaves at least half a line (a list reads by its items), else mid-word.
      const space = piece.lastIndexOf(' ')
      const cut = space > 0 && visibleWidth(piece.slice(0, space)) >= width / 2 ? space + 1 : piece.length
      pieces.push(piece.slice(0, cut).trimEnd())
      piece = piece.slice(cut)
    }
    piece += segment
  }
  return piece === '' ? pieces : [...pieces, piece]
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleWidth(text)))
}

/** Columns a text takes on a terminal: escape sequences take none, wide characters two (string-width). */
function visibleWidth(text: string): number {
  return stringWidth(text)
}
