import { enumFlag } from '../../src/cli/flags.js'
import { createReadStream, statSync, type ReadStream } from 'node:fs'
import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { shellWord } from '../../src/cli/hints.js'
import { formatFromExtension } from '../../src/cli/user-files.js'
import { GantryError } from '../../src/core/errors.js'
import { importResultSchema, userFileFormatSchema, type ImportProgress, type ImportResult } from '../../src/core/users/import.js'

/** Bad rows listed on a terminal; --json lists them all. */
const SHOWN = 20

export default class UsersImport extends AdminCommand<typeof UsersImport> {
  static override summary = 'Import users from a CSV or JSON lines file.'
  static override description = [
    'Streamed, in batches of 1000 rows. Columns (CSV header or JSON keys): email (required), name, role (default --default-role), status (active or disabled) and password_hash.',
    'A row carries no password (the user sets one with `gantry users set-password`) or a hash from another system: argon2 in PHC form or bcrypt ($2a$/$2b$/$2y$), verified at the first login and then re-hashed to argon2id. A plain-text "password" column refuses the whole file before anything is written (exit 2). The id, createdAt, updatedAt, lastLoginAt and lockedUntil columns that `gantry users export` writes are ignored.',
    "Bad rows (invalid email, unknown role, a role with permissions the caller does not hold, bad hash, an email twice in the file or already in the database) are reported with their line number and reason while the good rows go in. --atomic: all or nothing (one transaction; one bad row and nothing is written). --dry-run: check everything, write nothing. A CSV cell that starts with ' (or more) and then =, +, -, @, tab or CR loses one ' (what `gantry users export` adds against spreadsheet formulas).",
    '--skip-existing passes over rows whose email exists already (counted in existing, not skipped): run the same import again with it to resume one that stopped; Ctrl-C says how many users went in and prints that command.',
    "Exit codes: 0 when every row was imported (or would be, with --dry-run); 1 when any row was skipped (the good rows are in, unless --atomic or --dry-run); 2 when the file itself is refused. --json prints { rows, imported, skipped: [{ line, email, reason }], existing, dryRun, atomic } with every skipped row; a terminal shows the first 20. Audit: a users.create entry (with the user's email and role) per user created, and a users.import entry with the counts.",
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> users import users.csv',
    '<%= config.bin %> users import users.jsonl --dry-run',
    '<%= config.bin %> users import legacy-export.csv --atomic --default-role operator --json',
  ]
  static override args = {
    file: Args.string({ description: 'CSV (.csv) or JSON lines (.jsonl, .ndjson) file.', required: true }),
  }
  static override flags = {
    format: enumFlag(userFileFormatSchema, 'File format (default: from the extension).'),
    'dry-run': Flags.boolean({ summary: 'Check every row, write nothing.' }),
    atomic: Flags.boolean({ summary: 'All or nothing: one bad row and nothing is imported.' }),
    'default-role': Flags.string({ summary: 'Role of a row that names none.', default: 'viewer' }),
    'skip-existing': Flags.boolean({
      summary: 'Pass over rows whose email exists already (counted, not skipped as bad): resumes an import that stopped.',
    }),
  }

  /** How far the import went: the last progress of committed batches, for a Ctrl-C's message. */
  private progress: ImportProgress = { rows: 0, imported: 0, skipped: 0 }
  static override resultSchema = importResultSchema

  async run(): Promise<ImportResult> {
    const file = resolve(this.args.file)
    const format = this.flags.format ?? formatFromExtension(file)
    if (!format) {
      throw new GantryError('INVALID_INPUT', `Cannot tell the format of ${file} from its extension.`, { hint: 'Pass --format csv or --format jsonl.' })
    }
    let size: number | undefined
    try {
      const stat = statSync(file)
      if (stat.isFile()) size = stat.size
    } catch {
      // reported below
    }
    if (size === undefined) throw new GantryError('INVALID_INPUT', `No file at ${file}.`, { hint: 'Check the path.' })
    const admin = await this.admin()
    // A bar on a terminal's stderr; on a pipe, a file or under --json, nothing (the result says it all).
    const bar = this.ui.progress()
    // The stream being read (JSON lines are read twice): its bytesRead of the file's size is the percentage.
    let reading: ReadStream | undefined
    let result: ImportResult
    try {
      result = await admin.importUsers(
        () => (reading = createReadStream(file)),
        {
          format,
          dryRun: this.flags['dry-run'],
          atomic: this.flags.atomic,
          defaultRole: this.flags['default-role'],
          skipExisting: this.flags['skip-existing'],
        },
        (p) => {
          this.progress = p
          bar?.update({
            done: reading?.bytesRead ?? 0,
            total: size,
            items: p.rows,
            unit: 'rows',
            counts: [
              [p.imported, this.flags['dry-run'] ? 'valid' : 'imported'],
              [p.skipped, 'skipped'],
            ],
          })
        },
      )
    } catch (err) {
      bar?.done()
      throw err
    }
    bar?.done(true)
    this.report(result)
    if (result.skipped.length > 0) process.exitCode = 1
    return result
  }

  /**
   * Ctrl-C outside --atomic and --dry-run: the batches committed so far stay (each is its own transaction; the
   * one in flight rolls back with the process), so say how many and how to go on.
   */
  protected override interrupted(): GantryError {
    const { imported, rows } = this.progress
    if (imported === 0 || this.flags.atomic || this.flags['dry-run']) return super.interrupted()
    const resume = [this.config.bin, 'users', 'import', ...this.argv.filter((a) => a !== '--skip-existing'), '--skip-existing'].map(shellWord).join(' ')
    return new GantryError(
      'CANCELLED',
      `Cancelled: ${formatCount(imported)} user${imported === 1 ? ' was' : 's were'} imported from the first ${formatCount(rows)} rows before it stopped.`,
      { hint: `${resume} (it passes over the users already in)`, details: { imported, rows } },
    )
  }

  private report(result: ImportResult): void {
    const { ui } = this
    const skipped = result.skipped.length
    if (skipped > 0) {
      ui.table(
        result.skipped.slice(0, SHOWN).map((s) => ({ ...s, email: s.email ?? '-' })),
        [
          ['line', 'LINE'],
          ['email', 'EMAIL'],
          ['reason', 'REASON'],
        ],
      )
      if (skipped > SHOWN) ui.out(`… and ${formatCount(skipped - SHOWN)} more skipped rows (--json lists them all).`)
      ui.out()
    }
    // The words of the progress bar: rows, imported (valid on a dry run), skipped.
    const rows = `${formatCount(result.rows)} row${result.rows === 1 ? '' : 's'}`
    const [imported, skips] = [formatCount(result.imported), formatCount(skipped)]
    if (result.dryRun) ui.out(`Dry run: ${rows} read; ${imported} valid, ${skips} skipped. Nothing was written.`)
    else if (result.atomic && skipped > 0) ui.out(`--atomic: ${rows} read, ${skips} skipped; nothing was imported.`)
    else {
      const existed = result.existing > 0 ? `; ${formatCount(result.existing)} existed already` : ''
      ui.out(`Imported ${imported} user${result.imported === 1 ? '' : 's'} from ${rows}; ${skips} skipped${existed}.`)
    }
  }
}
