import { z } from 'zod'
import { durationSchema, isDuration, parseDuration } from '../duration.js'
import { pageInputSchema, pageSchema } from '../pagination.js'

/** One audit row as lists return it; before/after are the public views of the target, never a secret. */
export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string().describe('ISO 8601'),
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  ip: z.string().nullable(),
})
export type AuditEntry = z.infer<typeof auditEntrySchema>

/** A point in time: ISO 8601, or a duration back from now (`90s`, `30m`, `24h`, `7d`). */
export const timeBoundSchema = z
  .string()
  .trim()
  .refine((v) => isDuration(v) || !Number.isNaN(Date.parse(v)), 'expected an ISO 8601 time or a duration like 24h, 30m, 7d')

/** Wildcards an actor pattern may hold: enough for any real question, and a bound on the database's matching work. */
export const MAX_ACTOR_WILDCARDS = 4

/** Filters of `audit list`, newest first. */
export const auditListInputSchema = pageInputSchema.extend({
  actor: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .refine((v) => v.split('*').length - 1 <= MAX_ACTOR_WILDCARDS, `at most ${MAX_ACTOR_WILDCARDS} * wildcards`)
    .describe('an actor, or a pattern where * stands for any run of characters (local:*)')
    .optional(),
  action: z.string().trim().min(1).optional(),
  since: timeBoundSchema.optional(),
  until: timeBoundSchema.optional(),
})
export type AuditListInput = z.input<typeof auditListInputSchema>

export const auditPageSchema = pageSchema(auditEntrySchema)
export type AuditPage = z.infer<typeof auditPageSchema>

/**
 * Every action the services record, one list: the operation table (src/admin/operations) names the one each
 * admin operation writes, and `audit list --action` filters on them.
 */
export const AUDIT_ACTIONS = [
  'users.create',
  'users.update',
  'users.delete',
  'users.disable',
  'users.enable',
  'users.set-password',
  'users.unlock',
  'users.import',
  'users.locked',
  'users.link',
  'users.unlink',
  'sessions.login',
  'sessions.login-failed',
  'sessions.break-glass',
  'roles.create',
  'roles.update',
  'roles.delete',
  'apikeys.create',
  'apikeys.revoke',
  'apikeys.rotate',
  'oauth.clients.create',
  'oauth.clients.revoke',
  'oauth.clients.rotate',
  'oauth.token-refused',
  'oauth.tokens.revoke',
  'tokens.issue',
  'tokens.revoke',
  'keys.create',
  'keys.rotate',
  'maintenance.on',
  'maintenance.off',
  'ratelimits.set',
  'ratelimits.remove',
  'ratelimits.override',
  'ratelimits.override.remove',
  'ratelimits.apply',
  'webhooks.create',
  'webhooks.update',
  'webhooks.enable',
  'webhooks.disable',
  'webhooks.delete',
  'webhooks.rotate-secret',
  'webhooks.test',
  'webhooks.redeliver',
  'webhooks.replay',
  'keys.rotate-encryption',
  'migrations.apply',
  'migrations.fail',
  'migrations.rollback',
  'flags.create',
  'flags.update',
  'flags.delete',
  'flags.apply',
  'flags.segment.set',
  'flags.segment.delete',
  'db.backup',
  'db.restore',
  'audit.pruned',
  'users.erased',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** What a service records for one mutation. */
export interface AuditRecord {
  readonly action: AuditAction
  readonly targetType: string
  readonly targetId: string
  readonly before?: unknown
  readonly after?: unknown
}

/** Epoch ms of a time bound (validated by timeBoundSchema), durations counted back from `now`. */
export function resolveTimeBound(value: string, now: number): number {
  return isDuration(value) ? now - parseDuration(value) : Date.parse(value)
}

/** `audit prune`: entries older than `olderThan` (default: the environment's audit.retention) go; `dryRun` only counts them. */
export const auditPruneInputSchema = z.object({
  olderThan: durationSchema
    // Checked as text: a refinement runs even after the format check failed.
    .refine((v) => !/^0+[a-z]+$/.test(v), 'a duration longer than zero')
    .describe("delete entries older than this (default: the environment's audit.retention)")
    .optional(),
  dryRun: z.boolean().default(false).describe('count what would be deleted; delete nothing'),
})
export type AuditPruneInput = z.input<typeof auditPruneInputSchema>

/** What a prune deleted (or, dry, would delete): the cut-off and the oldest and newest entry it covers. */
export const auditPruneResultSchema = z.object({
  dryRun: z.boolean(),
  olderThan: z.string().nullable().describe('the duration applied; null when the retention is forever and none was given'),
  before: z.string().nullable().describe('ISO 8601: entries before this go; null when nothing is pruned (retention forever)'),
  count: z.number().int().describe('entries deleted, or that would be with dryRun'),
  oldest: z.string().nullable().describe('ISO 8601 time of the oldest entry counted'),
  newest: z.string().nullable().describe('ISO 8601 time of the newest entry counted'),
})
export type AuditPruneResult = z.infer<typeof auditPruneResultSchema>

/** The largest page `audit export` reads at once. */
export const MAX_EXPORT_PAGE = 1000

/**
 * One page of `audit export`: entries oldest first (time, then id), with the list filters. `until` defaults
 * to the time of the first page, which the cursor carries on: an export is the log as it stood when it began.
 */
export const auditExportInputSchema = auditListInputSchema.extend({
  limit: z.coerce.number().int().min(1).max(MAX_EXPORT_PAGE).default(MAX_EXPORT_PAGE),
})
export type AuditExportInput = z.input<typeof auditExportInputSchema>
