import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'express'

/** A caller's id is kept only when it is short and plain: it ends up in logs and response headers. */
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's X-Request-Id when it is acceptable, else a fresh UUID. */
export function requestIdFor(given: string | undefined): string {
  return given && ACCEPTED_ID.test(given) ? given : randomUUID()
}

/** Takes X-Request-Id from the caller (or makes one), echoes it, and keeps it in res.locals.requestId. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const id = requestIdFor(req.get('x-request-id'))
    res.locals.requestId = id
    res.setHeader('X-Request-Id', id)
    next()
  }
}
