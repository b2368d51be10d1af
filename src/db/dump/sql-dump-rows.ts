/**
 * Counts the rows of each table in a mysqldump / mariadb-dump script as it streams past, in bounded memory.
 * The counts are those of the dump itself, so they are exact whatever was written during it: MySQL offers
 * no way to share mysqldump's snapshot with another session (PostgreSQL's pg_export_snapshot has no
 * equivalent), and counting in a snapshot of our own, even just before, may differ from the dump's under
 * concurrent writes.
 *
 * What the tool writes, and what is read here: a line `CREATE TABLE \`t\` (` names a table (its count starts
 * at 0); its data are `INSERT INTO \`t\` VALUES` (an optional column list before VALUES) followed by tuples
 * `(…),(…);` on that line or the next ones. Inside a tuple only a string (single quotes, backslash escapes:
 * the tool sets sql_mode '' for its session) can hold a parenthesis; binary values are hex (--hex-blob).
 * Routines and triggers sit between `DELIMITER ;;` and `DELIMITER ;` and are skipped: their bodies may hold
 * INSERT statements. Anything else that looks like data but does not parse is an error, never a silent 0.
 */
import { GantryError } from '../../core/errors.js'

/** How much of a line is read to decide what it is (a table name, a column list). */
const HEAD_LIMIT = 64 * 1024

const enum Mode {
  /** Reading the start of a line into `head`. */
  Head,
  /** Skipping to the end of the line. */
  Skip,
  /** Between the tuples of an INSERT. */
  Values,
  Tuple,
  String,
  Escape,
}

const NEWLINE = 0x0a
const QUOTE = 0x27
const BACKSLASH = 0x5c
const OPEN = 0x28
const CLOSE = 0x29
const SEMICOLON = 0x3b

const NAME = '`((?:[^`]|``)+)`'
const CREATE_TABLE = new RegExp(`^CREATE TABLE ${NAME} \\(`)
const INSERT = new RegExp(`^INSERT INTO ${NAME}(?: \\((?:\`(?:[^\`]|\`\`)*\`(?:, ?)?)*\\))? VALUES`)
const unquote = (name: string): string => name.replace(/``/g, '`')

export class SqlDumpRowCounter {
  private mode = Mode.Head
  private head: Buffer[] = []
  private headLength = 0
  private inRoutines = false
  private table = ''
  private readonly counts = new Map<string, number>()

  /** Reads the next piece of the dump. */
  write(chunk: Buffer): void {
    let i = 0
    const n = chunk.length
    while (i < n) {
      switch (this.mode) {
        case Mode.Head: {
          const newline = chunk.indexOf(NEWLINE, i)
          const end = Math.min(newline < 0 ? n : newline, i + HEAD_LIMIT - this.headLength)
          this.head.push(chunk.subarray(i, end))
          this.headLength += end - i
          i = end
          if (end === newline) {
            i++
            this.line(true)
          } else if (this.headLength >= HEAD_LIMIT) this.line(false)
          break
        }
        case Mode.Skip: {
          const newline = chunk.indexOf(NEWLINE, i)
          if (newline < 0) return
          i = newline + 1
          this.mode = Mode.Head
          break
        }
        default:
          i = this.scan(chunk, i)
      }
    }
  }

  /** The counts, once the whole dump has been read; throws when it stops inside a statement. */
  end(): Record<string, number> {
    if (this.mode === Mode.Head && this.headLength > 0) this.line(true)
    if (this.mode !== Mode.Head && this.mode !== Mode.Skip) throw unreadable(`the dump ends inside the rows of ${this.table}`)
    return Object.fromEntries(this.counts)
  }

  /** The tuples of an INSERT, from `i`; returns where it stopped (the end of the chunk, or after `;`). */
  private scan(chunk: Buffer, start: number): number {
    let mode = this.mode
    let rows = 0
    let i = start
    const n = chunk.length
    for (; i < n; i++) {
      const c = chunk[i] as number
      if (mode === Mode.String) {
        if (c === BACKSLASH) mode = Mode.Escape
        else if (c === QUOTE) mode = Mode.Tuple
      } else if (mode === Mode.Tuple) {
        if (c === QUOTE) mode = Mode.String
        else if (c === CLOSE) mode = Mode.Values
      } else if (mode === Mode.Escape) {
        mode = Mode.String
      } else if (c === OPEN) {
        rows++
        mode = Mode.Tuple
      } else if (c === SEMICOLON) {
        mode = Mode.Skip
        i++
        break
      }
    }
    this.mode = mode
    this.counts.set(this.table, (this.counts.get(this.table) ?? 0) + rows)
    return i
  }

  /** Decides what the line whose start is in `head` is; `complete` when the head holds the whole line. */
  private line(complete: boolean): void {
    const bytes = Buffer.concat(this.head)
    this.head = []
    this.headLength = 0
    this.mode = complete ? Mode.Head : Mode.Skip
    const text = bytes.toString('utf8')
    if (this.inRoutines) {
      if (/^DELIMITER ;\s*$/.test(text)) this.inRoutines = false
      return
    }
    if (/^DELIMITER /.test(text)) {
      this.inRoutines = !/^DELIMITER ;\s*$/.test(text)
      return
    }
    const created = CREATE_TABLE.exec(text)
    if (created) {
      const name = unquote(created[1] as string)
      if (!this.counts.has(name)) this.counts.set(name, 0)
      return
    }
    if (!text.startsWith('INSERT INTO ')) return
    const insert = INSERT.exec(text)
    const name = insert ? unquote(insert[1] as string) : undefined
    if (!insert || name === undefined) throw unreadable(`an INSERT statement of an unknown form: ${JSON.stringify(text.slice(0, 80))}`)
    if (!this.counts.has(name)) throw unreadable(`rows of ${name} before its CREATE TABLE`)
    this.table = name
    this.mode = Mode.Values
    const rest = bytes.subarray(Buffer.byteLength(insert[0]))
    let i = 0
    while (i < rest.length && (this.mode as Mode) !== Mode.Skip) i = this.scan(rest, i)
    // The rest of a line cut at HEAD_LIMIT comes in the next chunks, in the mode the scan left.
    if (complete && (this.mode as Mode) === Mode.Skip) this.mode = Mode.Head
  }
}

function unreadable(what: string): GantryError {
  return new GantryError('DUMP_TOOL_FAILED', `Cannot count the rows of the dump: ${what}. Its format is not the one Gantry reads (mysqldump / mariadb-dump).`)
}
