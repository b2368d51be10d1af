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

/**
 * The SQL a dry run would execute for one migration, in order; `approximate` when what it read may differ
 * from what the real run will read (see previewModeSchema); `error` when it could not be previewed, and why.
 */
export const migrationPreviewSchema = z.object({
  set: migrationSetSchema,
  name: z.string(),
  direction: z.enum(['up', 'down']),
  statements: z.array(z.string()),
  approximate: z.boolean(),
  error: z.string().optional(),
})

/**
 * Where a dry run ran the migrations: `copy` (SQLite: a copy of the file, deleted afterwards), `shadow`
 * (a database given the target's schema by replaying its applied migrations, without its rows), `per-file`
 * (each migration alone against today's schema, writes not run: when neither could be had, `reason` says
 * why). `on` names that place, without a password.
 */
export const previewModeSchema = z.object({
  mode: z.enum(['copy', 'shadow', 'per-file']),
  on: z.string(),
  reason: z.string().optional(),
})

export const latestResultSchema = z.object({
  applied: z.array(migrationRunSchema),
  batch: z.object({ gantry: z.number().int().nullable(), app: z.number().int().nullable() }),
  /** `migrate latest --backup`: the file taken before the run (null: none was), absent on a dry run. */
  backup: z.object({ file: z.string(), bytes: z.number().int(), encrypted: z.boolean() }).nullable().optional(),
  dryRun: z.array(migrationPreviewSchema).optional(),
  preview: previewModeSchema.optional(),
})

export const rollbackResultSchema = z.object({
  rolledBack: z.array(migrationRunSchema),
  dryRun: z.array(migrationPreviewSchema).optional(),
  preview: previewModeSchema.optional(),
})

/**
 * How a run commits: `each` migration in its own transaction (the default: a failure keeps what ran before
 * it), or the whole `batch` in one (knex CLI's behaviour on SQLite and PostgreSQL: a failure keeps nothing).
 */
export const transactionModeSchema = z.enum(['each', 'batch'])

const migrationRefSchema = z.object({ set: migrationSetSchema, name: z.string() })

/**
 * What a failed latest or rollback run changed (DESIGN.md: one transaction per migration by default):
 * the migrations it finished before the failure (`done`), the one that failed (the statement that failed,
 * the statements of it that ran before that one, and whether those stay committed: `partial`), what stays
 * committed (`kept`), where the failing set now stands (`at`), in a sentence (`state`), and the next step.
 */
export const runReportSchema = z.object({
  direction: z.enum(['up', 'down']),
  transaction: transactionModeSchema,
  done: z.array(migrationRunSchema),
  failed: migrationRefSchema.extend({
    statement: z.string().nullable(),
    ran: z.array(z.string()),
    partial: z.boolean(),
  }),
  kept: z.array(migrationRefSchema),
  at: migrationRefSchema.nullable(),
  state: z.string(),
  next: z.string(),
})

/** What a run tells its caller as it goes: a migration starts (n of N), or one is done. */
export type MigrationProgress =
  | {
      readonly phase: 'start'
      readonly direction: 'up' | 'down'
      readonly set: MigrationSet
      readonly name: string
      readonly index: number
      readonly total: number
    }
  | { readonly phase: 'done'; readonly direction: 'up' | 'down'; readonly run: MigrationRun; readonly index: number; readonly total: number }

export const validateResultSchema = z.object({
  ok: z.boolean(),
  modified: z.array(z.string()),
  partial: z.array(z.string()),
  missing: z.array(z.string()),
})

export const resolveResultSchema = z.object({ set: migrationSetSchema, name: z.string(), outcome: z.enum(['applied', 'rolled-back']) })

export type MigrationRun = z.infer<typeof migrationRunSchema>
export type MigrationPreview = z.infer<typeof migrationPreviewSchema>
export type PreviewMode = z.infer<typeof previewModeSchema>
export type LatestResult = z.infer<typeof latestResultSchema>
export type RollbackResult = z.infer<typeof rollbackResultSchema>
export type ValidateResult = z.infer<typeof validateResultSchema>
export type ResolveResult = z.infer<typeof resolveResultSchema>
export type TransactionMode = z.infer<typeof transactionModeSchema>
export type RunReport = z.infer<typeof runReportSchema>
