/**
 * The file side of `users import`: the bytes of a CSV or JSON-lines file as records, one at a time, each
 * with the line it starts on. A file that cannot be a user file (a plain-text password column or key, an
 * unknown column, a broken header, CSV that does not parse) is refused here, before anything is written;
 * a single unreadable row becomes a record with its reason, for the import to report.
 *
 * CSV cells are read through restoreCell, which undoes what export does against formula injection
 * (csv-cell.ts).
 */
import { Readable, pipeline } from 'node:stream'
import { parse } from 'csv-parse'
import { GantryError } from '../errors.js'
import { restoreCell } from './csv-cell.js'
import type { ImportSource, UserFileFormat } from './import.js'
import { normaliseEmail } from './users.schema.js'

/** The columns (CSV) or keys (JSON lines) a row may have. */
const IMPORT_COLUMNS = ['email', 'name', 'role', 'status', 'password_hash'] as const
/** What `users export` writes besides the importable columns: read and ignored, so an export imports as it is. */
const IGNORED_COLUMNS = ['id', 'createdAt', 'updatedAt', 'lastLoginAt', 'lockedUntil'] as const

/** A record read from the file: its fields, or why it could not be read. */
export type RawRecord = { line: number; fields: Record<string, unknown> } | { line: number; error: string; email?: string | undefined }

const invalid = (message: string, details?: Record<string, unknown>): GantryError =>
  new GantryError('IMPORT_INVALID', message, { details, hint: 'Fix the file and run the import again; nothing after this point was read.' })

const plainPasswords = (): GantryError =>
  new GantryError('IMPORT_INVALID', 'The file has a plain-text "password" column: plain-text passwords in a file are refused, and nothing was imported.', {
    hint: 'Import the users without passwords (they set one with `gantry users set-password`), or export argon2/bcrypt hashes as "password_hash".',
  })

/**
 * Checks a header (or a JSON line's keys): no plain password, nothing unknown. An unknown column is named by
 * its position, never its text: the file may not be a user file at all (a `.env` passed by mistake), and its
 * first line must not reach a terminal or a log.
 */
function checkColumns(columns: readonly string[], where: string): void {
  if (columns.some((c) => c.toLowerCase() === 'password')) throw plainPasswords()
  const known = new Set<string>([...IMPORT_COLUMNS, ...IGNORED_COLUMNS])
  const unknown = columns.flatMap((c, i) => (known.has(c) ? [] : [i + 1]))
  if (unknown.length > 0) {
    throw new GantryError(
      'IMPORT_INVALID',
      `${where}: ${unknown.length > 1 ? `columns ${unknown.join(', ')} are not known columns` : `column ${unknown[0]} is not a known column`}.`,
      {
        hint: `The columns are ${IMPORT_COLUMNS.join(', ')} (and ${IGNORED_COLUMNS.join(', ')}, which are ignored).`,
      },
    )
  }
}

/** JSON lines are checked for a `password` key in a first pass, so the refusal comes before any write. */
export async function refusePlainPasswords(source: ImportSource): Promise<void> {
  for await (const [, text] of splitLines(source())) {
    if (!text.includes('password')) continue
    try {
      const value = JSON.parse(text) as unknown
      if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => k.toLowerCase() === 'password')) throw plainPasswords()
    } catch (err) {
      if (err instanceof GantryError) throw err
      // a line that is not JSON is reported as a bad row by the second pass
    }
  }
}

/** The file's records, in order, with the line each starts on. */
export function readRecords(source: ImportSource, format: UserFileFormat): AsyncIterable<RawRecord> {
  return format === 'csv' ? readCsv(source) : readJsonLines(source)
}

async function* readCsv(source: ImportSource): AsyncGenerator<RawRecord> {
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true })
  const records = pipeline(Readable.from(source()), parser, () => undefined) as AsyncIterable<{ record: string[]; info: { lines: number } }>
  let header: string[] | undefined
  try {
    for await (const { record, info } of records) {
      // info.lines is the line the record ends on; a quoted field may span lines.
      const line = info.lines - record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0)
      if (header === undefined) {
        header = record.map((c) => c.trim())
        const normalised = header.map((c) => c.toLowerCase())
        if (normalised.includes('password')) throw plainPasswords()
        header = header.map((c, i) => ((IMPORT_COLUMNS as readonly string[]).includes(normalised[i] as string) ? (normalised[i] as string) : c))
        checkColumns(header, 'The header (line 1)')
        if (!header.includes('email')) throw invalid('The header (line 1) has no "email" column.')
        if (new Set(header).size !== header.length) throw invalid('The header (line 1) names a column twice.')
        continue
      }
      const cells = record.map(restoreCell)
      const rawEmail = cells[header.indexOf('email')]
      const email = rawEmail === undefined ? undefined : normaliseEmail(rawEmail) || undefined
      if (cells.length !== header.length) {
        yield { line, error: `expected ${header.length} fields, found ${cells.length}`, email }
        continue
      }
      const fields: Record<string, unknown> = {}
      header.forEach((column, i) => {
        const value = cells[i]
        if (value !== undefined && value !== '' && (IMPORT_COLUMNS as readonly string[]).includes(column)) fields[column] = value
      })
      yield { line, fields }
    }
  } catch (err) {
    if (err instanceof GantryError) throw err
    // csv-parse's message quotes the text it stopped at: only its code (INVALID_OPENING_QUOTE …) is shown.
    const { lines: line, code } = err as { lines?: number; code?: unknown }
    const reason = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''
    throw invalid(`The file is not valid CSV${line === undefined ? '' : ` at line ${line}`}${reason}.`, { line })
  }
  if (header === undefined) throw invalid('The file is empty: a CSV import starts with a header line (email,name,role,password_hash).')
}

async function* readJsonLines(source: ImportSource): AsyncGenerator<RawRecord> {
  for await (const [line, text] of splitLines(source())) {
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      yield { line, error: 'not valid JSON' }
      continue
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, error: 'not a JSON object' }
      continue
    }
    const object = value as Record<string, unknown>
    checkColumns(Object.keys(object), `Line ${line}`)
    const fields: Record<string, unknown> = {}
    for (const key of IMPORT_COLUMNS) if (object[key] !== undefined && object[key] !== null && object[key] !== '') fields[key] = object[key]
    yield { line, fields }
  }
}

/** Lines of a byte stream (UTF-8, a leading BOM dropped, \n or \r\n), numbered from 1. */
async function* splitLines(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<[number, string]> {
  const decoder = new TextDecoder('utf-8')
  let buffer = ''
  let n = 0
  const clean = (text: string): string => {
    const t = text.endsWith('\r') ? text.slice(0, -1) : text
    return n === 1 && t.charCodeAt(0) === 0xfeff ? t.slice(1) : t
  }
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    let start = 0
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n', start)) {
      n++
      yield [n, clean(buffer.slice(start, end))]
      start = end + 1
    }
    buffer = buffer.slice(start)
  }
  buffer += decoder.decode()
  if (buffer.length > 0) {
    n++
    yield [n, clean(buffer)]
  }
}
