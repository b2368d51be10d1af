/**
 * `audit export`: audit entries as JSON lines or CSV text, for archiving before a prune. The pages come
 * from the `audit.export` operation through either door (oldest first, keyset), so memory holds one page
 * at a time whatever the log's size.
 *
 * CSV: RFC 4180 as `users export` writes it (CRLF line ends; a field with a comma, quote, CR or LF, or with
 * edge spaces, quoted, quotes doubled), a header row, before and after as JSON text. Every value is
 * attacker-controlled in part (an actor from GANTRY_ACTOR, a flag key, a webhook URL), so each cell goes
 * through neutraliseCell (a spreadsheet never runs it as a formula) and control characters other than
 * TAB, CR and LF — C0, DEL, C1 and the bidi overrides and isolates — are written as visible `\u001b`
 * escapes (a terminal showing the file never obeys them). JSON lines keep every value exactly: JSON.stringify
 * escapes C0 itself, and the rest (DEL, C1 — 0x9b is CSI to a terminal — and bidi) are written as `\uXXXX`
 * escapes too, which JSON reads back as the same characters.
 */
import { z } from 'zod'
import { csvField } from '../users/csv-cell.js'
import type { AuditEntry, AuditPage } from './audit.schema.js'

export const auditExportFormatSchema = z.enum(['jsonl', 'csv'])
export type AuditExportFormat = z.infer<typeof auditExportFormatSchema>

/** The media type of each format, as a download names it. */
export const AUDIT_EXPORT_TYPES: Readonly<Record<AuditExportFormat, string>> = Object.freeze({ jsonl: 'application/x-ndjson', csv: 'text/csv' })

/** The fields exported, in column order. */
export const AUDIT_EXPORT_COLUMNS = ['id', 'at', 'actor', 'action', 'targetType', 'targetId', 'before', 'after', 'ip'] as const satisfies ReadonlyArray<
  keyof AuditEntry
>

export const auditExportResultSchema = z.object({
  exported: z.number().int(),
  file: z.string().describe('the file written (absolute path)'),
})
export type AuditExportResult = z.infer<typeof auditExportResultSchema>

/** Every page, the first without a cursor and each next one from the previous page's nextCursor. */
export async function* auditPages(fetchPage: (cursor: string | undefined) => Promise<AuditPage>): AsyncIterable<AuditEntry[]> {
  let cursor: string | undefined
  do {
    const page = await fetchPage(cursor)
    yield page.data
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
}

/** The export as text chunks: the CSV header, then one chunk per non-empty page. `onPage` gets the running count. */
export async function* auditExportText(
  pages: AsyncIterable<readonly AuditEntry[]>,
  format: AuditExportFormat,
  onPage?: (exported: number) => void,
): AsyncIterable<string> {
  const line = format === 'csv' ? csvLine : jsonLine
  if (format === 'csv') yield `${AUDIT_EXPORT_COLUMNS.join(',')}\r\n`
  let exported = 0
  for await (const entries of pages) {
    if (entries.length === 0) continue
    exported += entries.length
    onPage?.(exported)
    yield entries.map(line).join('')
  }
}

function jsonLine(entry: AuditEntry): string {
  const picked: Record<string, unknown> = {}
  for (const c of AUDIT_EXPORT_COLUMNS) picked[c] = entry[c]
  return `${JSON.stringify(picked).replace(UNESCAPED_BY_JSON, unicodeEscape)}\n`
}

function csvLine(entry: AuditEntry): string {
  return `${AUDIT_EXPORT_COLUMNS.map((c) => auditCsvField(c === 'before' || c === 'after' ? jsonText(entry[c]) : entry[c])).join(',')}\r\n`
}

const jsonText = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value))

/** C0 controls but TAB, LF and CR; DEL; the C1 controls (a terminal reads 0x9b as CSI); bidi overrides and isolates. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
/** What JSON.stringify leaves as it is that a terminal acts on: DEL, C1, bidi overrides and isolates. */
const UNESCAPED_BY_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/**
 * One CSV field of an archive: its control characters escaped (`\\u001b`: the file is read in terminals and
 * spreadsheets, and never imported back), then as every CSV field (csv-cell.ts).
 */
export function auditCsvField(value: unknown): string {
  if (value === null || value === undefined) return ''
  return csvField(typeof value === 'string' ? value.replace(CONTROL, unicodeEscape) : String(value))
}
