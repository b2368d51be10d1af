/** The webhook tables: endpoints, the messages sent, one delivery per message and endpoint, and its attempts. */
import type { Knex } from 'knex'
import type { DeliveryStatus } from './webhooks.schema.js'

export const ENDPOINTS_TABLE = 'gantry_webhook_endpoints'
export const MESSAGES_TABLE = 'gantry_webhook_messages'
export const DELIVERIES_TABLE = 'gantry_webhook_deliveries'
export const ATTEMPTS_TABLE = 'gantry_webhook_attempts'

export interface EndpointRow {
  id: string
  url: string
  description: string
  event_types: string
  enabled: boolean | number
  disabled_reason: string | null
  secret: string
  previous_secret: string | null
  previous_secret_until: number | string | null
  created_by: string
  failing_since: number | string | null
  created_at: number | string
  updated_at: number | string
}

export interface DeliveryRow {
  id: number | string
  message_id: string
  endpoint_id: string
  status: DeliveryStatus
  attempts: number | string
  next_attempt_at: number | string | null
  last_status: number | null
  last_error: string | null
  created_at: number | string
  updated_at: number | string
}

export interface AttemptRow {
  id: number | string
  delivery_id: number | string
  at: number | string
  status_code: number | null
  latency_ms: number
  error: string | null
  response_excerpt: string | null
  trigger: 'scheduled' | 'manual'
}

export async function insertEndpoint(k: Knex, row: EndpointRow): Promise<void> {
  await k(ENDPOINTS_TABLE).insert(row)
}

/** One endpoint; `lock` holds the row until the transaction `k` ends. */
export async function selectEndpoint(k: Knex, id: string, lock = false): Promise<EndpointRow | undefined> {
  const q = k<EndpointRow>(ENDPOINTS_TABLE).where('id', id).first()
  return lock ? q.forUpdate() : q
}

/** The endpoints (enabled ones only, if asked), oldest first; `lock` holds their rows until the transaction `k` ends. */
export async function selectEndpoints(k: Knex, options: { enabledOnly?: boolean; lock?: boolean } = {}): Promise<EndpointRow[]> {
  const q = k<EndpointRow>(ENDPOINTS_TABLE).select('*').orderBy('created_at').orderBy('id')
  if (options.enabledOnly) void q.where('enabled', true)
  return options.lock ? q.forUpdate() : q
}

export async function countEndpoints(k: Knex): Promise<number> {
  const [row] = (await k(ENDPOINTS_TABLE).count({ n: '*' })) as Array<{ n: number | string }>
  return Number(row?.n ?? 0)
}

export async function updateEndpoint(k: Knex, id: string, changes: Partial<EndpointRow>): Promise<void> {
  await k(ENDPOINTS_TABLE).where('id', id).update(changes)
}

export async function deleteEndpoint(k: Knex, id: string): Promise<void> {
  await k(ENDPOINTS_TABLE).where('id', id).delete()
}

export async function insertMessage(k: Knex, row: { id: string; type: string; body: string; created_at: number }): Promise<void> {
  await k(MESSAGES_TABLE).insert(row)
}

/** At most 500 a statement (SQLite's compound-SELECT cap). */
export async function insertDeliveries(k: Knex, rows: ReadonlyArray<Omit<DeliveryRow, 'id'>>): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await k(DELIVERIES_TABLE).insert(rows.slice(i, i + 500))
}

/** A delivery with its message's type and body; `lock` holds the delivery row until the transaction ends. */
export async function selectDelivery(
  k: Knex,
  where: { id: number } | { messageId: string; endpointId: string },
): Promise<(DeliveryRow & { type: string; body: string }) | undefined> {
  const q = k(DELIVERIES_TABLE)
    .join(MESSAGES_TABLE, `${MESSAGES_TABLE}.id`, `${DELIVERIES_TABLE}.message_id`)
    .select(`${DELIVERIES_TABLE}.*`, `${MESSAGES_TABLE}.type`, `${MESSAGES_TABLE}.body`)
    .first()
  if ('id' in where) void q.where(`${DELIVERIES_TABLE}.id`, where.id)
  else void q.where({ [`${DELIVERIES_TABLE}.message_id`]: where.messageId, [`${DELIVERIES_TABLE}.endpoint_id`]: where.endpointId })
  return q as Promise<(DeliveryRow & { type: string; body: string }) | undefined>
}

