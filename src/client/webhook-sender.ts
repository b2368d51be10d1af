/**
 * How webhook deliveries leave: one POST per attempt with axios, and nothing a receiver (or whoever controls
 * its DNS) can turn against us. Every connection's address is checked by the guarded lookup (so a name that
 * resolves to a private address is refused even after the endpoint was accepted), redirects are not
 * followed, HTTP(S)_PROXY is ignored, the whole attempt has a deadline (a receiver trickling bytes cannot
 * hold a worker), and at most RESPONSE_BYTES of the answer are read.
 */
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { Readable } from 'node:stream'
import type { AxiosRequestConfig } from 'axios'
import type { WebhookSender } from '../core/webhooks/delivery.js'
import { guardedLookup, type Resolve } from '../core/webhooks/targets.js'

/** What is read of an answer: the excerpt keeps the first KB; reading a little more lets a keep-alive socket be reused. */
const RESPONSE_BYTES = 16 * 1024

export interface WebhookSenderOptions {
  readonly allowPrivateTargets: boolean
  /** Tests resolve names themselves; default dns.lookup. */
  readonly resolve?: Resolve | undefined
  /** Monotonic milliseconds, for latency. */
  readonly monotonicMs?: (() => number) | undefined
}

/** A sender with its own keep-alive agents; `close` ends their idle sockets. */
export function createWebhookSender(options: WebhookSenderOptions): { send: WebhookSender; close(): void } {
  const lookup = guardedLookup({ allowPrivateTargets: options.allowPrivateTargets, resolve: options.resolve })
  const httpAgent = new HttpAgent({ keepAlive: true, lookup })
  const httpsAgent = new HttpsAgent({ keepAlive: true, lookup })
  const monotonicMs = options.monotonicMs ?? (() => performance.now())

  const send: WebhookSender = async ({ url, headers, body, timeoutMs }) => {
    const started = monotonicMs()
    try {
      // Loaded on the first delivery, as the rest of src/client loads it: commands that send nothing never pay for it.
      const { default: axios } = await import('axios')
      const response = await axios.post<Readable>(url, body, {
        headers,
        httpAgent,
        httpsAgent,
        // axios's own LookupAddress type narrows `family` to 4 | 6, which a dns.lookup answer always is.
        lookup: lookup as unknown as AxiosRequestConfig['lookup'],
        proxy: false,
        maxRedirects: 0,
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
        responseType: 'stream',
        validateStatus: () => true,
        transformRequest: [(data: unknown) => data],
        decompress: true,
      })
      const latencyMs = monotonicMs() - started
      const text = await readSome(response.data, RESPONSE_BYTES)
      const retryAfter = response.headers['retry-after']
      const status = response.status
      const redirected = status >= 300 && status < 400
      return {
        statusCode: status,
        latencyMs,
        error: redirected ? `redirect to another location not followed (HTTP ${status})` : null,
        body: text,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
      }
    } catch (err) {
      return { statusCode: null, latencyMs: monotonicMs() - started, error: describe(err, timeoutMs), body: null, retryAfter: null }
    }
  }
  return {
    send,
    close() {
      httpAgent.destroy()
      httpsAgent.destroy()
    },
  }
}

/** Up to `limit` bytes of a stream as text; the rest is not read (the socket is destroyed instead of drained). */
async function readSome(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
      chunks.push(buffer)
      size += buffer.length
      if (size >= limit) break
    }
  } catch {
    // an answer cut short: what arrived is the excerpt
  } finally {
    if (size >= limit) stream.destroy()
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8')
}

/** A failure without an answer, in a few words (never the request's headers, which carry the signature). */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } }
  const code = e.cause?.code ?? e.code
  if (code === 'WEBHOOK_TARGET_REFUSED') return e.cause?.message ?? e.message ?? 'target address refused'
  if (e.name === 'CanceledError' || e.name === 'AbortError' || e.name === 'TimeoutError' || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return `no answer within ${timeoutMs} ms`
  }
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ENOTFOUND') return 'host not found'
  return code ? `${code}: ${e.message ?? ''}`.trim() : (e.message ?? String(err))
}
