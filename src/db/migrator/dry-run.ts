import { GantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { driverMessage } from '../errors.js'
import { createDryKnex } from './clients.js'
import { loadMigration, type MigrationFile } from './source.js'
import type { MigrationPreview } from './types.js'

/**
 * The SQL each migration would send, without running it (TOOLCHAIN §9): reads reach the database, writes
 * are recorded and answered with a fake. A migration that read the schema sees today's schema, so its
 * preview is marked approximate.
 */
export async function previewMigrations(
  db: Database,
  items: ReadonlyArray<{ readonly file: MigrationFile; readonly direction: 'up' | 'down' }>,
): Promise<MigrationPreview[]> {
  const dry = await createDryKnex(db)
  try {
    const previews: MigrationPreview[] = []
    for (const { file, direction } of items) {
      const migration = await loadMigration(file)
      dry.recorder.start()
      try {
        await migration[direction](dry.knex)
      } catch (err) {
        throw new GantryError('MIGRATION_FAILED', `Cannot preview ${file.name} (${direction}): ${driverMessage((err as Error).message)}`, {
          cause: err,
          hint: 'A preview runs reads on a read-only session and skips writes, so a migration that reads what it writes, or writes while reading, cannot be previewed; run it on a copy of the database instead.',
        })
      } finally {
        dry.recorder.stop()
      }
      previews.push({ set: file.set, name: file.name, direction, statements: [...dry.recorder.statements], approximate: dry.recorder.readSeen })
    }
    return previews
  } finally {
    await dry.destroy()
  }
}
