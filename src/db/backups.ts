/**
 * `gantry db backup`, `db backups list` and `db restore`: a consistent dump by the dialect's own tool
 * (dump-tools.ts), wrapped with its manifest into one file (src/core/backups/backup-file.ts: gzip, and
 * AES-256-GCM in authenticated chunks under GANTRY_BACKUP_KEY), and restored only from a file that verified
 * whole. Like migrations, these act on the database itself: local only, never through the server.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isDeepStrictEqual } from 'node:util'
import { basename, isAbsolute, join, resolve } from 'node:path'
import type { Environment } from '../config/schema.js'
import { backupManifestSchema, type BackupManifest, type BackupTrigger, type TableSet } from '../core/backups/backup.schema.js'
import { extractBackupContent, hashContentFile, readBackupHeader, writeBackupFile } from '../core/backups/backup-file.js'
import { parseBackupKey } from '../core/backups/backup-key.js'
import { scrubCredentials, type ScrubSummary } from '../core/backups/scrub.js'
import { readErasureLedger, reapplyErasures, restoreErasureLedger } from '../core/users/erasure.js'
import type { AuditService } from '../core/audit/audit.service.js'
import type { Clock } from '../core/clock.js'
import type { ActorContext } from '../core/context.js'
import { GantryError, isGantryError } from '../core/errors.js'
import { downloadBackup, isS3Url, parseS3Url, uploadBackup } from './backup-storage.js'
import type { Database } from './connect.js'
import { dumpTool, tableRowCounts, type DumpTool } from './dump-tools.js'
import { bareName, gantryMigrationsDirectory, listMigrations } from './migrator/source.js'
import { GANTRY_TABLE, readApplied, readRuns, type RunRow } from './migrator/tracking.js'

/** The extension of a backup file: `backups list` reads the files that have it. */
export const BACKUP_EXTENSION = '.gantry-backup'

export interface BackupContext {
  readonly db: Database
  readonly environment: Environment
  /** The workspace root: a relative backups.directory is read from it (a relative --output, from the current folder). */
  readonly root: string
  readonly gantryVersion: string
  readonly clock: Clock
  /** The workspace's app migrations table (migrations.tableName). */
  readonly appTable: string
  /** Who acts (the local operator), and the audit log both commands write to. */
  readonly ctx: ActorContext
  readonly audit: AuditService
  readonly tool?: DumpTool | undefined
}

export interface BackupResult {
  readonly file: string
  readonly bytes: number
  readonly encrypted: boolean
  readonly manifest: BackupManifest
  /** Its uploaded copy (`s3://…`) where backups.s3 is set; null otherwise. */
  readonly stored: string | null
}

/** The folder backups go to and are listed from: backups.directory, from the workspace root. */
export function backupDirectory(environment: Environment, root: string): string {
  const { directory } = environment.backups
  return isAbsolute(directory) ? directory : resolve(root, directory)
}

/** The environment's backup key (GANTRY_BACKUP_KEY), parsed; undefined when none is set. */
export function backupKey(environment: Environment): ReturnType<typeof parseBackupKey> | undefined {
  return environment.backups.key === undefined ? undefined : parseBackupKey(environment.backups.key)
}

/** A new file name that sorts by time: `production-20261205T031500123Z.gantry-backup`. */
function defaultName(environment: string, at: number): string {
  // Milliseconds too: two backups begun in the same second get a file each.
  const stamp = new Date(at).toISOString().replace(/[-:.]/g, '')
  return `${environment}-${stamp}${BACKUP_EXTENSION}`
}

export interface BackupOptions {
  /** The file to write (default: a new file in backups.directory). */
  readonly output?: string | undefined
  readonly trigger?: BackupTrigger | undefined
  /** Which tables (default all): Gantry's own (`gantry_*`) or the app's (every other). */
  readonly tables?: TableSet | undefined
  /**
   * Leave the audit entry to the caller (recordBackup): one that holds a write lock on the database — the
   * migration lock on SQLite is the run's write transaction — would wait on itself.
   */
  readonly deferAudit?: boolean | undefined
}

