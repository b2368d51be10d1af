/**
 * The last stop of every request that failed: each error becomes RFC 9457 problem+json with its catalog
 * code. Errors the body parser raises for bad input map to their 4xx; anything unexpected is a 500 that
 * carries the request id and nothing else, while the log gets the cause.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express'
import type { Logger } from 'pino'
import { GantryError, isGantryError } from '../../core/errors.js'
import { describeQueryFailure } from '../../db/errors.js'
import { sendProblem, toProblem } from '../problem.js'

/** body-parser's error types that are the client's fault, and what they become. */
const BODY_ERRORS: Readonly<Record<string, (limit: unknown) => GantryError>> = {
  'entity.too.large': (limit) => new GantryError('PAYLOAD_TOO_LARGE', `The body is larger than the ${String(limit)}-byte limit.`),
  'entity.parse.failed': () =>
    new GantryError('INVALID_INPUT', 'The body is not valid JSON.', { hint: 'Send a JSON object with Content-Type: application/json.' }),
  'encoding.unsupported': () => new GantryError('UNSUPPORTED_MEDIA_TYPE', 'The body uses a content encoding the server does not accept.'),
  'charset.unsupported': () => new GantryError('UNSUPPORTED_MEDIA_TYPE', 'The body uses a charset the server does not accept; send UTF-8.'),
  'request.aborted': () => new GantryError('INVALID_INPUT', 'The request body ended early.'),
  'request.size.invalid': () => new GantryError('INVALID_INPUT', 'The body is shorter or longer than its Content-Length.'),
  'stream.encoding.set': () => new GantryError('INVALID_INPUT', 'The body could not be read.'),
}

/** 404 problem for a path no route serves. */
export function notFound(): RequestHandler {
  return (req, _res, next) => {
    next(new GantryError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.path}.`, { hint: 'GET /api/openapi.json lists the routes.' }))
  }
}

/**
 * The error handler: problem+json out, the cause into the log (5xx only: a 4xx is the caller's business).
 * `environmentName` goes into the next step of GANTRY_SCHEMA_MISSING (`gantry migrate latest -e NAME`).
 */
export function errorHandler(logger: Logger, environmentName: string): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const failure = classify(err, environmentName)
    const requestId = res.locals.requestId as string | undefined
    if (failure.status >= 500 && failure.code !== 'MAINTENANCE' && failure.code !== 'NOT_READY') {
      logger.error({ err: err instanceof Error ? err : new Error(String(err)), requestId, method: req.method, path: req.path }, 'request failed')
    }
    if (res.headersSent) {
      // A streamed answer failed half-way: the only honest signal left is to cut the connection.
      res.destroy()
      return
    }
    if (failure.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="gantry"')
    const retryAfter = failure.details?.retryAfterSeconds
    if (typeof retryAfter === 'number' && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', String(retryAfter))
    // Never the query: it may carry a cursor or worse.
    sendProblem(res, toProblem(failure, requestId, req.originalUrl.split('?')[0] ?? req.path))
  }
}

function classify(err: unknown, environmentName: string): GantryError {
  if (isGantryError(err)) return err
  // A database whose Gantry migrations have not run, or a lock held too long: said as the local CLI says it.
  const queryFailure = describeQueryFailure(err, environmentName)
  if (queryFailure) return queryFailure
  const parserError = err as { type?: unknown; limit?: unknown; status?: unknown; code?: unknown } | undefined
  if (typeof parserError?.type === 'string' && parserError.type in BODY_ERRORS) return BODY_ERRORS[parserError.type]!(parserError.limit)
  // The router could not percent-decode a path parameter (`/users/%ff`): it marks the URIError 400.
  if (err instanceof URIError && parserError?.status === 400) return new GantryError('INVALID_INPUT', 'The path is not valid percent-encoded UTF-8.')
  // body-parser passes the inflater's own error on (marked 400, without a type) when a gzip, deflate or
  // br body does not decode.
  if (parserError?.status === 400 && typeof parserError.code === 'string' && /^(Z_|ERR_)/.test(parserError.code)) {
    return new GantryError('INVALID_INPUT', 'The body does not decode with its Content-Encoding.', {
      hint: 'Send the body as it is, or compressed exactly as Content-Encoding says.',
    })
  }
  return new GantryError('INTERNAL', 'Something went wrong on the server.', { cause: err })
}
