/**
 * The backups of the environment as the admin API reads them (`GET /api/v1/admin/backups`, the console's
 * Backups page): what `gantry db backups list` shows, behind `backups:read`. The core reads no file: the
 * listing (src/db/backups.ts, each file's header in backups.directory) is handed in where the services are
 * built (src/runtime.ts).
 */
import type { ActorContext } from '../context.js'
import { requirePermission } from '../roles/permissions.js'
import type { BackupList } from './backup.schema.js'

/** What lists the environment's backups: the folder, and what each file's header says (newest first; a folder that does not exist holds none). */
export interface BackupLister {
  list(): Promise<BackupList>
}

export interface BackupsService {
  /** The backups in the environment's backups.directory, from their manifests; needs backups:read. */
  list(ctx: ActorContext): Promise<BackupList>
}

/** Without a lister (a service test), a listing fails saying so. */
export const NO_BACKUP_LISTER: BackupLister = {
  list: () => Promise.reject(new Error('no backup lister in this process')),
}

/** Builds the backups service over `lister`. */
export function createBackupsService(deps: { lister: BackupLister }): BackupsService {
  return {
    async list(ctx) {
      // Before anything is read: a refused caller learns nothing of the folder, not even whether it exists.
      requirePermission(ctx, 'backups:read')
      return deps.lister.list()
    },
  }
}
