import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** A caller's id is kept only when it is short and plain: it ends up in logs and response headers. */
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's X-Request-Id when it is acceptable, else a fresh UUID. */
export function requestIdFor(given: string | undefined): string {
  return given && ACCEPTED_ID.test(given) ? given : randomUUID()
}

/** The id of a request: its X-Request-Id when acceptable (Node joins repeated ones with a comma, which is not), else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return requestIdFor(typeof given === 'string' ? given : undefined)
}
