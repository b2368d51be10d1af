/**
 * The HTTP client of Gantry's API (ApiClient in types.ts). axios is imported inside createApiClient, so a
 * command pays its ~80 ms only when it talks to a server. Each attempt has a deadline; idempotent requests
 * are retried after network errors and 502/503/504 (exponential backoff, full jitter), any request after
 * 429 or 503 with a Retry-After of at most 30 s (the server refused it without doing it); a 401 lets the
 * credential source refresh once. Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY: axios reads them
 * itself in Node (proxy-from-env, CONNECT tunnels for https), and this client leaves `proxy` unset so it does.
 */
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Agent as HttpsAgent } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { rootCertificates } from 'node:tls'
import type { Readable } from 'node:stream'
import type { AxiosInstance, AxiosResponse, RawAxiosRequestHeaders } from 'axios'
import type { z } from 'zod'
import { GantryError } from '../core/errors.js'
import { networkFailure, responseError, unreachableError, type Attempted } from './http-errors.js'
import { oneLine, parseLeniently } from './lenient-parse.js'
import { backoffMs } from '../core/backoff.js'
import { isIdempotent, isTransientStatus, MAX_RETRY_AFTER_MS, parseRetryAfter, RETRY_BACKOFF } from './retry-policy.js'
import { displayUrl, normaliseServerUrl } from './server-url.js'
import type { ApiClient, ClientOptions, RequestSpec } from './types.js'

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_RETRIES = 3
/** An error answer is read up to this size for its problem+json; the rest is not worth holding. */
const MAX_ERROR_BODY = 64 * 1024

type Body = 'text' | 'stream'
type Answer<B extends Body> = AxiosResponse<B extends 'text' ? string : Readable>

interface Exchange<B extends Body> {
  readonly spec: RequestSpec<z.ZodType | undefined>
  readonly body: B
  /** Upload: the stream and its type, sent once. */
  readonly stream?: { readonly data: Readable; readonly contentType: string }
}

