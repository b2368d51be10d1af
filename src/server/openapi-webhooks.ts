/**
 * The events Gantry sends, as OpenAPI 3.1 describes requests an API makes (its `webhooks` section): one entry
 * per event type, each a POST of the event's JSON body with Standard Webhooks' three headers, so a receiver
 * can generate its handler from the same document as its client.
 */
import { z } from 'zod'
import { AUDIT_EVENT_TYPES, TEST_EVENT_TYPE } from '../core/webhooks/event-types.js'
import { auditEventDataSchema, eventEnvelopeSchema } from '../core/webhooks/webhooks.schema.js'

type JsonSchema = Record<string, unknown>

const HEADERS = [
  ['webhook-id', 'The message id (msg_…): the same on every attempt, so a receiver can drop repeats.'],
  ['webhook-timestamp', 'Seconds since the epoch when the attempt was signed; refuse one far from your clock.'],
  ['webhook-signature', 'Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per secret (two during a rotation).'],
] as const

/** The `webhooks` section, and the schemas it refers to, built with the document's own zod-to-JSON-Schema. */
export function webhookDocs(toSchema: (schema: z.ZodType) => JsonSchema): { webhooks: Record<string, JsonSchema>; schemas: Record<string, JsonSchema> } {
  // In the order they were added (the audit actions' own order): a new type joins the end of the enum, so the
  // document only grows.
  const auditTypes = [...new Set(Object.values(AUDIT_EVENT_TYPES))]
  const schemas = {
    AuditEvent: toSchema(eventEnvelopeSchema.extend({ type: z.enum(auditTypes as [string, ...string[]]), data: auditEventDataSchema })),
    TestEvent: toSchema(
      eventEnvelopeSchema.extend({
        type: z.literal(TEST_EVENT_TYPE),
        data: z.object({ endpointId: z.string(), by: z.string().describe('who asked for the test') }),
      }),
    ),
  }
  const entry = (type: string, schema: 'AuditEvent' | 'TestEvent', summary: string): JsonSchema => ({
    post: {
      operationId: `event${type.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary,
      description: `Sent to every enabled endpoint subscribed to \`${type}\` (or a wildcard covering it) whose creator may still read it.`,
      tags: ['webhooks'],
      security: [],
      parameters: HEADERS.map(([name, description]) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } })),
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } },
      responses: {
        '2XX': { description: 'Delivered.' },
        '4XX': { description: 'Not delivered: retried on the schedule (429 with Retry-After waits at least that long).' },
        '5XX': { description: 'Not delivered: retried on the schedule.' },
      },
    },
  })
  const webhooks: Record<string, JsonSchema> = {}
  for (const type of auditTypes) webhooks[type] = entry(type, 'AuditEvent', `${type}: an audited change, with the target before and after.`)
  webhooks[TEST_EVENT_TYPE] = entry(TEST_EVENT_TYPE, 'TestEvent', `${TEST_EVENT_TYPE}: sent by \`gantry webhooks test\` to one endpoint.`)
  return { webhooks, schemas }
}
