/**
 * Outbound webhook endpoints: created with the event types they want and a signing secret shown once,
 * listed, changed, switched off and on, rotated with a grace period, tested, and their deliveries listed,
 * redelivered and replayed. Secrets are sealed under the environment's data key (GANTRY_ENCRYPTION_KEY),
 * never logged nor audited.
 *
 * Who may subscribe: an endpoint records its creator, who must hold the read permission of every event type
 * it subscribes to (`users.*` needs users:read) — and the worker checks again at each delivery, so an
 * endpoint never sends what its creator can no longer read. Changing an endpoint's URL or types needs the
 * same permissions over the new types, and passes the endpoint to the actor who changed it.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import { resolveTimeBound } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { open, seal, sealedKeyId, type DataKeyRing } from '../encryption/data-keys.js'
import { GantryError } from '../errors.js'
import { enqueueJobs } from '../jobs/job-queue.js'
import { decodeCursor, parseInput, toPage } from '../pagination.js'
import { randomBase62 } from '../random.js'
import { requirePermission, uncovered } from '../roles/permissions.js'
import { isSuccess, secretBinding, sendSigned, signingSecrets, type DeliveryDeps } from './delivery.js'
import { readPermissionOf, TEST_EVENT_TYPE } from './event-types.js'
import { DELIVER_JOB, eventBody, newMessageId, type DeliverJobPayload } from './outbox.js'
import { generateWebhookSecret } from './signature.js'
import { checkWebhookUrl } from './targets.js'
import * as repo from './webhooks.repo.js'
import {
  createEndpointInputSchema,
  deliveryIdSchema,
  deliveryListInputSchema,
  endpointIdSchema,
  replayInputSchema,
  rotateSecretInputSchema,
  updateEndpointInputSchema,
  type Attempt,
  type CreateEndpointInput,
  type Delivery,
  type DeliveryListInput,
  type DeliveryPage,
  type Endpoint,
  type EndpointList,
  type EndpointWithSecret,
  type ReplayInput,
  type ResealResult,
  type RotateSecretInput,
  type TestResult,
  type UpdateEndpointInput,
} from './webhooks.schema.js'

/** Endpoints per environment: enough for any team, and a bound on the fan-out of every audited change. */
export const MAX_ENDPOINTS = 100

export interface WebhooksService {
  /** Needs webhooks:write and the read permission of every subscribed type; the secret is in this answer only. */
  create(ctx: ActorContext, input: CreateEndpointInput): Promise<EndpointWithSecret>
  /** Needs webhooks:read; never a secret. */
  list(ctx: ActorContext): Promise<EndpointList>
  get(ctx: ActorContext, id: string): Promise<Endpoint>
  update(ctx: ActorContext, id: string, input: UpdateEndpointInput): Promise<Endpoint>
  enable(ctx: ActorContext, id: string): Promise<Endpoint>
  disable(ctx: ActorContext, id: string): Promise<Endpoint>
  /** Deletes the endpoint with its deliveries. */
  delete(ctx: ActorContext, id: string): Promise<Endpoint>
  /** A new secret (in this answer only), for an actor who may read every type the endpoint sends; the previous one keeps signing beside it for the grace period. */
  rotateSecret(ctx: ActorContext, id: string, input?: RotateSecretInput): Promise<EndpointWithSecret>
  /** Sends a `webhook.test` event now and reports the answer; nothing is queued. */
  test(ctx: ActorContext, id: string): Promise<TestResult>
  /** Needs webhooks:read: an endpoint's deliveries, newest first, each with its last attempt. */
  deliveries(ctx: ActorContext, id: string, input?: DeliveryListInput): Promise<DeliveryPage>
  /** Queues one more attempt of a delivery, now, with the same webhook-id. */
  redeliver(ctx: ActorContext, deliveryId: string | number): Promise<Delivery>
  /** Queues again every failed delivery of the endpoint created since `since` (default 1h). */
  replay(ctx: ActorContext, id: string, input?: ReplayInput): Promise<{ requeued: number }>
  /** Needs keys:write: every secret sealed under another data key sealed again under the first of GANTRY_ENCRYPTION_KEY. */
  resealSecrets(ctx: ActorContext): Promise<ResealResult>
}

export interface WebhooksServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly environmentName: string
  readonly keys: () => DataKeyRing | undefined
  /** How `test` sends (the worker's own sender and settings). */
  readonly delivery: Pick<DeliveryDeps, 'send' | 'settings' | 'userAgent'>
}