/** Builds a client of the server at `options.baseUrl`; loads axios (and reads the CA file) here, lazily. */
export async function createApiClient(options: ClientOptions): Promise<ApiClient> {
  const baseUrl = normaliseServerUrl(options.baseUrl)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const retries = Math.max(0, options.retries ?? DEFAULT_RETRIES)
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const credentials = options.credentials
  const httpsAgent = await tlsAgent(options)
  const { default: axios } = await import('axios')
  const http: AxiosInstance = axios.create({
    timeout: timeoutMs,
    // The API never redirects; following one would turn a POST into a GET. A 3xx is reported instead.
    maxRedirects: 0,
    validateStatus: () => true,
    transformResponse: [(data: unknown) => data],
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
    maxBodyLength: Infinity,
    maxContentLength: Infinity,
    ...(httpsAgent ? { httpsAgent } : {}),
  })

  const urlOf = (spec: RequestSpec<z.ZodType | undefined>): { href: string; attempted: Attempted } => {
    const search = new URLSearchParams()
    for (const [key, value] of Object.entries(spec.query ?? {})) if (value !== undefined) search.set(key, String(value))
    const path = spec.path.startsWith('/') ? spec.path : `/${spec.path}`
    const query = search.size > 0 ? `?${search.toString()}` : ''
    return { href: `${baseUrl}${path}${query}`, attempted: { method: spec.method, url: displayUrl(`${baseUrl}${path}`) } }
  }

  /** One attempt with its own deadline (axios's timeout alone is per socket inactivity). */
  async function attempt<B extends Body>(exchange: Exchange<B>, href: string, headers: RawAxiosRequestHeaders): Promise<Answer<B>> {
    const controller = new AbortController()
    const deadline = setTimeout(() => controller.abort(), timeoutMs)
    try {
      const res = await http.request({
        method: exchange.spec.method,
        url: href,
        headers,
        data: exchange.stream ? exchange.stream.data : exchange.spec.body === undefined ? undefined : JSON.stringify(exchange.spec.body),
        responseType: exchange.body,
        responseEncoding: 'utf8',
        signal: controller.signal,
      })
      return res as Answer<B>
    } catch (err) {
      throw Object.assign(new Error('attempt failed'), { original: err, timedOut: controller.signal.aborted })
    } finally {
      clearTimeout(deadline)
    }
  }

  /** Sends with retries and the 401 refresh; returns an answer that is a success or an accepted status. */
  async function exchange<B extends Body>(ex: Exchange<B>): Promise<Answer<B>> {
    const { spec } = ex
    const { href, attempted } = urlOf(spec)
    const once = ex.stream !== undefined
    const idempotent = !once && isIdempotent(spec.method, spec.idempotent)
    const source = spec.authenticate === false ? undefined : credentials
    const requestId = randomUUID()
    let refreshed = false
    for (let tries = 1; ; tries++) {
      const headers: RawAxiosRequestHeaders = { Accept: 'application/json, application/problem+json', 'X-Request-Id': requestId }
      if (options.userAgent) headers['User-Agent'] = options.userAgent
      if (ex.stream) headers['Content-Type'] = ex.stream.contentType
      else if (spec.body !== undefined) headers['Content-Type'] = 'application/json'
      if (source) headers.Authorization = await source.authorization()
      const canRetry = !once && tries <= retries

      let res: Answer<B>
      try {
        res = await attempt(ex, href, headers)
      } catch (err) {
        const { original, timedOut } = err as { original: unknown; timedOut: boolean }
        const failure = networkFailure(original, timedOut, timeoutMs)
        if (canRetry && idempotent && failure.retryable) {
          await sleep(backoffMs(tries - 1, RETRY_BACKOFF, Math.random))
          continue
        }
        throw unreachableError(failure, attempted, tries)
      }

      const status = res.status
      if ((status >= 200 && status < 300) || spec.accept?.includes(status)) return res
      if (status === 401 && source?.rejected && !refreshed && !once) {
        refreshed = true
        if (await source.rejected()) {
          tries-- // the retry with a fresh token is not one of the `retries`
          await drain(res)
          continue
        }
      }
      const headersOut = plainHeaders(res)
      const retryAfter = parseRetryAfter(headersOut['retry-after'])
      if (canRetry && (status === 429 || status === 503) && retryAfter !== undefined && retryAfter <= MAX_RETRY_AFTER_MS) {
        await drain(res)
        await sleep(retryAfter)
        continue
      }
      if (canRetry && idempotent && isTransientStatus(status) && retryAfter === undefined) {
        await drain(res)
        await sleep(backoffMs(tries - 1, RETRY_BACKOFF, Math.random))
        continue
      }
      const text = await bodyText(res)
      if (status >= 300 && status < 400) {
        const where = headersOut.location ? ` to ${displayUrl(headersOut.location)}` : ''
        throw new GantryError('SERVER_ERROR', `${attempted.method} ${attempted.url} was redirected${where} (${status}); the API does not redirect.`, {
          hint: 'Use the final URL (https:// instead of http://, say) as the server URL.',
          details: { status },
        })
      }
      throw responseError(status, res.statusText, text, headersOut, attempted)
    }
  }

  const parsed = <S extends z.ZodType | undefined>(spec: RequestSpec<S>, res: Answer<'text'>): unknown => {
    const { attempted } = urlOf(spec)
    const what = `The answer to ${attempted.method} ${attempted.url}`
    if (!spec.schema) return undefined
    const text = res.data
    let body: unknown
    if (res.status === 204 || text === '') body = undefined
    else {
      try {
        body = JSON.parse(text)
      } catch {
        throw new GantryError('SERVER_ERROR', `${what} is not JSON (${oneLine(String(res.headers['content-type'] ?? 'no content type'), 80)}).`, {
          hint: 'Check that the URL points at a Gantry server, not a proxy or another service.',
          details: { status: res.status },
        })
      }
    }
    return parseLeniently(spec.schema, body, what)
  }

  return {
    baseUrl,

    async request(spec) {
      const res = await exchange({ spec, body: 'text' })
      return parsed(spec, res) as never
    },

    async requestWithStatus(spec) {
      const res = await exchange({ spec, body: 'text' })
      return { status: res.status, body: parsed(spec, res) as never, headers: plainHeaders(res) }
    },

    async upload(spec) {
      const res = await exchange({ spec, body: 'text', stream: { data: spec.stream, contentType: spec.contentType } })
      return parsed(spec, res) as never
    },

    download(spec) {
      return {
        async *[Symbol.asyncIterator]() {
          const res = await exchange({ spec, body: 'stream' })
          const { attempted } = urlOf(spec)
          const stream = res.data
          stream.setEncoding('utf8')
          try {
            for await (const chunk of stream) yield chunk as string
          } catch (err) {
            const failure = networkFailure(err, false, timeoutMs)
            throw new GantryError('SERVER_UNREACHABLE', `The download from ${attempted.url} broke off: ${failure.reason}.`, {
              hint: 'Run it again; the server log (search for the request id) has the cause if it failed there.',
              cause: new Error(`${failure.code}: ${failure.reason}`),
              details: { url: attempted.url, requestId: plainHeaders(res)['x-request-id'] },
            })
          }
          // A server that fails half-way cuts the connection; an end without the whole message is caught here.
          const incoming = (res.request as { res?: IncomingMessage } | undefined)?.res
          if (incoming && !incoming.complete) throw new GantryError('SERVER_UNREACHABLE', `The download from ${attempted.url} broke off before its end.`)
        },
      }
    },
  }
}

/** An https agent only when the options change TLS: a CA file beside the system's, or no verification. */
async function tlsAgent(options: ClientOptions): Promise<HttpsAgent | undefined> {
  if (!options.caFile && !options.insecure) return undefined
  const ca: string[] = []
  if (options.caFile) {
    const extra = process.env.NODE_EXTRA_CA_CERTS
    ca.push(...rootCertificates)
    if (extra) ca.push(await readFile(extra, 'utf8').catch(() => ''))
    ca.push(await readPem(options.caFile))
  }
  const { Agent } = await import('node:https')
  return new Agent({ keepAlive: true, rejectUnauthorized: !options.insecure, ...(ca.length > 0 ? { ca } : {}) })
}

async function readPem(path: string): Promise<string> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (err) {
    throw new GantryError('INVALID_INPUT', `Cannot read the CA file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}.`, { cause: err })
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new GantryError('INVALID_INPUT', `The CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`)
  }
  return pem
}

/** Response headers as lower-case names and string values. */
function plainHeaders(res: AxiosResponse): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(res.headers as Record<string, unknown>)) {
    if (value === undefined || value === null) continue
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return out
}

async function bodyText(res: AxiosResponse<string | Readable>): Promise<string> {
  if (typeof res.data === 'string') return res.data
  const stream = res.data
  let text = ''
  stream.setEncoding('utf8')
  try {
    for await (const chunk of stream) {
      text += chunk as string
      if (text.length > MAX_ERROR_BODY) break
    }
  } catch {
    // A cut error body still leaves its status to report.
  }
  stream.destroy()
  return text.slice(0, MAX_ERROR_BODY)
}

/** Lets go of an answer that is not used, so a streamed one does not hold its socket. */
async function drain(res: AxiosResponse<string | Readable>): Promise<void> {
  if (typeof res.data !== 'string') res.data.destroy()
}
