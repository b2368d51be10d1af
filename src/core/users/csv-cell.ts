/**
 * CSV formula injection (DESIGN.md, invariant 4): a spreadsheet runs a cell that starts with `=`, `+`, `-`,
 * `@`, TAB or CR as a formula (`=HYPERLINK(...)` in a user's name). `users export` writes such a cell with
 * one `'` in front, which spreadsheets show as text; `users import` takes exactly that `'` off again, so
 * export → import gives back every value as it was.
 *
 * The rule covers a value that starts with any number of `'` and then a trigger, not only one `'`: a name
 * that really is `'=x` is written `''=x` and read back as `'=x`, and without the run of quotes `''=x`
 * itself would not survive the trip (read back as `'=x`).
 */

/** A value a spreadsheet could run: `'`s (any number, none included) and then a formula trigger. */
const RUNNABLE = /^'*[=+\-@\t\r]/
/** What export writes for a runnable value: one more `'` in front. */
const NEUTRALISED = /^'+[=+\-@\t\r]/

/** The cell export writes for `value`: one `'` in front when a spreadsheet could run it, else `value`. */
export function neutraliseCell(value: string): string {
  return RUNNABLE.test(value) ? `'${value}` : value
}

/** The value import reads from `cell`: `neutraliseCell` undone (one leading `'` off, in the same cases). */
export function restoreCell(cell: string): string {
  return NEUTRALISED.test(cell) ? cell.slice(1) : cell
}

/** One CSV field: null is empty; a text neutralised; quoted when it holds a comma, quote, CR, LF or edge spaces (RFC 4180). */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'string' ? neutraliseCell(value) : String(value)
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
