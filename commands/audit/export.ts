import { once } from 'node:events'
import { lstat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { enumFlag } from '../../src/cli/flags.js'
import { formatCount } from '../../src/cli/format.js'
import { formatFromExtension, writeExportAtomically } from '../../src/cli/user-files.js'
import { auditExportFormatSchema, auditExportResultSchema, auditExportText, auditPages, type AuditExportResult } from '../../src/core/audit/audit-export.js'
import { GantryError } from '../../src/core/errors.js'

export default class AuditExport extends AdminCommand<typeof AuditExport> {
  static override summary = 'Export audit entries as JSON lines or CSV, oldest first, for archiving before a prune.'
  static override description = [
    'Read a page of 1000 at a time (never the whole log at once), in time order, with the filters of `audit list`. --since and --until take an ISO time or a duration back from now; --until defaults to now, so entries written during the export stay out. Columns: id, at, actor, action, targetType, targetId, before, after (JSON), ip.',
    "In CSV a value a spreadsheet would run as a formula (one starting with =, +, -, @, tab or CR) gets a ' in front, and control characters other than tab, CR and LF are written as \\u escapes; JSON lines keep every value exactly.",
    'To FILE (mode 0600: the log names people; written to a temporary file beside it and moved into place only when complete; an existing FILE is refused unless --force), or to stdout, as `users export` and `flags export` write. --json prints { exported, file } and needs FILE.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> audit export audit-archive.jsonl --until 90d',
    '<%= config.bin %> audit export --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z --format csv > january.csv',
    "<%= config.bin %> audit export --actor 'local:*' --action users.delete --format jsonl",
  ]
  static override args = { file: Args.string({ description: 'File to write (default: stdout).' }) }
  static override flags = {
    since: Flags.string({ summary: 'From this time (ISO) or this long ago (30d).' }),
    until: Flags.string({ summary: 'Before this time (ISO) or this long ago (default: now).' }),
    actor: Flags.string({ summary: 'Only entries by this actor; * stands for any run of characters (local:*).' }),
    action: Flags.string({ summary: 'Only this action, e.g. users.delete.' }),
    format: enumFlag(auditExportFormatSchema, "jsonl or csv (default: from FILE's extension, else jsonl)."),
    force: Flags.boolean({ summary: 'Replace FILE when it exists.' }),
  }
  static override resultSchema = auditExportResultSchema

  async run(): Promise<AuditExportResult | void> {
    const { since, until, actor, action, force } = this.flags
    const file = this.args.file === undefined ? undefined : resolve(this.args.file)
    if (file === undefined && this.jsonEnabled())
      throw new GantryError('INVALID_INPUT', '--json needs FILE: without it the export itself is written to stdout.', {
        hint: 'Name a FILE, or drop --json (use --format jsonl for JSON lines on stdout).',
      })
    if (file !== undefined && !force && (await lstat(file).catch(() => undefined)))
      throw new GantryError('FILE_EXISTS', `${file} exists already.`, { hint: 'Pass --force to replace it.' })
    const format = this.flags.format ?? (file === undefined ? undefined : formatFromExtension(file)) ?? 'jsonl'
    const admin = await this.admin()
    let exported = 0
    const pages = auditPages((cursor) => admin.call('audit.export', { since, until, actor, action, cursor }))
    const chunks = auditExportText(pages, format, (n) => {
      exported = n
    })
    if (file === undefined) {
      // stdout is written, never ended: the process still owns it.
      for await (const chunk of chunks) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain')
      return
    }
    await writeExportAtomically(file, chunks, force)
    this.ui.out(`Exported ${formatCount(exported)} audit entr${exported === 1 ? 'y' : 'ies'} to ${file}.`)
    return { exported, file }
  }
}
