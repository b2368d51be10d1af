/**
 * A backup as Gantry writes and reads it: the manifest that travels in the file's header (what the backup
 * holds, from where, and how to check it), and what the commands answer.
 */
import { z } from 'zod'

/** The dump inside: PostgreSQL's custom format (pg_restore reads it), plain SQL (MySQL/MariaDB), a SQLite database file. */
export const contentFormatSchema = z.enum(['pg-custom', 'sql', 'sqlite'])
export type ContentFormat = z.infer<typeof contentFormatSchema>

/** Which tables a backup holds: `all`, Gantry's own (`gantry_*`), or the app's (every other). */
export const tableSetSchema = z.enum(['all', 'gantry', 'app'])
export type TableSet = z.infer<typeof tableSetSchema>

export const backupTriggerSchema = z.enum(['manual', 'schedule', 'migration'])
export type BackupTrigger = z.infer<typeof backupTriggerSchema>

export const backupMigrationSchema = z.object({ name: z.string(), checksum: z.string().nullable() })

export const backupManifestSchema = z.object({
  /** The container's format version: a reader refuses one it does not know. */
  format: z.literal(1),
  environment: z.string(),
  dialect: z.enum(['sqlite', 'mysql', 'postgres']),
  /** The database server's own version string (`select version()`, sqlite_version()). */
  serverVersion: z.string(),
  gantryVersion: z.string(),
  /** ISO 8601: when the dump started and ended. */
  startedAt: z.string(),
  finishedAt: z.string(),
  /** What took it: a person (`manual`), the worker's schedule (only these are ever deleted by retention), or `migrate latest --backup`. Files older than the field read as manual. */
  trigger: backupTriggerSchema.default('manual'),
  /** Which tables it holds: `all` (Gantry's and the app's). */
  tables: tableSetSchema,
  /** Rows per table, counted in the backup's own snapshot where the tool allows (else just before it). */
  rowCounts: z.record(z.string(), z.number().int().min(0)),
  /** The migrations applied when it was taken, per set, with their checksums as the tracking table holds them. */
  migrations: z.object({ gantry: z.array(backupMigrationSchema), app: z.array(backupMigrationSchema) }),
  content: z.object({
    format: contentFormatSchema,
    /** The tool that wrote it, with its version (`pg_dump (PostgreSQL) 15.2`, `VACUUM INTO`). */
    tool: z.string(),
    /** sha256 (hex) and size of the dump itself, before compression and encryption. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().min(0),
  }),
})
export type BackupManifest = z.infer<typeof backupManifestSchema>

/** What `db backup` answers. */
export const backupResultSchema = z.object({
  file: z.string(),
  bytes: z.number().int(),
  encrypted: z.boolean(),
  manifest: backupManifestSchema,
  /** The uploaded copy (`s3://BUCKET/KEY`) where backups.s3 is set. */
  stored: z.string().nullable(),
})

/** What `db backups list` answers: each file of the folder; one whose header does not read has its error. */
export const backupListSchema = z.object({
  directory: z.string(),
  data: z.array(
    z.object({ file: z.string(), bytes: z.number().int(), encrypted: z.boolean(), manifest: backupManifestSchema.nullable(), error: z.string().optional() }),
  ),
})
export type BackupList = z.infer<typeof backupListSchema>

export const scrubSummarySchema = z.object({
  refreshTokens: z.number().int(),
  apiKeys: z.number().int(),
  signingKeys: z.number().int(),
  webhookEndpoints: z.number().int(),
  queuedDeliveries: z.number().int(),
})

/** What `db restore` answers: the plan, and after a real restore the row counts against the manifest's, what was scrubbed and the erasures re-applied. */
export const restoreResultSchema = z.object({
  file: z.string(),
  manifest: backupManifestSchema,
  target: z.string(),
  scrub: z.boolean(),
  dryRun: z.boolean(),
  rowCounts: z.array(z.object({ table: z.string(), expected: z.number().int(), actual: z.number().int().nullable() })),
  scrubbed: scrubSummarySchema.nullable(),
  erasuresReapplied: z
    .number()
    .int()
    .describe('erased users the backup held, erased again from the erasure ledger (the target’s before the restore and the backup’s); 0 on a dry run'),
})
