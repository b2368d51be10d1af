/**
 * What a failed exchange becomes: a problem+json answer with a code this CLI knows is that same
 * GantryError (so a remote command fails like a local one); an unknown code is mapped by status; a
 * network failure is SERVER_UNREACHABLE naming the URL and the reason. One line each, never a stack, a
 * header or a credential: the causes kept are rebuilt from codes and messages, not the axios errors
 * (whose config holds the Authorization header).
 */
import { errorCodes, GantryError, type ErrorCode } from '../core/errors.js'
import { oneLine } from './lenient-parse.js'

const KNOWN = new Set<string>(errorCodes)

/** What the caller asked, for messages: `GET http://host:3000/api/health`. */
export interface Attempted {
  readonly method: string
  /** The request URL without query and user info. */
  readonly url: string
}

/** Maps an error answer (status ≥ 400 the caller does not accept) to a GantryError. */
export function responseError(status: number, statusText: string, body: string, headers: Readonly<Record<string, string>>, attempted: Attempted): GantryError {
  const problem = parseProblem(body)
  const requestId = stringField(problem, 'requestId') ?? headers['x-request-id']
  // The facts a local run's error carries too (zod issues, the permission required), named as it names
  // them: a remote command's --json error is the local one's.
  const details: Record<string, unknown> = {}
  const errors = problem?.errors
  if (Array.isArray(errors)) details.issues = errors
  const required = stringField(problem, 'required')
  if (required) details.required = required
  // An input problem: the remote CLI words its hint for it with flags, as a local run does.
  const input = problem?.input
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    for (const [name, value] of Object.entries(input)) if (name !== '__proto__') details[name] = value
  }
  // Only a server says when to come back (429, 503): kept, as a local run has nothing to differ from.
  if (headers['retry-after']) details.retryAfter = headers['retry-after']
  const code = stringField(problem, 'code')
  const detail = stringField(problem, 'detail')
  const hint = stringField(problem, 'hint')
  if (code && KNOWN.has(code) && code !== 'INTERNAL') {
    return new GantryError(code as ErrorCode, oneLine(detail ?? `The server answered ${status} ${code}.`), {
      hint,
      details: Object.keys(details).length > 0 ? details : undefined,
    })
  }
  // A server-side failure is the server's, not this CLI's (exit 3): the request id finds its cause in the server's log.
  const transport = { ...details, status, requestId, serverCode: code }
  if (code === 'INTERNAL') return new GantryError('SERVER_ERROR', oneLine(detail ?? `The server answered ${status} INTERNAL.`), { hint, details: transport })
  const fallback = byStatus(status)
  const said = detail ? `: ${detail}` : ''
  const named = code ? ` (${code})` : ''
  const message = `${attempted.method} ${attempted.url} was answered ${status}${statusText ? ` ${statusText}` : ''}${named}${said}`
  return new GantryError(fallback, oneLine(message.endsWith('.') ? message : `${message}.`), { hint, details: transport })
}

/** The catalog code for an answer whose code this CLI does not know. */
function byStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return 'INVALID_INPUT'
    case 401:
      return 'UNAUTHENTICATED'
    case 403:
      return 'FORBIDDEN'
    case 404:
      return 'ROUTE_NOT_FOUND'
    case 405:
      return 'METHOD_NOT_ALLOWED'
    case 413:
      return 'PAYLOAD_TOO_LARGE'
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE'
    case 429:
      return 'RATE_LIMITED'
    default:
      return status >= 500 || status < 400 ? 'SERVER_ERROR' : 'INVALID_INPUT'
  }
}

function parseProblem(body: string): Record<string, unknown> | undefined {
  if (!body) return undefined
  try {
    const parsed: unknown = JSON.parse(body)
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function stringField(obj: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = obj?.[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Why a request got no answer, and whether trying again may help. */
export interface NetworkFailure {
  readonly reason: string
  readonly code: string
  readonly retryable: boolean
  readonly tls: boolean
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ERR_SOCKET_CONNECTION_TIMEOUT: 'connection timed out',
}

const TLS_CODE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/

/** Classifies an error thrown by a request that got no answer (`timedOut`: our per-attempt deadline fired). */
export function networkFailure(err: unknown, timedOut: boolean, timeoutMs: number): NetworkFailure {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined
  const codes = [e?.cause?.code, e?.code].filter((c): c is string => typeof c === 'string')
  const code = codes.find((c) => REASONS[c] || TLS_CODE.test(c)) ?? codes[0] ?? 'UNKNOWN'
  const message = typeof e?.cause?.message === 'string' ? e.cause.message : typeof e?.message === 'string' ? e.message : String(err)
  if (timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return { reason: `no answer within ${seconds(timeoutMs)}`, code: 'ETIMEDOUT', retryable: true, tls: false }
  }
  if (TLS_CODE.test(code)) return { reason: `TLS: ${oneLine(message, 160)}`, code, retryable: false, tls: true }
  const known = REASONS[code]
  if (known) return { reason: known, code, retryable: true, tls: false }
  if (/socket hang up/i.test(message)) return { reason: 'connection closed before an answer', code: 'ECONNRESET', retryable: true, tls: false }
  return { reason: oneLine(message, 160), code, retryable: code !== 'ERR_BAD_OPTION_VALUE' && code !== 'ERR_INVALID_URL', tls: false }
}

/** SERVER_UNREACHABLE for a request that got no answer, after `attempts` tries. */
export function unreachableError(failure: NetworkFailure, attempted: Attempted, attempts: number): GantryError {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : ''
  const hint = failure.tls
    ? "The server's certificate is not trusted here: pass --ca-file with the CA certificate (PEM) that signed it, or skip verification with --insecure (never in production)."
    : undefined
  return new GantryError('SERVER_UNREACHABLE', `Cannot reach ${attempted.url} (${attempted.method}): ${failure.reason}${tries}.`, {
    hint,
    cause: new Error(`${failure.code}: ${failure.reason}`),
    details: { url: attempted.url, reason: failure.reason, code: failure.code, attempts },
  })
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}
