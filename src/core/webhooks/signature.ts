/**
 * Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 of `id.timestamp.body` under the
 * endpoint's secret, sent as `webhook-signature: v1,<base64>`. Several signatures may travel space-separated,
 * one per secret, so that an endpoint whose secret is being rotated accepts either. Only node:crypto: the
 * library exports verifyWebhook to Node receivers, who should not pull in the rest of Gantry for it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { randomSecretBytes } from '../random.js'

const SECRET_PREFIX = 'whsec_'
const SECRET_BYTES = 32
const DEFAULT_TOLERANCE_SECONDS = 5 * 60
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const V1 = 'v1,'

/** The headers a delivery carries. A type, not an interface, so that it passes as WebhookHeaders. */
export type WebhookSignatureHeaders = {
  readonly 'webhook-id': string
  readonly 'webhook-timestamp': string
  readonly 'webhook-signature': string
}

/** A request's headers as Node (IncomingMessage.headers) or fetch (Headers) hand them over. */
export type WebhookHeaders = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>

/** Why a delivery was refused; the message is short and names no secret. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WebhookVerificationError'
  }
}

/** A new endpoint secret: `whsec_` and the base64 of 32 random bytes (the spec allows 24 to 64). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomSecretBytes(SECRET_BYTES).toString('base64')
}

/** The headers of one delivery, signed with every secret given (the current one, and the previous during a rotation). */
export function signatureHeaders(input: { id: string; timestamp: number; body: string; secrets: readonly string[] }): WebhookSignatureHeaders {
  if (input.secrets.length === 0) throw new RangeError('signatureHeaders needs at least one secret')
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) throw new RangeError('the webhook timestamp is whole seconds since the epoch')
  const timestamp = String(input.timestamp)
  const signatures = input.secrets.map((secret) => V1 + sign(secret, input.id, timestamp, input.body))
  return { 'webhook-id': input.id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') }
}

/**
 * Returns when a v1 signature of the delivery matches `secret` and its timestamp is within `tolerance`
 * seconds of now (either way: a replay is refused, and so is a clock far ahead); throws a
 * WebhookVerificationError otherwise. `rawBody` must be the bytes as received, before any JSON parsing. A
 * secret that is not `whsec_` and base64 throws a TypeError instead: then the receiver is wrong, not the delivery.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Buffer,
  options: { tolerance?: number; now?: () => number } = {},
): void {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (id === undefined || timestamp === undefined || signatures === undefined) throw new WebhookVerificationError('Missing webhook headers')
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp')
  const age = Math.floor((options.now ?? Date.now)() / 1000) - Number(timestamp)
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE_SECONDS
  if (age > tolerance) throw new WebhookVerificationError('Webhook timestamp too old')
  if (age < -tolerance) throw new WebhookVerificationError('Webhook timestamp too new')
  const expected = Buffer.from(sign(secret, id, timestamp, rawBody))
  const matches = signatures.split(' ').some((versioned) => {
    // Signatures of other versions are for other verifiers (the spec lets a sender add them); skip them.
    if (!versioned.startsWith(V1)) return false
    const candidate = Buffer.from(versioned.slice(V1.length))
    // Only the length, which is public, is compared in variable time.
    return candidate.length === expected.length && timingSafeEqual(candidate, expected)
  })
  if (!matches) throw new WebhookVerificationError('No matching webhook signature')
}

/** The base64 HMAC-SHA256 of `id.timestamp.body` under the secret's key. */
function sign(secret: string, id: string, timestamp: string, body: string | Buffer): string {
  return createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64')
}

/** The key of a secret: the base64 after `whsec_` (the prefix is optional, as in the reference libraries). */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  // A mistyped secret must fail loudly here, not sign with whatever Buffer's lenient decoder keeps of it.
  if (!BASE64.test(encoded)) throw new TypeError('a webhook secret is whsec_ followed by base64')
  return Buffer.from(encoded, 'base64')
}

/** The one value of a header, whatever the case of its name; undefined when absent, empty or repeated. */
function header(headers: WebhookHeaders, name: string): string | undefined {
  if (isFetchHeaders(headers)) return headers.get(name) || undefined
  const values: string[] = []
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) values.push(...(typeof value === 'string' ? [value] : value))
  }
  return values.length === 1 && values[0] !== '' ? values[0] : undefined
}

function isFetchHeaders(headers: WebhookHeaders): headers is { get(name: string): string | null } {
  return typeof headers.get === 'function'
}
