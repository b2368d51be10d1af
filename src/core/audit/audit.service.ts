import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { decodeCursor, parseInput, toPage } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { decodeExportCursor, encodeExportCursor } from './audit-cursor.js'
import {
  auditExportInputSchema,
  auditListInputSchema,
  auditPruneInputSchema,
  resolveTimeBound,
  type AuditEntry,
  type AuditExportInput,
  type AuditListInput,
  type AuditPage,
  type AuditPruneInput,
  type AuditPruneResult,
  type AuditRecord,
} from './audit.schema.js'
import { countAuditBefore, insertAudit, pruneAuditBatch, selectAudit, selectAuditInTimeOrder, type AuditRow } from './audit.repo.js'
import { AUDIT_EVENT_TYPES } from '../webhooks/event-types.js'
import type { EventOutbox } from '../webhooks/outbox.js'

/** The audit log: every mutation appends here inside its own transaction. */
export interface AuditService {
  /** Appends one row for `ctx` inside `trx` (the mutation's transaction; given a plain knex, a transaction of its own). */
  append(trx: Knex, ctx: ActorContext, record: AuditRecord): Promise<void>
  /** Appends a row per record for `ctx` inside `trx`, in multi-row INSERTs (a batch of imported users). */
  appendAll(trx: Knex, ctx: ActorContext, records: readonly AuditRecord[]): Promise<void>
  /** Newest first, filtered; needs audit:read. */
  list(ctx: ActorContext, input?: AuditListInput): Promise<AuditPage>
  /** One page of `audit export`: oldest first, filtered, the log as it stood at the first page; needs audit:read. */
  exportPage(ctx: ActorContext, input?: AuditExportInput): Promise<AuditPage>
  /**
   * Deletes the entries older than `olderThan` (default: the retention) in batches of PRUNE_BATCH, then
   * records one `audit.pruned` entry when it deleted any; with `dryRun` only counts them. Needs audit:delete.
   */
  prune(ctx: ActorContext, input?: AuditPruneInput): Promise<AuditPruneResult>
}

/** Rows one prune statement deletes at most: short statements, short locks, on a log the server keeps writing. */
export const PRUNE_BATCH = 1000

/** The retention when the environment names none (the config's default). */
export const DEFAULT_AUDIT_RETENTION = '90d'

/**
 * Builds the audit service. Every audited change is also an event: given the outbox, each row is written
 * there too, in the same transaction (webhooks send what committed, and only that).
 */
export function createAuditService(deps: {
  knex: Knex
  clock: Clock
  outbox?: EventOutbox | undefined
  /** The environment's audit.retention: a duration, or `forever` (default 90d). */
  retention?: string | undefined
}): AuditService {
  const { knex, clock, outbox } = deps
  const retention = deps.retention ?? DEFAULT_AUDIT_RETENTION
  const appendAll = async (k: Knex, ctx: ActorContext, records: readonly AuditRecord[]): Promise<void> =>
    // A row and its webhook event commit together: given no transaction, one of their own.
    k.isTransaction ? write(k, ctx, records) : k.transaction((trx) => write(trx, ctx, records))
  const write = async (trx: Knex, ctx: ActorContext, records: readonly AuditRecord[]): Promise<void> => {
    const at = clock.now()
    await insertAudit(
      trx,
      records.map((record) => ({
        at,
        actor: ctx.actor.slice(0, 255),
        action: record.action,
        target_type: record.targetType,
        target_id: record.targetId,
        before: record.before === undefined || record.before === null ? null : JSON.stringify(record.before),
        after: record.after === undefined || record.after === null ? null : JSON.stringify(record.after),
        ip: ctx.ip ?? null,
      })),
    )
    await outbox?.write(
      trx,
      records.map((record) => ({
        type: AUDIT_EVENT_TYPES[record.action],
        data: { actor: ctx.actor, target: { type: record.targetType, id: record.targetId }, before: record.before ?? null, after: record.after ?? null },
      })),
      at,
    )
  }
  return {
    append: (trx, ctx, record) => appendAll(trx, ctx, [record]),
    appendAll,
    async list(ctx, input = {}) {
      requirePermission(ctx, 'audit:read')
      const parsed = parseInput(auditListInputSchema, input)
      const now = clock.now()
      const rows = await selectAudit(
        knex,
        {
          actor: parsed.actor,
          action: parsed.action,
          since: parsed.since === undefined ? undefined : resolveTimeBound(parsed.since, now),
          until: parsed.until === undefined ? undefined : resolveTimeBound(parsed.until, now),
          beforeId: decodeCursor(parsed.cursor),
        },
        parsed.limit + 1,
      )
      return toPage(rows.map(normalise), parsed.limit, toEntry)
    },
    async exportPage(ctx, input = {}) {
      requirePermission(ctx, 'audit:read')
      const parsed = parseInput(auditExportInputSchema, input)
      const now = clock.now()
      const cursor = decodeExportCursor(parsed.cursor)
      // The bounds are fixed at the first page and travel in the cursor: a duration read again on a later
      // page would have moved, and entries written during the export (its own prune's) stay out.
      const since = cursor ? cursor.since : parsed.since === undefined ? undefined : resolveTimeBound(parsed.since, now)
      const until = cursor ? cursor.until : parsed.until === undefined ? now + 1 : resolveTimeBound(parsed.until, now)
      const rows = await selectAuditInTimeOrder(knex, { actor: parsed.actor, action: parsed.action, since, until }, cursor?.after, parsed.limit + 1)
      const kept = rows.slice(0, parsed.limit)
      const last = kept[kept.length - 1]
      return {
        data: kept.map(toEntry),
        nextCursor: rows.length > parsed.limit && last ? encodeExportCursor({ after: { at: Number(last.at), id: Number(last.id) }, since, until }) : null,
      }
    },
    async prune(ctx, input = {}) {
      requirePermission(ctx, 'audit:delete')
      const parsed = parseInput(auditPruneInputSchema, input)
      const olderThan = parsed.olderThan ?? (retention === 'forever' ? undefined : retention)
      if (olderThan === undefined) return { dryRun: parsed.dryRun, olderThan: null, before: null, count: 0, oldest: null, newest: null }
      const before = clock.now() - parseDuration(olderThan)
      const span = await countAuditBefore(knex, before)
      const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
      const result = { dryRun: parsed.dryRun, olderThan, before: iso(before) as string, count: span.count, oldest: iso(span.oldest), newest: iso(span.newest) }
      if (parsed.dryRun) return result
      let count = 0
      // Until a batch finds nothing: a worker pruning at the same time may have taken part of a batch.
      for (let deleted = await pruneAuditBatch(knex, before, PRUNE_BATCH); deleted > 0; deleted = await pruneAuditBatch(knex, before, PRUNE_BATCH))
        count += deleted
      // Written after the deletions, at now: newer than the cut-off, so this run never prunes its own record.
      // A prune that deleted nothing changed nothing, and records nothing (as a read records nothing).
      const { oldest, newest } = result
      if (count > 0)
        await appendAll(knex, ctx, [
          { action: 'audit.pruned', targetType: 'audit', targetId: result.before, after: { olderThan, before: result.before, count, oldest, newest } },
        ])
      return { ...result, count }
    },
  }
}

function normalise(row: AuditRow): AuditRow & { id: number } {
  return { ...row, id: Number(row.id) }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    at: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: row.before === null ? null : (JSON.parse(row.before) as unknown),
    after: row.after === null ? null : (JSON.parse(row.after) as unknown),
    ip: row.ip,
  }
}