/** Builds the webhooks service. */
export function createWebhooksService(deps: WebhooksServiceDeps): WebhooksService {
  const { knex, clock, audit } = deps

  const requireKeys = (): DataKeyRing => {
    const keys = deps.keys()
    if (!keys) throw new GantryError('ENCRYPTION_KEY_MISSING', 'Webhook secrets are sealed under GANTRY_ENCRYPTION_KEY, which is not set for this environment.')
    return keys
  }
  const load = async (k: Knex, id: string, lock = false): Promise<repo.EndpointRow> => {
    const parsed = parseInput(endpointIdSchema, id)
    const row = await repo.selectEndpoint(k, parsed, lock)
    if (!row) throw new GantryError('WEBHOOK_NOT_FOUND', `No webhook endpoint with id ${parsed}.`)
    return row
  }
  /** The actor must be able to read every type it subscribes an endpoint to. */
  const requireReads = (ctx: ActorContext, types: readonly string[]): void => {
    const beyond = uncovered(ctx.permissions, [...new Set(types.map(readPermissionOf))])
    if (beyond.length > 0) {
      throw new GantryError('FORBIDDEN', `Subscribing to these events needs permissions you do not hold: ${beyond.join(', ')}.`, { details: { beyond } })
    }
  }
  const newSecret = async (keys: DataKeyRing, endpointId: string): Promise<{ secret: string; sealed: string }> => {
    const secret = generateWebhookSecret()
    return { secret, sealed: await seal(keys, secret, secretBinding(endpointId)) }
  }
  /** Runs a change to one endpoint in a transaction and audits it, before and after. */
  const change = async (
    ctx: ActorContext,
    id: string,
    action: 'webhooks.update' | 'webhooks.enable' | 'webhooks.disable',
    apply: (trx: Knex, row: repo.EndpointRow, now: number) => Promise<Partial<repo.EndpointRow> | undefined>,
  ): Promise<Endpoint> => {
    requirePermission(ctx, 'webhooks:write')
    return knex.transaction(async (trx) => {
      const row = await load(trx, id, true)
      const now = clock.now()
      const changes = await apply(trx, row, now)
      if (!changes) return toEndpoint(row)
      await repo.updateEndpoint(trx, row.id, { ...changes, updated_at: now })
      const after = toEndpoint({ ...row, ...changes, updated_at: now })
      await audit.append(trx, ctx, { action, targetType: 'webhook', targetId: row.id, before: toEndpoint(row), after })
      return after
    })
  }

  return {
    async create(ctx, input) {
      requirePermission(ctx, 'webhooks:write')
      const parsed = parseInput(createEndpointInputSchema, input)
      requireReads(ctx, parsed.eventTypes)
      const url = checkWebhookUrl(parsed.url, deps.delivery.settings).href
      const keys = requireKeys()
      const id = `ep_${randomBase62(22)}`
      const { secret, sealed } = await newSecret(keys, id)
      const now = clock.now()
      const endpoint = await knex.transaction(async (trx) => {
        if ((await repo.countEndpoints(trx)) >= MAX_ENDPOINTS) {
          throw new GantryError('WEBHOOK_LIMIT', `An environment holds at most ${MAX_ENDPOINTS} webhook endpoints.`)
        }
        const row: repo.EndpointRow = {
          id,
          url,
          description: parsed.description,
          event_types: JSON.stringify(parsed.eventTypes),
          enabled: true,
          disabled_reason: null,
          secret: sealed,
          previous_secret: null,
          previous_secret_until: null,
          created_by: ctx.actor.slice(0, 255),
          failing_since: null,
          created_at: now,
          updated_at: now,
        }
        await repo.insertEndpoint(trx, row)
        const view = toEndpoint(row)
        await audit.append(trx, ctx, { action: 'webhooks.create', targetType: 'webhook', targetId: id, after: view })
        return view
      })
      return { endpoint, secret }
    },

    async list(ctx) {
      requirePermission(ctx, 'webhooks:read')
      return { data: (await repo.selectEndpoints(knex)).map(toEndpoint), nextCursor: null }
    },

    async get(ctx, id) {
      requirePermission(ctx, 'webhooks:read')
      return toEndpoint(await load(knex, id))
    },

    update(ctx, id, input) {
      const parsed = parseInput(updateEndpointInputSchema, input)
      return change(ctx, id, 'webhooks.update', async (_trx, row) => {
        const types = parsed.eventTypes ?? (JSON.parse(row.event_types) as string[])
        // The endpoint passes to whoever changes it: they must read all it will send, old types included.
        requireReads(ctx, types)
        return {
          ...(parsed.url === undefined ? {} : { url: checkWebhookUrl(parsed.url, deps.delivery.settings).href }),
          ...(parsed.eventTypes === undefined ? {} : { event_types: JSON.stringify(parsed.eventTypes) }),
          ...(parsed.description === undefined ? {} : { description: parsed.description }),
          created_by: ctx.actor.slice(0, 255),
        }
      })
    },

    enable: (ctx, id) =>
      change(ctx, id, 'webhooks.enable', async (_trx, row) => {
        if (row.enabled) return undefined
        // Whoever switches it back on answers for what it sends from now on.
        requireReads(ctx, JSON.parse(row.event_types) as string[])
        return { enabled: true, disabled_reason: null, failing_since: null, created_by: ctx.actor.slice(0, 255) }
      }),

    disable: (ctx, id) =>
      change(ctx, id, 'webhooks.disable', async (_trx, row) =>
        row.enabled ? { enabled: false, disabled_reason: `disabled by ${ctx.actor}`.slice(0, 255) } : undefined,
      ),

    async delete(ctx, id) {
      requirePermission(ctx, 'webhooks:write')
      return knex.transaction(async (trx) => {
        const row = await load(trx, id, true)
        await repo.deleteEndpoint(trx, row.id)
        const before = toEndpoint(row)
        await audit.append(trx, ctx, { action: 'webhooks.delete', targetType: 'webhook', targetId: row.id, before })
        return before
      })
    },

    async rotateSecret(ctx, id, input = {}) {
      requirePermission(ctx, 'webhooks:write')
      const parsed = parseInput(rotateSecretInputSchema, input)
      const grace = parseDuration(parsed.grace)
      const keys = requireKeys()
      let secret = ''
      const endpoint = await knex.transaction(async (trx) => {
        // Read under the lock: two rotations at once each keep the secret the other one just made.
        const locked = await load(trx, id, true)
        // The secret signs what the endpoint sends: whoever holds it can forge those events to its receiver.
        requireReads(ctx, JSON.parse(locked.event_types) as string[])
        const made = await newSecret(keys, locked.id)
        secret = made.secret
        const sealed = made.sealed
        const now = clock.now()
        // The outgoing secret is sealed again for the previous slot: a sealed value is bound to its slot.
        const previous = grace > 0 ? await seal(keys, (await signingSecrets(keys, locked, now))[0] as string, secretBinding(locked.id, 'previous')) : null
        const changes = { secret: sealed, previous_secret: previous, previous_secret_until: previous === null ? null : now + grace, updated_at: now }
        await repo.updateEndpoint(trx, locked.id, changes)
        const after = toEndpoint({ ...locked, ...changes })
        await audit.append(trx, ctx, { action: 'webhooks.rotate-secret', targetType: 'webhook', targetId: locked.id, before: toEndpoint(locked), after })
        return after
      })
      return { endpoint, secret }
    },

    async test(ctx, id) {
      requirePermission(ctx, 'webhooks:write')
      const row = await load(knex, id)
      const now = clock.now()
      const messageId = newMessageId()
      const body = eventBody(deps.environmentName, { type: TEST_EVENT_TYPE, data: { endpointId: row.id, by: ctx.actor } }, now)
      const answer = await sendSigned(deps.delivery, { url: row.url, messageId, body, secrets: await signingSecrets(requireKeys(), row, now), now })
      const result: TestResult = {
        messageId,
        ok: isSuccess(answer.statusCode),
        statusCode: answer.statusCode,
        latencyMs: Math.round(answer.latencyMs),
        error: answer.error,
        responseExcerpt: answer.excerpt,
      }
      await knex.transaction((trx) =>
        audit.append(trx, ctx, {
          action: 'webhooks.test',
          targetType: 'webhook',
          targetId: row.id,
          after: { messageId, ok: result.ok, statusCode: result.statusCode },
        }),
      )
      return result
    },

    async deliveries(ctx, id, input = {}) {
      requirePermission(ctx, 'webhooks:read')
      const parsed = parseInput(deliveryListInputSchema, input)
      const endpoint = await load(knex, id)
      const rows = await repo.selectDeliveries(
        knex,
        {
          endpointId: endpoint.id,
          status: parsed.status,
          since: parsed.since === undefined ? undefined : resolveTimeBound(parsed.since, clock.now()),
          beforeId: decodeCursor(parsed.cursor),
        },
        parsed.limit + 1,
      )
      const last = await repo.selectLastAttempts(
        knex,
        rows.map((r) => Number(r.id)),
      )
      return toPage(
        rows.map((r) => ({ ...r, id: Number(r.id) })),
        parsed.limit,
        (r) => toDelivery(r, last.get(r.id)),
      )
    },

    async redeliver(ctx, deliveryId) {
      requirePermission(ctx, 'webhooks:write')
      // A path segment arrives parsed (a number) through the HTTP door, as typed (a string) through the CLI.
      const id = parseInput(deliveryIdSchema, String(deliveryId))
      return knex.transaction(async (trx) => {
        const row = await repo.selectDelivery(trx, { id })
        if (!row) throw new GantryError('DELIVERY_NOT_FOUND', `No webhook delivery with id ${id}.`)
        // A pending delivery has its next attempt queued already: a second job would send it twice.
        if (row.status === 'pending') {
          throw new GantryError(
            'DELIVERY_PENDING',
            `Delivery ${id} is pending: its next attempt is at ${iso(row.next_attempt_at) ?? 'once a worker takes it'}.`,
          )
        }
        const now = clock.now()
        await requeue(trx, [row], now)
        await audit.append(trx, ctx, {
          action: 'webhooks.redeliver',
          targetType: 'webhook-delivery',
          targetId: String(id),
          after: { messageId: row.message_id, endpointId: row.endpoint_id },
        })
        const last = await repo.selectLastAttempts(trx, [id])
        return toDelivery({ ...row, id, status: 'pending', next_attempt_at: now, updated_at: now }, last.get(id))
      })
    },

    async replay(ctx, id, input = {}) {
      requirePermission(ctx, 'webhooks:write')
      const parsed = parseInput(replayInputSchema, input)
      return knex.transaction(async (trx) => {
        const endpoint = await load(trx, id)
        const now = clock.now()
        const failed = await repo.selectFailedSince(trx, endpoint.id, resolveTimeBound(parsed.since, now))
        await requeue(trx, failed, now)
        await audit.append(trx, ctx, {
          action: 'webhooks.replay',
          targetType: 'webhook',
          targetId: endpoint.id,
          after: { since: parsed.since, requeued: failed.length },
        })
        return { requeued: failed.length }
      })
    },

    async resealSecrets(ctx) {
      requirePermission(ctx, 'keys:write')
      const keys = requireKeys()
      const current = keys.current.id
      /** The value sealed under the current key, or undefined when it already is. */
      const resealed = async (sealed: string | null, binding: string): Promise<string | undefined> =>
        sealed === null || sealedKeyId(sealed) === current ? undefined : seal(keys, await open(keys, sealed, binding), binding)
      return knex.transaction(async (trx) => {
        // Locked: a rotation committing meanwhile would otherwise be overwritten with the secret it replaced.
        const rows = await repo.selectEndpoints(trx, { lock: true })
        let count = 0
        for (const row of rows) {
          const secret = await resealed(row.secret, secretBinding(row.id))
          const previous = await resealed(row.previous_secret, secretBinding(row.id, 'previous'))
          if (secret === undefined && previous === undefined) continue
          await repo.updateEndpoint(trx, row.id, {
            ...(secret === undefined ? {} : { secret }),
            ...(previous === undefined ? {} : { previous_secret: previous }),
          })
          count += 1
        }
        const result = { keyId: current, resealed: count, endpoints: rows.length }
        await audit.append(trx, ctx, { action: 'keys.rotate-encryption', targetType: 'encryption-key', targetId: current, after: result })
        return result
      })
    },
  }
}

