/**
 * The migrator's public shapes. Commands (migrate, env check) and later the server's readiness check use
 * these; the zod schemas here are also the `--json` result schemas of the migrate commands.
 */
import { z } from 'zod'

/** Gantry's own schema (top-level migrations/) or the workspace's migrations. */
export const migrationSetSchema = z.enum(['gantry', 'app'])

/**
 * applied: recorded and unchanged; pending: not applied; modified: applied, file edited since;
 * missing: applied, file no longer there (a newer release, or a deleted file); partial: MySQL/MariaDB DDL
 * ran part way, blocks runs until `migrate resolve`; failed: the last run failed before any statement.
 */
export const migrationStateSchema = z.enum(['applied', 'pending', 'modified', 'missing', 'partial', 'failed'])

export const migrationInfoSchema = z.object({
  set: migrationSetSchema,
  name: z.string(),
  state: migrationStateSchema,
  batch: z.number().int().nullable(),
  appliedAt: z.string().nullable(),
  /** For partial migrations: the statements that did run. */
  statements: z.array(z.string()).optional(),
  error: z.string().optional(),
})

export const lockHolderSchema = z.object({ host: z.string(), pid: z.number().int(), since: z.string(), actor: z.string().optional() })

export const migrationStatusSchema = z.object({
  dialect: z.enum(['sqlite', 'mysql', 'postgres']),
  tableName: z.string(),
  migrations: z.array(migrationInfoSchema),
  /** What `migrate latest` would run: the pending and the failed migrations. */
  pending: z.number().int(),
  /** How many migrations are in each state (every state, zeros included). */
  counts: z.record(migrationStateSchema, z.number().int()),
  lock: lockHolderSchema.nullable(),
})

export type MigrationSet = z.infer<typeof migrationSetSchema>
export type MigrationState = z.infer<typeof migrationStateSchema>
export type MigrationInfo = z.infer<typeof migrationInfoSchema>
export type MigrationStatus = z.infer<typeof migrationStatusSchema>

export type LockHolder = z.infer<typeof lockHolderSchema>

/** One migration run by latest or rollback. */
export const migrationRunSchema = z.object({ set: migrationSetSchema, name: z.string(), durationMs: z.number() })

/** The SQL a dry run would execute for one migration; `approximate` when it read the schema to decide. */
export const migrationPreviewSchema = z.object({
  set: migrationSetSchema,
  name: z.string(),
  direction: z.enum(['up', 'down']),
  statements: z.array(z.string()),
  approximate: z.boolean(),
})

export const latestResultSchema = z.object({
  applied: z.array(migrationRunSchema),
  batch: z.object({ gantry: z.number().int().nullable(), app: z.number().int().nullable() }),
  dryRun: z.array(migrationPreviewSchema).optional(),
})

export const rollbackResultSchema = z.object({
  rolledBack: z.array(migrationRunSchema),
  dryRun: z.array(migrationPreviewSchema).optional(),
})

export const validateResultSchema = z.object({
  ok: z.boolean(),
  modified: z.array(z.string()),
  partial: z.array(z.string()),
  missing: z.array(z.string()),
})

export const resolveResultSchema = z.object({ set: migrationSetSchema, name: z.string(), outcome: z.enum(['applied', 'rolled-back']) })

export type MigrationRun = z.infer<typeof migrationRunSchema>
export type MigrationPreview = z.infer<typeof migrationPreviewSchema>
export type LatestResult = z.infer<typeof latestResultSchema>
export type RollbackResult = z.infer<typeof rollbackResultSchema>
export type ValidateResult = z.infer<typeof validateResultSchema>
export type ResolveResult = z.infer<typeof resolveResultSchema>
