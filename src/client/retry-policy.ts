/** When the client tries a request again, and how long it waits first. */
import type { Backoff } from '../core/backoff.js'
import type { HttpMethod } from './types.js'

/** Idempotent by default: repeating them cannot do the work twice. */
const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'PUT', 'DELETE'])
/** Gateway and availability answers a retry of an idempotent request may outlast. */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([502, 503, 504])
/** The wait before retry n: 200 ms doubling to 5 s, jittered (src/core/backoff.ts). */
export const RETRY_BACKOFF: Backoff = { baseMs: 200, maxMs: 5_000 }
/** The longest Retry-After the client waits for; a longer one fails at once (its error carries the value). */
export const MAX_RETRY_AFTER_MS = 30_000

/** Whether a request of `method` is retried after a network error or a transient status, unless the spec says. */
export function isIdempotent(method: HttpMethod, explicit: boolean | undefined): boolean {
  return explicit ?? IDEMPOTENT.has(method)
}

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status)
}

/** A Retry-After header in milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
