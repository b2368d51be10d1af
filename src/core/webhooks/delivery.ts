/**
 * One delivery attempt, as the worker runs it for a `webhook.deliver` job: the checks that may stop it (the
 * endpoint off or gone, its creator no longer allowed to read the event), the signed POST, and what follows
 * from the answer — done, retried on the schedule, given up, or the endpoint switched off after failing
 * for too long. Every attempt of a delivery carries the message's id as its webhook-id, so a receiver can
 * de-duplicate what at-least-once delivery repeats.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import { localContext } from '../context.js'
import { open, type DataKeyRing } from '../encryption/data-keys.js'
import { GantryError } from '../errors.js'
import type { Job, JobOutcome } from '../jobs/job-queue.js'
import { hasPermission } from '../roles/permissions.js'
import { escapeControl } from '../text.js'
import { readPermissionOf } from './event-types.js'
import type { DeliverJobPayload } from './outbox.js'
import { signatureHeaders } from './signature.js'
import { checkWebhookUrl } from './targets.js'
import { insertAttempt, selectDelivery, selectEndpoint, updateDelivery, updateEndpoint, type EndpointRow } from './webhooks.repo.js'

/** The wait before each attempt (Svix's schedule): at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — about a day and a half. */
export const RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
/** Each wait is drawn from ±10% of the schedule's, so receivers that failed together are not retried together. */
const JITTER = 0.1
/** A Retry-After longer than this is capped: the schedule is about a day, a receiver cannot stretch it to weeks. */
const MAX_RETRY_AFTER_MS = 36_000_000
/** How much of a failed answer is kept, and the most its escaped form may take (gantry_webhook_attempts.response_excerpt). */
const EXCERPT_CHARS = 1024
const EXCERPT_COLUMN = 1100
/** Who the audit log names when the worker switches an endpoint off. */
export const WEBHOOK_WORKER_ACTOR = 'system:webhooks'

export interface WebhookRequest {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly timeoutMs: number
}

/** What came back: a status, or why there was none (timeout, refused address, redirect not followed …). */
export interface WebhookResponse {
  readonly statusCode: number | null
  readonly latencyMs: number
  readonly error: string | null
  /** The start of the answer's body (at least the first KB when there was one). */
  readonly body: string | null
  readonly retryAfter: string | null
}

/** Sends one signed request; never throws for what the receiver does (that is an answer). */
export type WebhookSender = (request: WebhookRequest) => Promise<WebhookResponse>

export interface DeliverySettings {
  readonly attemptTimeoutMs: number
  /** Messages, their deliveries and attempts are kept this long once none is pending. */
  readonly retentionMs: number
  /** An endpoint whose deliveries have all failed for this long is switched off. */
  readonly disableAfterMs: number
  readonly allowPrivateTargets: boolean
}

export interface DeliveryDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly keys: () => DataKeyRing | undefined
  readonly send: WebhookSender
  /** What an actor (the endpoint's creator) may read now. */
  readonly permissionsOf: (actor: string) => Promise<readonly string[]>
  readonly settings: DeliverySettings
  readonly random: () => number
  readonly userAgent: string
  /** How each delivery attempt ended, for metrics; latency null when no request was made. */
  readonly observe?: DeliveryObserver | undefined
}

export type DeliveryObserver = (endpointId: string, outcome: DeliveryOutcome, latencyMs: number | null) => void

export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed' | 'skipped'

/** Records a job's end if the worker still holds it; false when its lease was taken over. */
export type FinishJob = (trx: Knex, outcome: JobOutcome) => Promise<boolean>

/** Opens a sealed secret bound to `binding` (data-keys.ts `open`, or a cache in front of it). */
export type OpenSecret = (keys: DataKeyRing, sealed: string, binding: string) => Promise<string>

/** The secrets that sign now: the current one, and the previous one during a rotation's grace period. */
export async function signingSecrets(keys: DataKeyRing | undefined, endpoint: EndpointRow, now: number, opener: OpenSecret = open): Promise<string[]> {
  if (!keys) throw new GantryError('ENCRYPTION_KEY_MISSING', 'Webhook secrets are sealed under GANTRY_ENCRYPTION_KEY, which is not set.')
  const secrets = [await opener(keys, endpoint.secret, secretBinding(endpoint.id))]
  if (endpoint.previous_secret !== null && endpoint.previous_secret_until !== null && now < Number(endpoint.previous_secret_until)) {
    secrets.push(await opener(keys, endpoint.previous_secret, secretBinding(endpoint.id, 'previous')))
  }
  return secrets
}

