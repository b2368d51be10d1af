import { enumFlag } from '../../src/cli/flags.js'
import { resolve } from 'node:path'
import { once } from 'node:events'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Args, Flags } from '@oclif/core'
import { formatCount } from '../../src/cli/format.js'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatFromExtension, openExportFile, writeJsonExport } from '../../src/cli/user-files.js'
import { GantryError } from '../../src/core/errors.js'
import { exportResultSchema, type ExportResult } from '../../src/core/users/export.js'
import { userFileFormatSchema } from '../../src/core/users/import.js'
import { userStatusSchema } from '../../src/core/users/users.schema.js'

export default class UsersExport extends AdminCommand<typeof UsersExport> {
  static override summary = "Export users as CSV or JSON lines, or one person's data as JSON (--user)."
  static override description = [
    "Streamed a page of 1000 users at a time, in id order. Columns: id, email, name, role, status, createdAt, lastLoginAt — never a password hash or any secret. The file imports back with `gantry users import`. In CSV, a value a spreadsheet would run as a formula (one starting with =, +, -, @, tab or CR, or with 's and then one of those) gets one ' more in front, which the import takes off again.",
    "--user EMAIL (subject access) writes one person's data as one JSON document instead: their user (never the password hash), role and permissions, the API keys they own and their sessions (metadata, never a secret or hash), and the audit entries where they act (before/after left out: those are the other party's) or are acted on. It needs subjects:read (which *:read covers).",
    'To FILE (created with mode 0600: it holds emails; an existing file is refused unless --force; a symbolic link always, exit 2), or to stdout without FILE. --json prints { exported, file } and needs a FILE: on stdout the data itself is the output, so --json without FILE is a usage error (exit 2); use --format jsonl for JSON on stdout.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> users export users.csv',
    '<%= config.bin %> users export --format jsonl --role admin > admins.jsonl',
    '<%= config.bin %> users export disabled.csv --status disabled --json',
    '<%= config.bin %> users export --user ada@example.com ada.json',
  ]
  static override args = {
    file: Args.string({ description: 'File to write (default: stdout).' }),
  }
  static override flags = {
    user: Flags.string({ summary: "One person's data (subject access), as JSON: the email of the user.", exclusive: ['format', 'role', 'status'] }),
    format: enumFlag(userFileFormatSchema, 'csv or jsonl (default: from the FILE extension, else csv).'),
    role: Flags.string({ summary: 'Only users with this role.' }),
    status: enumFlag(userStatusSchema, 'Only active or disabled users.'),
    force: Flags.boolean({ summary: 'Overwrite FILE when it exists.' }),
  }
  static override resultSchema = exportResultSchema

  async run(): Promise<ExportResult | void> {
    const file = this.args.file === undefined ? undefined : resolve(this.args.file)
    if (file === undefined && this.jsonEnabled()) {
      throw new GantryError('INVALID_INPUT', '--json needs a FILE: without one the export itself is written to stdout.', {
        hint: 'Pass a FILE, or drop --json (use --format jsonl for JSON lines on stdout).',
      })
    }
    if (this.flags.user !== undefined) {
      const data = await this.call('users.subjectData', { email: this.flags.user })
      const written = await writeJsonExport(file, data, { force: this.flags.force, json: false })
      if (written === undefined) return
      this.ui.out(`Exported ${data.user.email}'s data to ${written}.`)
      return { exported: 1, file: written }
    }
    // csv without a FILE or a known extension
    const format = this.flags.format ?? (file === undefined ? undefined : formatFromExtension(file)) ?? 'csv'
    const admin = await this.admin()
    let exported = 0
    const chunks = admin.exportUsers({ format, role: this.flags.role, status: this.flags.status }, (n) => {
      exported = n
    })
    if (file === undefined) {
      // stdout is written, never ended: the process still owns it.
      for await (const chunk of chunks) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain')
      return
    }
    // The first chunk before FILE: a refused export (permission, input, a server that does not answer) leaves no empty file.
    const iterator = chunks[Symbol.asyncIterator]()
    const first = await iterator.next()
    let handle
    try {
      handle = await openExportFile(file, this.flags.force)
    } catch (err) {
      await iterator.return?.()
      throw err
    }
    const rest = (async function* () {
      if (first.done) return
      yield first.value
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value
    })()
    await pipeline(Readable.from(rest), handle.createWriteStream())
    this.ui.out(`Exported ${formatCount(exported)} user${exported === 1 ? '' : 's'} to ${file}.`)
    return { exported, file }
  }
}
