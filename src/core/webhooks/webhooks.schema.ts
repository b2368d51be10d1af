/** The payloads of outbound webhooks: endpoints, the events sent to them, deliveries and their attempts. */
import { z } from 'zod'
import { timeBoundSchema } from '../audit/audit.schema.js'
import { durationSchema } from '../duration.js'
import { atLeastOneField } from '../input-rules.js'
import { pageInputSchema, pageSchema } from '../pagination.js'
import { plainText } from '../text.js'
import { isEventType } from './event-types.js'

/** An endpoint's id: `ep_` and 22 base62 characters. */
export const endpointIdSchema = z
  .string()
  .trim()
  .regex(/^ep_[0-9A-Za-z]{22}$/, 'an endpoint id is ep_ followed by 22 letters and digits (see `gantry webhooks list`)')

/** What an endpoint subscribes to: event types and wildcards (`users.*`, `*`). */
export const eventPatternsSchema = z
  .array(
    z
      .string()
      .trim()
      .refine((t) => isEventType(t, { pattern: true }), 'expected an event type such as users.created, a wildcard such as users.*, or *'),
  )
  .min(1)
  .max(100)
  .transform((ts) => [...new Set(ts)])

/** An endpoint as every door shows it: never its secret. */
export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('why it is off: disabled by hand, or failing continuously since a time'),
  createdBy: z.string().describe('the actor whose read permissions bound what it receives'),
  failingSince: z.string().nullable().describe('ISO 8601: the first failure of the current run of failed deliveries'),
  previousSecretUntil: z.string().nullable().describe('after a rotation: until when the previous secret signs beside the new one'),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Endpoint = z.infer<typeof endpointSchema>

/** An endpoint and its signing secret, returned once: at creation and at rotation. */
export const endpointWithSecretSchema = z.object({
  endpoint: endpointSchema,
  secret: z.string().describe('whsec_…: the signing secret, shown this once'),
})
export type EndpointWithSecret = z.infer<typeof endpointWithSecretSchema>

/** Every endpoint (at most 100): one page, and `nextCursor` null as every list's last page says. */
export const endpointListSchema = z.object({ data: z.array(endpointSchema), nextCursor: z.null() })
export type EndpointList = z.infer<typeof endpointListSchema>

const urlField = z.string().trim().min(1).max(2048)
const descriptionField = z.string().trim().max(500).check(plainText)

export const createEndpointInputSchema = z.object({
  url: urlField,
  eventTypes: eventPatternsSchema,
  description: descriptionField.default(''),
})
export type CreateEndpointInput = z.input<typeof createEndpointInputSchema>

export const updateEndpointInputSchema = atLeastOneField(
  z.object({ url: urlField.optional(), eventTypes: eventPatternsSchema.optional(), description: descriptionField.optional() }),
  'nothing to change: give a url, event types or a description',
)
export type UpdateEndpointInput = z.input<typeof updateEndpointInputSchema>

export const rotateSecretInputSchema = z.object({
  /** How long the previous secret keeps signing beside the new one (0s: not at all). */
  grace: durationSchema.default('24h'),
})
export type RotateSecretInput = z.input<typeof rotateSecretInputSchema>

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'skipped'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

/** One attempt to deliver: what the receiver answered, or why there was no answer. */
export const attemptSchema = z.object({
  at: z.string(),
  statusCode: z.number().int().nullable().describe('null: no answer (timeout, refused connection, redirect not followed, refused address)'),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
  responseExcerpt: z.string().nullable().describe('the first KB of a failed answer, control characters escaped'),
  trigger: z.enum(['scheduled', 'manual']),
})
export type Attempt = z.infer<typeof attemptSchema>

export const deliverySchema = z.object({
  id: z.number().int(),
  messageId: z.string().describe('the webhook-id every attempt carries'),
  endpointId: z.string(),
  eventType: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttempt: attemptSchema.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Delivery = z.infer<typeof deliverySchema>

export const deliveryListInputSchema = pageInputSchema.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
  since: timeBoundSchema.optional(),
})
export type DeliveryListInput = z.input<typeof deliveryListInputSchema>

export const deliveryPageSchema = pageSchema(deliverySchema)
export type DeliveryPage = z.infer<typeof deliveryPageSchema>

/** A delivery's id, as a path segment or an argument carries it. */
export const deliveryIdSchema = z
  .string()
  .trim()
  .regex(/^[1-9][0-9]{0,14}$/, 'a delivery id is a number (see `gantry webhooks deliveries ENDPOINT`)')
  .transform(Number)

export const replayInputSchema = z.object({ since: timeBoundSchema.default('1h') })
export type ReplayInput = z.input<typeof replayInputSchema>

export const replayResultSchema = z.object({ requeued: z.number().int().describe('failed deliveries queued again') })

/** What the receiver answered a test event. */
export const testResultSchema = z.object({
  messageId: z.string(),
  ok: z.boolean(),
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
  responseExcerpt: z.string().nullable(),
})
export type TestResult = z.infer<typeof testResultSchema>

/**
 * The body of every event (Standard Webhooks' shape: type, timestamp, data). For an audited change, `data`
 * is the audit row's public part: who, what, and the target before and after (never a secret).
 */
export const eventEnvelopeSchema = z.object({
  type: z.string(),
  timestamp: z.string().describe('ISO 8601: when the change committed'),
  environment: z.string(),
  data: z.unknown(),
})
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>

export const auditEventDataSchema = z.object({
  actor: z.string(),
  target: z.object({ type: z.string(), id: z.string() }),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
})

/** What re-sealing every secret at rest under the first data key did. */
export const resealResultSchema = z.object({
  keyId: z.string().describe('the id of the data key everything is now sealed under'),
  resealed: z.number().int().describe('endpoints whose secrets were sealed under another key, now under this one'),
  endpoints: z.number().int(),
})
export type ResealResult = z.infer<typeof resealResultSchema>
