/**
 * What `gantry db backup`, `db backups list` and `db restore` act with, from the runtime: the database, the
 * environment, the workspace, the audit log and the local operator. Composed here because src/db may not
 * reach the runtime (imports run down), as migration-audit.ts is for migration runs.
 */
import type { BackupContext } from './db/backups.js'
import { dumpTool } from './db/dump-tools.js'
import { systemClock } from './core/clock.js'
import { localContext } from './core/context.js'
import { localActor } from './local-actor.js'
import { packageVersion } from './package-root.js'
import type { Runtime } from './runtime.js'

export async function backupContext(runtime: Runtime): Promise<BackupContext> {
  const [db, services] = await Promise.all([runtime.database(), runtime.services()])
  return {
    db,
    environment: runtime.environment,
    root: runtime.workspace.root,
    gantryVersion: packageVersion(),
    clock: systemClock,
    appTable: runtime.workspace.migrations.tableName,
    ctx: localContext(localActor()),
    audit: services.audit,
    tool: dumpTool(db, { programs: runtime.environment.backups.programs }),
  }
}