/** Sealed secrets a worker keeps open: more than any environment's endpoints (100) and their previous secrets. */
const OPEN_SECRETS = 512

/**
 * The worker's opener: a sealed value opens to the same secret every time, so it is opened once (an AES-GCM
 * decryption per delivery otherwise). Keyed by the sealed text and its binding, so a rotation (a new sealed
 * value) or another data key is a miss, never a stale secret.
 */
function cachedOpener(): OpenSecret {
  const opened = new Map<string, string>()
  return async (keys, sealed, binding) => {
    const key = `${binding} ${sealed}`
    const hit = opened.get(key)
    if (hit !== undefined) return hit
    const secret = await open(keys, sealed, binding)
    if (opened.size >= OPEN_SECRETS) opened.clear()
    opened.set(key, secret)
    return secret
  }
}

/** What a sealed secret is bound to: its endpoint and slot, so it cannot be moved to another row. */
export function secretBinding(endpointId: string, slot: 'current' | 'previous' = 'current'): string {
  return `webhook-endpoint:${endpointId}:${slot}`
}

/** The headers of one request to an endpoint. */
export function requestHeaders(
  userAgent: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
  secrets: readonly string[],
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': userAgent,
    ...signatureHeaders({ id: messageId, timestamp: timestampSeconds, body, secrets }),
  }
}

/** Sends `body` to `url` signed for `messageId`; the answer as kept (excerpt escaped). */
export async function sendSigned(
  deps: Pick<DeliveryDeps, 'send' | 'settings' | 'userAgent'>,
  request: { url: string; messageId: string; body: string; secrets: readonly string[]; now: number },
): Promise<WebhookResponse & { excerpt: string | null }> {
  let response: WebhookResponse
  try {
    checkWebhookUrl(request.url, deps.settings) // an IP literal never reaches the lookup that guards hostnames
    const headers = requestHeaders(deps.userAgent, request.messageId, Math.floor(request.now / 1000), request.body, request.secrets)
    response = await deps.send({ url: request.url, headers, body: request.body, timeoutMs: deps.settings.attemptTimeoutMs })
  } catch (err) {
    response = { statusCode: null, latencyMs: 0, error: err instanceof Error ? err.message : String(err), body: null, retryAfter: null }
  }
  const ok = isSuccess(response.statusCode)
  // Escaped, then cut: an escape is up to six characters, and the column holds EXCERPT_COLUMN.
  return { ...response, excerpt: ok || response.body === null ? null : escapeControl(response.body.slice(0, EXCERPT_CHARS)).slice(0, EXCERPT_COLUMN) }
}

export function isSuccess(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300
}