export async function updateDelivery(k: Knex, id: number, changes: Partial<DeliveryRow>): Promise<void> {
  await k(DELIVERIES_TABLE).where('id', id).update(changes)
}

export interface DeliveryFilter {
  readonly endpointId: string
  readonly status?: DeliveryStatus | undefined
  readonly since?: number | undefined
  /** Rows older than this id (the cursor): newest first. */
  readonly beforeId?: number | undefined
}

/** Up to `limit` deliveries of an endpoint, newest first, with their event type. */
export async function selectDeliveries(k: Knex, filter: DeliveryFilter, limit: number): Promise<Array<DeliveryRow & { type: string }>> {
  const q = k(DELIVERIES_TABLE)
    .join(MESSAGES_TABLE, `${MESSAGES_TABLE}.id`, `${DELIVERIES_TABLE}.message_id`)
    .select(`${DELIVERIES_TABLE}.*`, `${MESSAGES_TABLE}.type`)
    .where(`${DELIVERIES_TABLE}.endpoint_id`, filter.endpointId)
    .orderBy(`${DELIVERIES_TABLE}.id`, 'desc')
    .limit(limit)
  if (filter.status !== undefined) void q.where(`${DELIVERIES_TABLE}.status`, filter.status)
  if (filter.since !== undefined) void q.where(`${DELIVERIES_TABLE}.created_at`, '>=', filter.since)
  if (filter.beforeId !== undefined) void q.where(`${DELIVERIES_TABLE}.id`, '<', filter.beforeId)
  return q as Promise<Array<DeliveryRow & { type: string }>>
}

/** The failed deliveries of an endpoint created since `since`, oldest first. */
export async function selectFailedSince(k: Knex, endpointId: string, since: number): Promise<DeliveryRow[]> {
  return k<DeliveryRow>(DELIVERIES_TABLE).where({ endpoint_id: endpointId, status: 'failed' }).andWhere('created_at', '>=', since).orderBy('id')
}

export async function insertAttempt(k: Knex, row: Omit<AttemptRow, 'id'>): Promise<void> {
  await k(ATTEMPTS_TABLE).insert(row)
}

/** The latest attempt of each of `deliveryIds`. */
export async function selectLastAttempts(k: Knex, deliveryIds: readonly number[]): Promise<Map<number, AttemptRow>> {
  if (deliveryIds.length === 0) return new Map()
  const latest = k(ATTEMPTS_TABLE).max({ id: 'id' }).whereIn('delivery_id', deliveryIds).groupBy('delivery_id')
  const rows: AttemptRow[] = await k(ATTEMPTS_TABLE).select('*').whereIn('id', latest)
  return new Map(rows.map((r) => [Number(r.delivery_id), r]))
}

/**
 * Deletes up to `limit` messages created before `before` whose deliveries are all done (none pending), with
 * their deliveries and attempts; returns how many messages went. Explicit deletes, child rows first: SQLite
 * cascades only where foreign keys are switched on.
 */
export async function pruneMessages(k: Knex, before: number, limit: number): Promise<number> {
  const ids = (
    await k(MESSAGES_TABLE)
      .select('id')
      .where('created_at', '<', before)
      .whereNotExists(
        (q) =>
          void q
            .select(k.raw('1'))
            .from(DELIVERIES_TABLE)
            .whereRaw('?? = ??', [`${DELIVERIES_TABLE}.message_id`, `${MESSAGES_TABLE}.id`])
            .where(`${DELIVERIES_TABLE}.status`, 'pending'),
      )
      .orderBy('created_at')
      .limit(limit)
  ).map((r: { id: string }) => r.id)
  if (ids.length === 0) return 0
  await k.transaction(async (trx) => {
    const deliveries = trx(DELIVERIES_TABLE).select('id').whereIn('message_id', ids)
    await trx(ATTEMPTS_TABLE).whereIn('delivery_id', deliveries).delete()
    await trx(DELIVERIES_TABLE).whereIn('message_id', ids).delete()
    await trx(MESSAGES_TABLE).whereIn('id', ids).delete()
  })
  return ids.length
}
