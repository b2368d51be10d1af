/**
 * The outbox: events written in the transaction of the change they announce, so an event is sent if and
 * only if its change committed. Each event becomes one message (its body as it will be signed and sent) and,
 * for every enabled endpoint that subscribes to its type, a delivery and the job that delivers it. Whether
 * the endpoint's creator may read the event is decided at delivery time, when it counts (delivery.ts).
 */
import type { Knex } from 'knex'
import { enqueueJobs } from '../jobs/job-queue.js'
import { randomId } from '../random.js'
import { wants } from './event-types.js'
import { insertDeliveries, insertMessage, selectEndpoints, type EndpointRow } from './webhooks.repo.js'
import type { EventEnvelope } from './webhooks.schema.js'

/** The job type of one delivery attempt. */
export const DELIVER_JOB = 'webhook.deliver'

/** What a delivery job carries: the message and the endpoint (one delivery each), and whether an operator asked for it. */
export interface DeliverJobPayload {
  readonly messageId: string
  readonly endpointId: string
  readonly manual?: boolean
}

export interface OutboxEvent {
  readonly type: string
  readonly data: unknown
}

export interface EventOutbox {
  /** Writes `events`, which happened at `at`, inside `trx` for the endpoints that want them. */
  write(trx: Knex, events: readonly OutboxEvent[], at: number): Promise<void>
}

/** A new message id: the webhook-id of its deliveries. */
export function newMessageId(): string {
  return `msg_${randomId()}`
}

/** The signed body of an event. */
export function eventBody(environment: string, event: OutboxEvent, at: number): string {
  const envelope: EventEnvelope = { type: event.type, timestamp: new Date(at).toISOString(), environment, data: event.data }
  return JSON.stringify(envelope)
}

/** Builds the outbox of one environment. */
export function createEventOutbox(deps: { environmentName: string }): EventOutbox {
  return {
    async write(trx, events, at) {
      if (events.length === 0) return
      const endpoints = (await selectEndpoints(trx, { enabledOnly: true })).map((e) => ({ id: e.id, patterns: JSON.parse(e.event_types) as string[] }))
      if (endpoints.length === 0) return
      for (const event of events) {
        const receivers = endpoints.filter((e) => wants(e.patterns, event.type))
        if (receivers.length === 0) continue
        const messageId = newMessageId()
        await insertMessage(trx, { id: messageId, type: event.type, body: eventBody(deps.environmentName, event, at), created_at: at })
        await queueDeliveries(trx, messageId, receivers, at)
      }
    },
  }
}

/** A pending delivery of `messageId` to each endpoint, and its job, due at `at`. */
export async function queueDeliveries(trx: Knex, messageId: string, endpoints: ReadonlyArray<Pick<EndpointRow, 'id'>>, at: number): Promise<void> {
  await insertDeliveries(
    trx,
    endpoints.map((e) => ({
      message_id: messageId,
      endpoint_id: e.id,
      status: 'pending' as const,
      attempts: 0,
      next_attempt_at: at,
      last_status: null,
      last_error: null,
      created_at: at,
      updated_at: at,
    })),
  )
  await enqueueJobs(
    trx,
    endpoints.map((e) => ({ type: DELIVER_JOB, payload: { messageId, endpointId: e.id } satisfies DeliverJobPayload, runAt: at })),
    at,
  )
}
