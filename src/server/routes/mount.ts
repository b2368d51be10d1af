/**
 * Mounts a route table on a router: authenticate, check the one permission, parse and validate the input
 * with the route's schemas (unknown fields refused) — or leave body and query to the service that parses
 * them (`validatedBy: 'service'`) — run the handler, send its result. A path served for other methods
 * answers 405 with Allow.
 */
import type { IRouter, Request, RequestHandler, Response } from 'express'
import { z } from 'zod'
import { anonymousContext, type ActorContext } from '../../core/context.js'
import { GantryError } from '../../core/errors.js'
import { parseInput } from '../../core/pagination.js'
import { requirePermission } from '../../core/roles/permissions.js'
import type { Authenticator } from '../../core/sessions/authenticate.js'
import { authenticateRequest } from '../middleware/authenticate.js'
import { checkInput, hasBody, jsonBody } from '../middleware/json-body.js'
import type { RateLimitEdge } from '../middleware/rate-limit.js'
import type { RouteInput, RouteSpec } from './route.js'

export interface MountDeps {
  readonly authenticator: Authenticator
  /** express.json's limit ('100kb'). */
  readonly bodyLimit: string
  /** The rules keyed on user and apiKey, checked once the caller is known. */
  readonly limits: Pick<RateLimitEdge, 'caller'>
}

/** Registers every route of a table on the router. */
export function mountRoutes(router: IRouter, routes: readonly RouteSpec[], deps: MountDeps): void {
  for (const spec of routes) router[spec.method](spec.path, ...handlersOf(spec, deps))
  const methods = new Map<string, string[]>()
  for (const spec of routes) methods.set(spec.path, [...(methods.get(spec.path) ?? []), spec.method.toUpperCase()])
  for (const [path, allowed] of methods) {
    router.route(path).all((req, res, next) => {
      // The path is served: its 405s count under its template, not as 'unmatched'.
      res.locals.route = path
      res.setHeader('Allow', allowed.join(', '))
      next(new GantryError('METHOD_NOT_ALLOWED', `${req.method} is not served on ${req.path}; use ${allowed.join(' or ')}.`))
    })
  }
}

function handlersOf(spec: RouteSpec, deps: MountDeps): RequestHandler[] {
  const read = inputReader(spec)
  // Express 5 forwards a rejection to the error handler but ignores a resolved value: call next ourselves.
  const identify: RequestHandler =
    spec.auth === 'public' && !spec.permission && !spec.stream
      ? // A public route has nobody to look up: no promise, no extra tick (health answers probes at volume).
        (req, res, next) => {
          res.locals.route = spec.path
          res.locals.ctx = anonymousContext(req.ip)
          next()
        }
      : (req, res, next) => {
          identifyCaller(spec, deps, req, res).then(() => next(), next)
        }
  const run: RequestHandler = async (req, res) => {
    // Read once: Express 5 parses the query string again on every read of req.query.
    const query = spec.query ? { ...req.query } : undefined
    if (query) checkInput(query, 'query')
    if (spec.params) checkInput(req.params, 'path')
    // No body at all reads as {}: a route whose fields all have defaults needs none.
    const input = read({ body: req.body ?? {}, query, params: req.params })
    const result = await spec.handler({ ...input, ctx: res.locals.ctx as ActorContext, req, res })
    if (res.headersSent) return
    if (result === undefined) res.status(spec.status ?? 204).end()
    else res.status(spec.status ?? 200).json(result)
  }
  return [identify, ...(spec.body ? jsonBody(deps.bodyLimit) : []), run]
}

/** What a request sends a route, as it arrived. */
interface Sent {
  readonly body: unknown
  readonly query: Record<string, unknown> | undefined
  readonly params: Record<string, unknown>
}

type RouteValues = Pick<RouteInput<unknown, unknown, unknown>, 'body' | 'query' | 'params'>

/**
 * How a route's input is read: parsed with its schemas, unknown fields refused — or, when the service parses
 * body and query (`validatedBy: 'service'`), handed on as sent once it has no unknown top-level field and its
 * path parameters are valid. Input that check cannot vouch for is parsed here as always, so a refusal is the
 * very one the edge has always given (the same error, the same field first).
 */
function inputReader(spec: RouteSpec): (sent: Sent) => RouteValues {
  const body = spec.body && strict(spec.body)
  const query = spec.query && strict(spec.query)
  const params = spec.params
  const parsed = (sent: Sent): RouteValues => ({
    body: body ? parseInput(body, sent.body) : undefined,
    query: query ? parseInput(query, sent.query) : undefined,
    params: params ? parseInput(params, sent.params) : undefined,
  })
  if (spec.validatedBy !== 'service') return parsed
  const bodyFields = spec.body && fieldsOf(spec.body)
  const queryFields = spec.query && fieldsOf(spec.query)
  return (sent) => {
    if (bodyFields && !onlyFields(sent.body, bodyFields)) return parsed(sent)
    if (queryFields && !onlyFields(sent.query, queryFields)) return parsed(sent)
    const target = params?.safeParse(sent.params)
    if (target && !target.success) return parsed(sent)
    return { body: spec.body ? sent.body : undefined, query: sent.query, params: target?.data }
  }
}

/** The top-level fields an object schema declares; undefined for any other schema (no field is unknown to it). */
function fieldsOf(schema: z.ZodType): ReadonlySet<string> | undefined {
  return schema instanceof z.ZodObject ? new Set(Object.keys(schema.shape)) : undefined
}

/** Whether `value` is a plain object with no field outside `fields`. */
function onlyFields(value: unknown, fields: ReadonlySet<string>): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  for (const key of Object.keys(value)) if (!fields.has(key)) return false
  return true
}

/** Who calls, whether they may, and whether a streamed body has a type the route reads. */
async function identifyCaller(spec: RouteSpec, deps: MountDeps, req: Request, res: Response): Promise<void> {
  res.locals.route = spec.path
  const ctx = spec.auth === 'required' ? await authenticateRequest(req, deps.authenticator) : anonymousContext(req.ip)
  // Before the permission check: a caller spraying forbidden requests spends its budget too.
  await deps.limits.caller(req, res, ctx)
  if (spec.permission) requirePermission(ctx, spec.permission)
  res.locals.ctx = ctx
  if (spec.stream && hasBody(req.headers) && !spec.stream.some((type) => req.is(type))) {
    throw new GantryError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${req.get('content-type') ?? '(none)'} is not accepted here; send ${spec.stream.join(' or ')}.`,
    )
  }
}

/** Object schemas refuse unknown fields at the HTTP edge: a typo in a field name is an error, not a no-op. */
export function strict(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodObject ? schema.strict() : schema
}
