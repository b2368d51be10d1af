/**
 * `migrate latest --backup`: a backup taken under the migration lock once there is something to apply,
 * before the first migration runs, so the copy is the schema and data the run started from. On by default
 * where the environment's config names backups.directory; there a missing dump tool is a one-line warning,
 * since a CI runner or a slim image may lack it. A protected environment without one gets a one-line
 * warning instead (a backup on a throw-away CI runner's disk would reassure falsely). Asked for with
 * --backup, a missing tool stops the run before anything changes. The backup's audit entry is written after
 * the run: on SQLite the lock is the run's own write transaction, which the entry would wait on.
 */
import type { Ui } from './cli/ui.js'
import { formatBytes } from './cli/format.js'
import { backupContext } from './backup-context.js'
import { GantryError, isGantryError } from './core/errors.js'
import { recordBackup, takeBackup, type BackupContext, type BackupResult } from './db/backups.js'
import { GANTRY_TABLE, readApplied } from './db/migrator/tracking.js'
import type { Runtime } from './runtime.js'

/**
 * `required` (--backup); `configured` (the config names backups.directory); `unconfigured` (a protected
 * environment that names none: warned); `off` (--no-backup, or an unprotected environment naming none).
 */
export type BackupChoice = 'required' | 'configured' | 'unconfigured' | 'off'

/** What `--backup` / `--no-backup` (or neither) means for this environment. */
export function backupChoice(runtime: Runtime, flag: boolean | undefined): BackupChoice {
  if (flag !== undefined) return flag ? 'required' : 'off'
  const { environment, workspace } = runtime
  if (workspace.config.environments?.[environment.name]?.backups?.directory !== undefined) return 'configured'
  return environment.protected ? 'unconfigured' : 'off'
}

export interface MigrationBackup {
  /** The migrator's beforeRun hook. */
  readonly beforeRun: () => Promise<void>
  /** The backup taken, once beforeRun ran and took one. */
  readonly taken: () => BackupResult | undefined
  /** Writes the backup's audit entry (after the run); a failure is said, never thrown. */
  readonly record: () => Promise<void>
  /** The run's error, naming the backup that puts the database back. */
  readonly explain: (err: unknown) => unknown
}

export function migrationBackup(runtime: Runtime, choice: Exclude<BackupChoice, 'off'>, ui: Ui): MigrationBackup {
  let context: BackupContext | undefined
  let result: BackupResult | undefined
  return {
    async beforeRun() {
      if (choice === 'unconfigured') {
        const name = runtime.environment.name
        ui.warn(
          `No backup before migrating: ${name} names no backups.directory in gantry.config.json (--backup takes one in ${runtime.environment.backups.directory}; --no-backup silences this).`,
        )
        return
      }
      context = await backupContext(runtime)
      const { knex } = context.db
      // A database no migration has touched holds nothing Gantry would put back (nor its audit table).
      const [gantry, app] = await Promise.all([readApplied(knex, GANTRY_TABLE), readApplied(knex, context.appTable)])
      if (gantry.length === 0 && app.length === 0) {
        ui.note('No backup before migrating: no migration has run on this database yet, so there is nothing to put back.')
        return
      }
      try {
        await context.tool?.check()
      } catch (err) {
        if (choice === 'required' || !isGantryError(err) || err.code !== 'DUMP_TOOL_MISSING') throw err
        ui.warn(`No backup before migrating: ${err.message} (--no-backup says this is intended).`)
        return
      }
      result = await takeBackup(context, { trigger: 'migration', deferAudit: true })
      ui.note(`Backed up to ${result.file} (${formatBytes(result.bytes)}${result.encrypted ? ', encrypted' : ''}) before migrating.`)
    },
    taken: () => result,
    async record() {
      if (!context || !result) return
      await recordBackup(context, result).catch((err: unknown) =>
        ui.note(`The backup is not in the audit log: ${err instanceof Error ? err.message : String(err)}`),
      )
    },
    explain(err) {
      if (!result || !isGantryError(err)) return err
      const restore = `The backup taken before this run is ${result.file}: \`gantry db restore ${result.file}\` puts the database back as the run found it.`
      return new GantryError(err.code, err.message, {
        cause: err.cause,
        hint: err.hint === undefined ? restore : `${err.hint} ${restore}`,
        details: { ...err.details, backup: result.file },
      })
    },
  }
}
