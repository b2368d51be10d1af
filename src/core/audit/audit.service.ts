import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { decodeCursor, parseInput, toPage } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { auditListInputSchema, resolveTimeBound, type AuditEntry, type AuditListInput, type AuditPage, type AuditRecord } from './audit.schema.js'
import { insertAudit, selectAudit, type AuditRow } from './audit.repo.js'
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
}

/**
 * Builds the audit service. Every audited change is also an event: given the outbox, each row is written
 * there too, in the same transaction (webhooks send what committed, and only that).
 */
export function createAuditService(deps: { knex: Knex; clock: Clock; outbox?: EventOutbox | undefined }): AuditService {
  const { knex, clock, outbox } = deps
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
