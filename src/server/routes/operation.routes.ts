/**
 * The admin API's JSON routes, derived from the operation table (src/admin/operations): one route per
 * declared operation, with the declared permission, schemas and status, calling the operation's `run` with
 * the validated target and input — the very call LocalAdmin makes.
 */
import { inputInBody, type JsonOperation, type Operation } from '../../admin/operation.js'
import type { Services } from '../../core/services.js'
import { route, type RouteSpec } from './route.js'

/** The route of one JSON operation. Its input is validated once, by the service `run` calls (as LocalAdmin's call is). */
export function operationRoute(name: string, op: JsonOperation, services: Services): RouteSpec {
  const body = inputInBody(op)
  return route({
    ...routeBasics(name, op),
    params: op.params,
    body: body ? op.input : undefined,
    query: body ? undefined : op.input,
    validatedBy: 'service',
    response: op.output,
    handler: ({ ctx, params, body: sent, query }) => op.run(services, ctx, params as never, (body ? sent : query) as never),
  })
}

/** What every operation's route states the same way, streamed ones included. */
export function routeBasics(
  name: string,
  op: Operation,
): Pick<RouteSpec, 'method' | 'path' | 'summary' | 'tag' | 'auth' | 'permission' | 'status' | 'operation'> {
  return {
    method: op.http.method,
    path: op.http.path,
    summary: op.summary,
    tag: op.tag,
    auth: 'required',
    permission: op.permission,
    status: op.http.status,
    operation: { name, audit: op.audit, destructive: op.destructive !== undefined, authorization: op.authorization },
  }
}
