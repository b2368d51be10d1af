import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'express'

/** A caller's id is kept only when it is short and plain: it ends up in logs and response headers. */
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Takes X-Request-Id from the caller (or makes one), echoes it, and keeps it in res.locals.requestId. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id')
    const id = given && ACCEPTED_ID.test(given) ? given : randomUUID()
    res.locals.requestId = id
    res.setHeader('X-Request-Id', id)
    next()
  }
}
