/**
 * What the HTTP edge must answer, whatever came in (DESIGN.md "HTTP API"): no 5xx but readiness and
 * maintenance, every error a complete problem+json, and no body showing a stack frame, SQL, a driver or
 * library name, a file path — and no body or header showing any of the run's secrets.
 */
import type { Answer, Probe } from './http-probes.js'

/** What must never appear in an error answer: stack frames, SQL, driver and library names, file paths. */
const LEAKS: readonly RegExp[] = [/\n\s+at /, /\bSELECT /, /\bINSERT /, /sqlite/i, /SQLITE_/, /\bER_[A-Z]/, /\bknex\b/i, /node_modules/]
/** Bodies of 2xx answers carry generated tokens and keys (base62/base64url): only multi-character shapes that cannot occur in them are checked there. */
const LEAKS_IN_SUCCESS: readonly RegExp[] = [/\n\s+at /, /\bSELECT /, /\bINSERT /, /SQLITE_/, /node_modules/]

/** How an answer is wrong: a 5xx (or none at all), an error that is not a complete problem, or a body that shows what it must not. */
export type FailureKind = 'status' | 'shape' | 'leak'

export interface Failure {
  readonly kind: FailureKind
  readonly text: string
}

/** A secret of the run that no answer may contain. */
export interface NamedSecret {
  readonly what: string
  readonly value: string
}

export interface JudgeOptions {
  /** Values no answer may contain. */
  readonly secrets?: readonly NamedSecret[]
  /**
   * Whether Node's own bare refusals (a 400 or 431 without a body or the request id the app puts on every
   * answer) pass: for an app listening without gantry's listener, which answers them as problem+json.
   */
  readonly bareRefusals?: boolean
}

/** Everything wrong with `answer` to `probe` (empty when nothing is). */
export function judge(probe: Probe, answer: Answer, options: JudgeOptions = {}): Failure[] {
  const where = `${probe.method} ${probe.path.slice(0, 120)}${probe.body === undefined ? '' : ` ${String(probe.body).slice(0, 120)}`}`
  const failures: Failure[] = []
  const status = judgeStatus(probe, answer, where, options.bareRefusals ?? false)
  if (status) failures.push(status)
  // At most one leak per answer: the figure counts answers that show what they must not.
  const pattern = (answer.status >= 400 ? LEAKS : LEAKS_IN_SUCCESS).find((p) => p.test(answer.body))
  const headers = Object.values(answer.headers).join('\n')
  const secret = (options.secrets ?? []).find((s) => s.value !== '' && (answer.body.includes(s.value) || headers.includes(s.value)))
  const shown = [...(pattern ? [String(pattern)] : []), ...(secret ? [secret.what] : [])]
  if (shown.length > 0) failures.push({ kind: 'leak', text: `${where} -> ${answer.status} shows ${shown.join(' and ')}: ${answer.body.slice(0, 300)}` })
  return failures
}

function judgeStatus(probe: Probe, answer: Answer, where: string, bareRefusals: boolean): Failure | undefined {
  if (!Number.isInteger(answer.status) || answer.status < 100) return { kind: 'status', text: `${where} -> no answer: ${answer.body.slice(0, 200)}` }
  const readiness = probe.path.startsWith('/api/health/ready')
  // Node's HTTP parser refuses some requests before the app sees them (raw UTF-8 in the target, a head
  // over 16 kB): without gantry's listener, a bare 400 or 431 without the request id the app puts on every answer.
  if (bareRefusals && (answer.status === 400 || answer.status === 431) && answer.headers['x-request-id'] === undefined && answer.body === '') return undefined
  const contentType = String(answer.headers['content-type'] ?? '')
  if (answer.status >= 500) {
    let code: unknown
    try {
      code = (JSON.parse(answer.body) as { code?: unknown }).code
    } catch {
      code = undefined
    }
    if (!(answer.status === 503 && (readiness || code === 'MAINTENANCE')))
      return { kind: 'status', text: `${where} -> ${answer.status} ${answer.body.slice(0, 200)}` }
  }
  // The OAuth protocol routes refuse as RFC 6749 §5.2 says (their clients read nothing else); a 429 stays a problem.
  if (probe.path.startsWith('/oauth/') && (answer.status === 400 || answer.status === 401)) return judgeOAuthError(answer, where)
  if (answer.status >= 400 && !(readiness && answer.status === 503)) {
    if (!contentType.startsWith('application/problem+json'))
      return { kind: 'shape', text: `${where} -> ${answer.status} with Content-Type ${contentType || '(none)'}` }
    if (probe.method !== 'HEAD') {
      let problem: Record<string, unknown>
      try {
        problem = JSON.parse(answer.body) as Record<string, unknown>
      } catch {
        return { kind: 'shape', text: `${where} -> ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}` }
      }
      const members = [problem.type, problem.title, problem.detail, problem.instance, problem.code]
      if (members.some((m) => typeof m !== 'string') || problem.status !== answer.status) {
        return { kind: 'shape', text: `${where} -> ${answer.status} with an incomplete problem: ${answer.body.slice(0, 200)}` }
      }
    }
  }
  return undefined
}

const OAUTH_ERRORS = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'])

/** An RFC 6749 §5.2 error: JSON with a known `error` and an `error_description`; invalid_client on 401 only. */
function judgeOAuthError(answer: Answer, where: string): Failure | undefined {
  const contentType = String(answer.headers['content-type'] ?? '')
  let body: { error?: unknown; error_description?: unknown } = {}
  try {
    body = JSON.parse(answer.body) as typeof body
  } catch {
    return { kind: 'shape', text: `${where} -> ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}` }
  }
  const known = typeof body.error === 'string' && OAUTH_ERRORS.has(body.error)
  if (
    !contentType.startsWith('application/json') ||
    !known ||
    typeof body.error_description !== 'string' ||
    (answer.status === 401) !== (body.error === 'invalid_client')
  )
    return { kind: 'shape', text: `${where} -> ${answer.status} is not an RFC 6749 error: ${answer.body.slice(0, 200)}` }
  return undefined
}
