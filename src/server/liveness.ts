/**
 * Liveness (`GET /api/health`): the process answers, with its version and uptime. Probes call it at volume,
 * so listen.ts answers it from the raw node:http request listener, before Express sees the request: bare
 * node:http serves this answer at several times Express's rate. It keeps what the Express route gives every
 * answer — the request id (echoed or made), the count and time under the route's template in the metrics —
 * and, because listen.ts counts the request in before asking here, the drain's `Connection: close`. The
 * Express route (health.routes.ts) answers every other spelling (`HEAD`, a query string, a trailing slash)
 * with the same body, so the answer does not depend on which of the two served it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Health } from '../core/health/health.schema.js'
import type { Metrics } from './metrics.js'
import { requestIdOf } from './middleware/request-id.js'

export const LIVENESS_PATH = '/api/health'
export const HEALTH_TYPE = 'application/health+json'
/** What Express's send() makes of HEALTH_TYPE for a string body: the Content-Type of both answers. */
const LIVENESS_CONTENT_TYPE = `${HEALTH_TYPE}; charset=utf-8`

export interface LivenessDeps {
  readonly version: string
  readonly startedAt: number
  readonly now: () => number
  readonly metrics: Metrics
}

export interface Liveness {
  /** The liveness body as JSON text (made again only when the uptime's second changes). */
  body(): string
  /**
   * Answers `GET /api/health` (exactly that request target) on a raw request and returns true; anything
   * else is left untouched for the app, and false returned.
   */
  answerEarly(req: IncomingMessage, res: ServerResponse): boolean
}

/** The liveness answer of one server. */
export function createLiveness(deps: LivenessDeps): Liveness {
  let second = -1
  let text = ''
  let length = 0
  const body = (): string => {
    const uptimeSeconds = Math.floor((deps.now() - deps.startedAt) / 1000)
    if (uptimeSeconds !== second) {
      const health: Health = { status: 'pass', version: deps.version, uptimeSeconds }
      text = JSON.stringify(health)
      length = Buffer.byteLength(text)
      second = uptimeSeconds
    }
    return text
  }
  return {
    body,
    answerEarly(req, res) {
      if (req.url !== LIVENESS_PATH || req.method !== 'GET') return false
      const started = performance.now()
      const sent = body()
      res.writeHead(200, { 'X-Request-Id': requestIdOf(req), 'Content-Type': LIVENESS_CONTENT_TYPE, 'Content-Length': length })
      res.end(sent)
      deps.metrics.observeRequest(LIVENESS_PATH, 'GET', 200, (performance.now() - started) / 1000)
      return true
    },
  }
}