/** One manual attempt of each delivery, due now: one attempt each, no retries of its own. */
async function requeue(trx: Knex, rows: readonly repo.DeliveryRow[], now: number): Promise<void> {
  for (const row of rows) await repo.updateDelivery(trx, Number(row.id), { status: 'pending', next_attempt_at: now, updated_at: now })
  await enqueueJobs(
    trx,
    rows.map((r) => ({ type: DELIVER_JOB, payload: { messageId: r.message_id, endpointId: r.endpoint_id, manual: true } satisfies DeliverJobPayload })),
    now,
  )
}

const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString())

function toEndpoint(row: repo.EndpointRow): Endpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: JSON.parse(row.event_types) as string[],
    enabled: Boolean(row.enabled),
    disabledReason: row.disabled_reason,
    createdBy: row.created_by,
    failingSince: iso(row.failing_since),
    previousSecretUntil: iso(row.previous_secret_until),
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
  }
}

function toAttempt(row: repo.AttemptRow): Attempt {
  return {
    at: iso(row.at) as string,
    statusCode: row.status_code === null ? null : Number(row.status_code),
    latencyMs: Number(row.latency_ms),
    error: row.error,
    responseExcerpt: row.response_excerpt,
    trigger: row.trigger,
  }
}

function toDelivery(row: repo.DeliveryRow & { type: string; id: number }, last: repo.AttemptRow | undefined): Delivery {
  return {
    id: row.id,
    messageId: row.message_id,
    endpointId: row.endpoint_id,
    eventType: row.type,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: iso(row.next_attempt_at),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: row.last_error,
    lastAttempt: last ? toAttempt(last) : null,
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
  }
}
