/**
 * A route is data first: method, path, the permission it needs and the zod schemas of what it takes and
 * returns. The same table mounts the Express handlers (mount.ts) and describes the API (openapi.ts), so
 * what is validated and what is documented cannot drift apart.
 */
import type { Request, Response } from 'express'
import type { z } from 'zod'
import type { AuthorizationProperty } from '../../admin/operation.js'
import type { ActorContext } from '../../core/context.js'

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete'

/** What a handler receives: validated input, the caller (on authenticated routes), and the raw pair for streaming. */
export interface RouteInput<B, Q, P> {
  readonly body: B
  readonly query: Q
  readonly params: P
  /** The caller; on public routes an anonymous context with no permissions. */
  readonly ctx: ActorContext
  readonly req: Request
  readonly res: Response
}

export interface RouteSpec {
  readonly method: HttpMethod
  /** Express path, e.g. `/api/v1/admin/users/:email`. */
  readonly path: string
  readonly summary: string
  readonly tag: string
  /** `public` routes need no credentials; `required` ones take a bearer token or an API key. */
  readonly auth: 'public' | 'required'
  /** The one permission the route checks (the service checks it again: a rule, not a route, owns it). */
  readonly permission?: string | undefined
  /** A JSON body; unknown fields are refused. Routes that stream their body leave it out and set `stream`. */
  readonly body?: z.ZodType | undefined
  readonly query?: z.ZodType | undefined
  /**
   * Who parses the body and query with their schemas: the edge (the default: the handler gets the parsed
   * values), or the service the handler calls, which parses them with these very schemas (every admin
   * operation's does). Then the edge only refuses unknown top-level fields, the one check the service's
   * schema does not make, and hands the input on as sent: one parse per request, not two.
   */
  readonly validatedBy?: 'edge' | 'service' | undefined
  readonly params?: z.ZodType | undefined
  /** The success body, for the OpenAPI document. */
  readonly response?: z.ZodType | undefined
  /** Media type of the success body (default application/json). */
  readonly responseType?: string | undefined
  /** Success status (default 200). */
  readonly status?: number | undefined
  /** Media types of a streamed request body (the handler reads `req` itself). */
  readonly stream?: readonly string[] | undefined
  /** The admin operation the route serves (src/admin/operations), named in the OpenAPI document. */
  readonly operation?: {
    readonly name: string
    readonly audit?: string | undefined
    readonly destructive: boolean
    readonly authorization?: AuthorizationProperty | undefined
  }
  /** Returns the body to send as JSON, or undefined when the handler has answered itself. */
  readonly handler: (input: RouteInput<unknown, unknown, unknown>) => Promise<unknown>
}

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined

/** Declares a route with its handler typed from its schemas. */
export function route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
  spec: Omit<RouteSpec, 'body' | 'query' | 'params' | 'handler'> & {
    readonly body?: B
    readonly query?: Q
    readonly params?: P
    readonly handler: (input: RouteInput<Infer<B>, Infer<Q>, Infer<P>>) => Promise<unknown>
  },
): RouteSpec {
  return spec as RouteSpec
}
