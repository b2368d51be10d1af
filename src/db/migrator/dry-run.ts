import { isGantryError } from '../../core/errors.js'
import type { Database } from '../connect.js'
import { driverMessage } from '../errors.js'
import { createDryKnex } from './clients.js'
import { loadMigration } from './source.js'
import type { PreviewItem } from './preview.js'
import type { MigrationPreview } from './types.js'

/**
 * The per-file preview, the dry run's fallback when no copy or shadow database can be had (TOOLCHAIN §9):
 * each migration alone on the target, reads on a read-only session, writes recorded and answered with a
 * fake. A migration that read the schema saw today's, so its preview is approximate; one that needs what an
 * earlier pending migration makes cannot be previewed: it gets an `error` and the others are kept.
 */
export async function previewPerFile(db: Database, items: readonly PreviewItem[]): Promise<MigrationPreview[]> {
  const dry = await createDryKnex(db)
  try {
    const previews: MigrationPreview[] = []
    for (const { file, direction } of items) {
      const preview = { set: file.set, name: file.name, direction }
      dry.recorder.start()
      try {
        const migration = await loadMigration(file)
        await migration[direction](dry.knex)
        previews.push({ ...preview, statements: [...dry.recorder.statements], approximate: dry.recorder.reads.length > 0 })
      } catch (err) {
        if (isGantryError(err) && err.code === 'TSX_MISSING') throw err // not this migration's fault: nothing previews
        previews.push({ ...preview, statements: [...dry.recorder.statements], approximate: true, error: driverMessage((err as Error).message) })
      } finally {
        dry.recorder.stop()
      }
    }
    return previews
  } finally {
    await dry.destroy()
  }
}