/** Takes a backup of the whole database into `output` (default: a new file in backups.directory). */
export async function takeBackup(c: BackupContext, options: BackupOptions = {}): Promise<BackupResult> {
  const key = backupKey(c.environment)
  const startedAt = c.clock.now()
  const output =
    options.output === undefined ? join(backupDirectory(c.environment, c.root), defaultName(c.environment.name, startedAt)) : resolve(options.output)
  if (options.output === undefined) await mkdir(backupDirectory(c.environment, c.root), { recursive: true, mode: 0o700 })
  const work = await mkdtemp(join(tmpdir(), 'gantry-backup-'))
  try {
    const dumpFile = join(work, 'dump')
    const migrations = await appliedMigrations(c.db, c.appTable)
    const tables = options.tables ?? 'all'
    const dumped = await (c.tool ?? dumpTool(c.db)).dump(dumpFile, tables)
    const content = await hashContentFile(dumpFile)
    const manifest = backupManifestSchema.parse({
      format: 1,
      environment: c.environment.name,
      dialect: c.db.dialect,
      serverVersion: dumped.serverVersion,
      gantryVersion: c.gantryVersion,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(c.clock.now()).toISOString(),
      trigger: options.trigger ?? 'manual',
      tables,
      rowCounts: dumped.rowCounts,
      migrations,
      content: { format: dumped.format, tool: dumped.tool, ...content },
    })
    // Level 1: most of gzip's saving at a third of its time (a pg_dump custom-format dump is compressed already).
    const { bytes } = await writeBackupFile({ output, manifest, content: dumpFile, key, gzipLevel: 1 })
    const stored = await upload(c, output)
    const result = { file: output, bytes, encrypted: key !== undefined, manifest, stored }
    if (!options.deferAudit) await recordBackup(c, result)
    return result
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Uploads the written backup where backups.s3 is set; a failure says the local file is kept. */
async function upload(c: BackupContext, file: string): Promise<string | null> {
  const { s3 } = c.environment.backups
  if (!s3) return null
  try {
    return await uploadBackup(s3, file)
  } catch (err) {
    if (!isGantryError(err)) throw err
    throw new GantryError(err.code, `${file} is written, but not uploaded: ${err.message}`, { cause: err, hint: err.hint, details: err.details })
  }
}

/**
 * Runs `work` with a local path of the backup `file`: the file itself, or, for `s3://BUCKET/KEY`, a private
 * temporary copy downloaded first (and deleted after).
 */
export async function withLocalBackup<T>(c: BackupContext, file: string, work: (path: string) => Promise<T>): Promise<T> {
  if (!isS3Url(file)) return work(file)
  const dir = await mkdtemp(join(tmpdir(), 'gantry-download-'))
  try {
    const path = join(dir, basename(parseS3Url(file).key))
    await downloadBackup(c.environment.backups.s3, file, path)
    return await work(path)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Who took a copy of the data, and where it went: written after the dump, so the backup does not hold it. */
export async function recordBackup(c: BackupContext, result: BackupResult): Promise<void> {
  const { manifest } = result
  await c.db.knex.transaction((trx) =>
    c.audit.append(trx, c.ctx, {
      action: 'db.backup',
      targetType: 'database',
      targetId: c.environment.name,
      after: {
        file: result.file,
        bytes: result.bytes,
        encrypted: result.encrypted,
        trigger: manifest.trigger,
        rowCounts: manifest.rowCounts,
        ...(result.stored ? { stored: result.stored } : {}),
      },
    }),
  )
}

/** The migrations applied, per set, each with the checksum its last applying run recorded. */
async function appliedMigrations(db: Database, appTable: string): Promise<BackupManifest['migrations']> {
  const runs = await readRuns(db.knex)
  const checksumOf = (set: RunRow['migration_set'], name: string): string | null =>
    runs.findLast((r) => r.migration_set === set && r.name === name && r.direction === 'up' && r.checksum !== null)?.checksum ?? null
  const [gantry, app] = await Promise.all([readApplied(db.knex, GANTRY_TABLE), readApplied(db.knex, appTable)])
  return {
    gantry: gantry.map((m) => ({ name: m.name, checksum: checksumOf('gantry', m.name) })),
    app: app.map((m) => ({ name: m.name, checksum: checksumOf('app', m.name) })),
  }
}

export interface ListedBackup {
  readonly file: string
  readonly bytes: number
  readonly encrypted: boolean
  /** Null when the file's header does not read as a backup's (its error says why). */
  readonly manifest: BackupManifest | null
  readonly error?: string | undefined
}

/** The backups in `directory`, newest first by their manifest's start (files that do not read, last). */
export async function listBackups(directory: string): Promise<ListedBackup[]> {
  const names = await readdir(directory).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)))
  const listed = await Promise.all(
    names
      .filter((n) => n.endsWith(BACKUP_EXTENSION))
      .map(async (name): Promise<ListedBackup> => {
        const file = join(directory, name)
        const { size } = await stat(file)
        try {
          const header = await readBackupHeader(file)
          return { file, bytes: size, encrypted: header.encrypted, manifest: header.manifest }
        } catch (err) {
          return { file, bytes: size, encrypted: false, manifest: null, error: err instanceof Error ? err.message : String(err) }
        }
      }),
  )
  return listed.sort((a, b) => (b.manifest?.startedAt ?? '').localeCompare(a.manifest?.startedAt ?? ''))
}

export interface RestorePlan {
  readonly file: string
  readonly manifest: BackupManifest
  /** The environment restored into. */
  readonly target: string
  /** Whether credentials are scrubbed (a backup of another environment, without --keep-credentials). */
  readonly scrub: boolean
}

export interface RestoreResult extends RestorePlan {
  readonly dryRun: boolean
  /** Rows per table after the restore (before any scrub), against the manifest's; empty on a dry run. */
  readonly rowCounts: ReadonlyArray<{ table: string; expected: number; actual: number | null }>
  readonly scrubbed: ScrubSummary | null
  /** Erased users the backup brought back, erased again from the ledger (src/core/users/erasure.ts); 0 on a dry run. */
  readonly erasuresReapplied: number
}

/**
 * Reads the header and checks what can be checked before anything is touched: the dialect matches, and the
 * backup's Gantry schema is one this version knows (a newer release's backup may hold tables and columns
 * this one cannot serve).
 */
export async function planRestore(c: BackupContext, file: string, options: { keepCredentials: boolean }): Promise<RestorePlan> {
  const path = resolve(file)
  const { manifest } = await readBackupHeader(path)
  if (manifest.dialect !== c.db.dialect)
    throw new GantryError('INVALID_INPUT', `${path} is a ${manifest.dialect} backup; environment ${c.environment.name} runs on ${c.db.dialect}.`)
  const known = new Set(listMigrations('gantry', gantryMigrationsDirectory()).map((f) => bareName(f.name)))
  const newer = manifest.migrations.gantry.map((m) => bareName(m.name)).filter((name) => !known.has(name))
  if (newer.length > 0)
    throw new GantryError(
      'INVALID_INPUT',
      `${path} was taken by a newer Gantry (${manifest.gantryVersion}): its schema has ${newer.join(', ')}, which this version does not know.`,
      {
        hint: `Restore it with Gantry ${manifest.gantryVersion} or later.`,
      },
    )
  // An app-only backup brings no credentials: the target's own Gantry tables stay as they are.
  const scrub = manifest.environment !== c.environment.name && manifest.tables !== 'app' && !options.keepCredentials
  return { file: path, manifest, target: c.environment.name, scrub }
}

/**
 * Restores a planned backup: the whole file verified first (into a private temporary copy of the dump:
 * a tampered, truncated or wrongly keyed file fails here, having touched nothing), then the dialect's
 * tool, then the scrub, the erasure ledger re-applied and an audit entry in one transaction, then the row
 * counts compared. The ledger is read before the tool replaces it: the union of the target's and the
 * backup's is re-applied, so restoring a backup taken before an erasure does not bring the person back.
 */
export async function restoreBackup(c: BackupContext, plan: RestorePlan, options: { dryRun: boolean }): Promise<RestoreResult> {
  const work = await mkdtemp(join(tmpdir(), 'gantry-restore-'))
  try {
    const dumpFile = join(work, 'dump')
    // The plan was made from a header read before the whole file verified (and, at a prompt, maybe long
    // before): a file replaced since must not be restored under it.
    const verified = await extractBackupContent(plan.file, backupKey(c.environment), dumpFile)
    if (!isDeepStrictEqual(verified, plan.manifest))
      throw new GantryError('BACKUP_INVALID', `${plan.file} changed since it was read: it is another backup now. Nothing was restored.`, {
        details: { file: plan.file, reason: 'changed' },
      })
    if (options.dryRun) return { ...plan, dryRun: true, rowCounts: [], scrubbed: null, erasuresReapplied: 0 }
    const ledger = await readErasureLedger(c.db.knex)
    await (c.tool ?? dumpTool(c.db)).restore(dumpFile, plan.manifest.content.format)
    const now = await tableRowCounts(c.db)
    const rowCounts = Object.entries(plan.manifest.rowCounts).map(([table, expected]) => ({ table, expected, actual: now[table] ?? null }))
    // Three steps, each committed before the next: the credentials scrubbed, the erasure ledger made whole,
    // the erased users erased again. A failure in the last (a table the erasure cannot rewrite) leaves the
    // first two done, and the ledger in the database for a second restore to read.
    const { knex } = c.db
    const scrubbed = plan.scrub ? await knex.transaction((trx) => scrubCredentials(trx, c.clock.now(), plan.manifest.environment)) : null
    const full = await knex.transaction((trx) => restoreErasureLedger(trx, ledger))
    let erasuresReapplied: number | null = null
    let erasureError: unknown
    try {
      erasuresReapplied = await knex.transaction((trx) => reapplyErasures(trx, full))
    } catch (err) {
      erasureError = err
    }
    await knex.transaction((trx) =>
      c.audit.append(trx, c.ctx, {
        action: 'db.restore',
        targetType: 'database',
        targetId: c.environment.name,
        after: {
          file: plan.file,
          from: plan.manifest.environment,
          takenAt: plan.manifest.startedAt,
          gantryVersion: plan.manifest.gantryVersion,
          scrubbed,
          erasuresReapplied,
          ...(erasureError === undefined ? {} : { erasuresFailed: full.length }),
        },
      }),
    )
    if (erasureError !== undefined) {
      const reason = erasureError instanceof Error ? erasureError.message : String(erasureError)
      throw new GantryError(
        'RESTORE_INCOMPLETE',
        `The backup is restored${scrubbed ? ' and its credentials scrubbed' : ''}, but the users of the erasure ledger could not be erased again: ${reason}`,
        {
          cause: erasureError,
          hint: 'Do not serve from this database until they are. Fix the cause (an app row that references the user: delete it, or give the foreign key ON DELETE CASCADE), then erase them again: `gantry users delete EMAIL --erase`, or the same restore again (the ledger is kept in the database).',
          details: { file: plan.file, erasures: full.length },
        },
      )
    }
    return { ...plan, dryRun: false, rowCounts, scrubbed, erasuresReapplied: erasuresReapplied ?? 0 }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