/** The delivery handler of the worker. */
export function createDelivery(deps: DeliveryDeps) {
  const { knex, clock } = deps
  const opener = cachedOpener()

  /** When the next attempt runs after `attempts` failed ones, or undefined when the schedule is spent. */
  const nextAttemptAt = (attempts: number, now: number, retryAfter: string | null): number | undefined => {
    const wait = RETRY_SCHEDULE_MS[attempts]
    if (wait === undefined) return undefined
    const jittered = Math.round(wait * (1 - JITTER + 2 * JITTER * deps.random()))
    const asked = retryAfterMs(retryAfter, now)
    return now + Math.max(jittered, asked === undefined ? 0 : Math.min(asked, MAX_RETRY_AFTER_MS))
  }

  /** Counts a failure against the endpoint; switches it off once it has failed for disableAfter. */
  const endpointFailed = async (trx: Knex, endpoint: EndpointRow, now: number): Promise<void> => {
    const since = endpoint.failing_since === null ? now : Number(endpoint.failing_since)
    if (now - since < deps.settings.disableAfterMs || !endpoint.enabled) {
      if (endpoint.failing_since === null) await updateEndpoint(trx, endpoint.id, { failing_since: now })
      return
    }
    const reason = `failing since ${new Date(since).toISOString()}`
    await updateEndpoint(trx, endpoint.id, { enabled: false, disabled_reason: reason, updated_at: now })
    // Audited like any change, so the other endpoints hear of it (webhooks.disabled) through the outbox.
    await deps.audit.append(trx, localContext(WEBHOOK_WORKER_ACTOR), {
      action: 'webhooks.disable',
      targetType: 'webhook',
      targetId: endpoint.id,
      before: { enabled: true },
      after: { enabled: false, disabledReason: reason },
    })
  }

  return async function deliver(job: Job, finish: FinishJob): Promise<void> {
    const { messageId, endpointId, manual = false } = job.payload as DeliverJobPayload
    const [delivery, endpoint] = await Promise.all([selectDelivery(knex, { messageId, endpointId }), selectEndpoint(knex, endpointId)])
    if (!delivery || !endpoint) {
      await finish(knex, { status: 'succeeded' }) // the endpoint was deleted, and its deliveries with it
      return
    }
    if (!manual && delivery.status !== 'pending') {
      await finish(knex, { status: 'succeeded' }) // done already (a redelivery, a replay): nothing left to send
      return
    }
    const now = clock.now()
    const deliveryId = Number(delivery.id)
    const stop = async (status: 'failed' | 'skipped', error: string): Promise<void> => {
      await knex.transaction(async (trx) => {
        if (await finish(trx, { status: 'succeeded' }))
          await updateDelivery(trx, deliveryId, { status, last_error: error, next_attempt_at: null, updated_at: now })
      })
      deps.observe?.(endpointId, status === 'skipped' ? 'skipped' : 'failed', null)
    }
    if (!endpoint.enabled) return stop('failed', `endpoint disabled (${endpoint.disabled_reason ?? 'by hand'})`)
    const needed = readPermissionOf(delivery.type)
    if (!hasPermission(await deps.permissionsOf(endpoint.created_by), needed)) {
      return stop('skipped', `${endpoint.created_by}, who created the endpoint, no longer holds ${needed}`)
    }

    // A secret that cannot be opened (no data key in this process, an unknown one) fails this attempt like an
    // unreachable receiver: retried on the schedule, visible in the delivery's history, never stuck pending.
    const secrets = await signingSecrets(deps.keys(), endpoint, now, opener).catch((err: unknown) => err as Error)
    const answer =
      secrets instanceof Error
        ? { statusCode: null, latencyMs: 0, error: `not signed: ${secrets.message}`, body: null, retryAfter: null, excerpt: null }
        : await sendSigned(deps, { url: endpoint.url, messageId, body: delivery.body, secrets, now })
    const attempts = Number(delivery.attempts) + 1
    const ok = isSuccess(answer.statusCode)
    const error = ok ? null : (answer.error ?? `HTTP ${answer.statusCode ?? '?'}`)
    const retryAt = ok || manual ? undefined : nextAttemptAt(attempts, now, answer.retryAfter)
    const outcome: DeliveryOutcome = ok ? 'succeeded' : retryAt === undefined ? 'failed' : 'retrying'
    await knex.transaction(async (trx) => {
      await insertAttempt(trx, {
        delivery_id: deliveryId,
        at: now,
        status_code: answer.statusCode,
        latency_ms: Math.round(answer.latencyMs),
        error: error?.slice(0, 1000) ?? null,
        response_excerpt: answer.excerpt,
        trigger: manual ? 'manual' : 'scheduled',
      })
      const jobOutcome: JobOutcome = retryAt === undefined ? { status: 'succeeded' } : { status: 'retry', runAt: retryAt, error: error ?? '' }
      if (!(await finish(trx, jobOutcome))) return // another worker took the job over: its record wins
      await updateDelivery(trx, deliveryId, {
        status: outcome === 'retrying' ? 'pending' : outcome === 'succeeded' ? 'succeeded' : 'failed',
        attempts,
        next_attempt_at: retryAt ?? null,
        last_status: answer.statusCode,
        last_error: error?.slice(0, 1000) ?? null,
        updated_at: now,
      })
      // A success on an endpoint that was not failing changes nothing of it: no row to lock.
      if (ok && endpoint.failing_since === null) return
      const current = await selectEndpoint(trx, endpointId, true)
      if (!current) return
      if (ok) {
        if (current.failing_since !== null) await updateEndpoint(trx, endpointId, { failing_since: null })
      } else {
        await endpointFailed(trx, current, now)
      }
    })
    deps.observe?.(endpointId, outcome, answer.latencyMs)
  }
}

/** Retry-After as a wait in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
