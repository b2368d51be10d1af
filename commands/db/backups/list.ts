import type { z } from 'zod'
import { GantryCommand } from '../../../src/cli/base-command.js'
import { formatBytes, formatCount } from '../../../src/cli/format.js'
import { backupListSchema } from '../../../src/core/backups/backup.schema.js'
import { backupDirectory, listBackups } from '../../../src/db/backups.js'

export default class DbBackupsList extends GantryCommand<typeof DbBackupsList> {
  static override summary = "List the backups in the environment's backups.directory, newest first, from their manifests."
  static override description =
    'Reads only each file’s header (no key needed, nothing decrypted): when and where it was taken, by what (manual: `db backup`; schedule: the worker, whose retention may delete it; migration: `migrate latest --backup`), by which Gantry, its rows, whether it is encrypted. A file whose header does not read is listed with why. It opens no database.'
  static override examples = ['<%= config.bin %> db backups list -e production', '<%= config.bin %> db backups list --json']
  static override resultSchema = backupListSchema

  async run(): Promise<z.infer<typeof backupListSchema>> {
    const workspace = this.workspace()
    const directory = backupDirectory(this.environment(workspace), workspace.root)
    const data = await listBackups(directory)
    this.ui.table(
      data.map((b) => ({
        file: b.file,
        taken: b.manifest?.startedAt ?? `unreadable: ${b.error ?? ''}`,
        from: b.manifest?.environment ?? '',
        by: b.manifest?.trigger ?? '',
        rows: b.manifest ? formatCount(Object.values(b.manifest.rowCounts).reduce((sum, n) => sum + n, 0)) : '',
        size: formatBytes(b.bytes),
        encrypted: b.encrypted ? 'yes' : 'no',
      })),
      [
        ['file', 'FILE'],
        ['taken', 'TAKEN'],
        ['from', 'FROM'],
        ['by', 'BY'],
        ['rows', 'ROWS'],
        ['size', 'SIZE'],
        ['encrypted', 'ENCRYPTED'],
      ],
      { empty: `No backups in ${directory}: take one with \`gantry db backup -e ${this.envName}\`.` },
    )
    return { directory, data }
  }
}
