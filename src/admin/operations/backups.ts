/**
 * The environment's backups (`gantry db backups list` shows the same, /api/v1/admin/backups): read only.
 * Taking and restoring a backup act on the database itself and stay local commands (src/db/backups.ts).
 */
import { backupListSchema } from '../../core/backups/backup.schema.js'
import { operation } from '../operation.js'

const tag = 'backups'

export const backupOperations = {
  'backups.list': operation({
    tag,
    permission: 'backups:read',
    summary:
      "The backups in the environment's backups.directory, newest first, from each file's header (nothing decrypted): when and from where it was taken, by what, its rows, its size, whether it is encrypted; a file whose header does not read, with why.",
    http: { method: 'get', path: '/api/v1/admin/backups' },
    output: backupListSchema,
    run: ({ backups }, ctx) => backups.list(ctx),
  }),
} as const
