import { Flags } from '@oclif/core'
import { GantryCommand } from '../../src/cli/base-command.js'
import { formatBytes, formatCount } from '../../src/cli/format.js'
import { backupContext } from '../../src/backup-context.js'
import { backupResultSchema, tableSetSchema } from '../../src/core/backups/backup.schema.js'
import { takeBackup, type BackupResult } from '../../src/db/backups.js'

export default class DbBackup extends GantryCommand<typeof DbBackup> {
  static override summary = "Back up the environment's database into one file: a consistent dump by the database's own tool, with its manifest."
  static override description = [
    "PostgreSQL: pg_dump's custom format in one snapshot (the application keeps writing meanwhile). MySQL/MariaDB: mariadb-dump (or mysqldump) --single-transaction. SQLite: VACUUM INTO. The tools are found on the PATH and in the system's folders, or at the absolute paths backups.programs names: install postgresql-client or mariadb-client where they are missing.",
    'The file holds a manifest (environment, dialect and server version, Gantry version, applied migrations with their checksums, row counts, the sha256 of the dump) and the dump, gzipped; with GANTRY_BACKUP_KEY set (base64 of 32 random bytes), encrypted with AES-256-GCM in authenticated chunks, so a changed or cut file is refused before anything is restored. It is written 0600 into backups.directory (default .gantry/backups), or to --output; with backups.s3 set it is then uploaded to that bucket (credentials from the AWS SDK chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a role).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> db backup -e production',
    '<%= config.bin %> db backup --output /backups/before-upgrade.gantry-backup --json',
    '<%= config.bin %> db backup -e staging --tables gantry',
  ]
  static override flags = {
    output: Flags.string({ char: 'o', summary: 'The file to write (default: a new file in backups.directory).' }),
    tables: Flags.option({
      options: tableSetSchema.options,
      default: 'all' as const,
      summary: "Which tables: all (default), gantry (Gantry's own, gantry_*) or app (every other table). A restore replaces only the tables its backup holds.",
    })(),
  }
  static override resultSchema = backupResultSchema

  async run(): Promise<BackupResult> {
    const context = await backupContext(await this.runtime())
    const result = await this.ui.spin(`Backing up ${this.envName}`, () => takeBackup(context, { output: this.flags.output, tables: this.flags.tables }))
    const rows = Object.values(result.manifest.rowCounts).reduce((sum, n) => sum + n, 0)
    this.ui.out(
      `Wrote ${result.file} (${formatBytes(result.bytes)}, ${formatCount(rows)} rows in ${formatCount(Object.keys(result.manifest.rowCounts).length)} tables${result.encrypted ? ', encrypted' : ''}).`,
    )
    if (result.stored) this.ui.out(`Uploaded to ${result.stored}.`)
    if (!result.encrypted) this.ui.note('Not encrypted: set GANTRY_BACKUP_KEY (openssl rand -base64 32) to encrypt backups.')
    return result
  }
}
