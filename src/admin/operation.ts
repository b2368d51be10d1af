/**
 * An admin operation, declared once: what it is called, what it takes and returns, the permission it needs,
 * whom it acts on and what it hands out, where it lives on the HTTP API, what it writes to the audit log and
 * whether a protected environment asks before it. Everything else is derived from the declaration: the
 * Express route and its OpenAPI entry (src/server/routes/operation.routes.ts), HttpAdmin, LocalAdmin, the
 * CLI's confirmation of destructive calls and the escalation matrix's list of what must be tried.
 */
import type { z } from 'zod'
import type { AuditAction } from '../core/audit/audit.schema.js'
import type { ActorContext } from '../core/context.js'
import type { ErrorCode } from '../core/errors.js'
import type { Services } from '../core/services.js'

export type OperationMethod = 'get' | 'post' | 'put' | 'patch' | 'delete'

/**
 * The authorization property a call must keep (DESIGN's rule: an actor hands out and acts on only what it
 * holds). The service enforces it; the declaration says which half applies, so the escalation matrix knows
 * an operation needs cells that try it.
 */
export interface AuthorizationProperty {
  /** What the call puts in someone's hands: a role given to a user, permissions given to a role, scopes given to a key. */
  readonly handsOut?: 'role' | 'permissions' | 'scopes'
  /** The principal the call acts on, whose permissions the actor's must cover. */
  readonly actsOn?: 'user' | 'apikey' | 'oauthClient' | 'role'
}

interface Declaration<P extends z.ZodObject | undefined, I extends z.ZodType | undefined, O extends z.ZodType> {
  readonly summary: string
  /** The OpenAPI tag, which is also the CLI topic's area. */
  readonly tag: string
  readonly permission: string
  /**
   * Where it is served: the path's `:name` segments are the target (`params`); `input` travels as a JSON
   * body on POST, PUT and PATCH and as the query string on GET and DELETE.
   */
  readonly http: { readonly method: OperationMethod; readonly path: string; readonly status?: number }
  /** What the call is done to (a user's email, a key's id, a role's or a rule's name). */
  readonly params?: P
  readonly input?: I
  readonly output: O
  /** The audit action a successful call records; reads record none. */
  readonly audit?: AuditAction
  readonly authorization?: AuthorizationProperty
  /** Protected environments ask before it, or need `--force`; the words name what is lost. */
  readonly destructive?: (params: Params<P>) => string
  /** Spends and changes nothing: safe to retry over HTTP though not a GET. */
  readonly idempotent?: boolean
  /**
   * The errors the call may answer beyond those every route of its kind does (invalid input, credentials,
   * permission, rate limit): a target or reference not found, a conflict, a refusal of its own. The OpenAPI
   * document lists each under its status.
   */
  readonly errors?: readonly ErrorCode[]
}

type Params<P> = P extends z.ZodObject ? z.input<P> : undefined
type Input<I> = I extends z.ZodType ? z.input<I> : undefined

/** A JSON operation: the doors call `run` (locally) or its route (over HTTP). */
export interface JsonOperation<
  P extends z.ZodObject | undefined = z.ZodObject | undefined,
  I extends z.ZodType | undefined = z.ZodType | undefined,
  O extends z.ZodType = z.ZodType,
> extends Declaration<P, I, O> {
  readonly kind: 'json'
  readonly run: (services: Services, ctx: ActorContext, params: Params<P>, input: Input<I>) => Promise<z.output<O>>
}

/**
 * An operation whose request or answer is a file streamed through (users import and export): declared here
 * like any other, bound by hand in each door because a stream is not a JSON value.
 */
export interface StreamOperation extends Declaration<undefined, z.ZodType, z.ZodType> {
  readonly kind: 'upload' | 'download'
  /** Media types of the streamed body (upload) or answer (download). */
  readonly mediaTypes: readonly string[]
}

export type Operation = JsonOperation | StreamOperation

/** Declares a JSON operation with `run` typed from its schemas. */
export function operation<P extends z.ZodObject | undefined = undefined, I extends z.ZodType | undefined = undefined, O extends z.ZodType = z.ZodType>(
  declaration: Declaration<P, I, O> & { readonly run: JsonOperation<P, I, O>['run'] },
): JsonOperation<P, I, O> {
  return { kind: 'json', ...declaration }
}

/** The arguments a door's `call` takes for an operation: its target, then its input (optional when every field is). */
export type CallArgs<Op> =
  Op extends JsonOperation<infer P, infer I, z.ZodType>
    ? P extends z.ZodObject
      ? I extends z.ZodType
        ? OptionalWhenEmpty<[params: z.input<P>], z.input<I>>
        : [params: z.input<P>]
      : I extends z.ZodType
        ? OptionalWhenEmpty<[], z.input<I>>
        : []
    : never

type OptionalWhenEmpty<Head extends unknown[], T> = object extends T ? [...Head, input?: T] : [...Head, input: T]

export type CallResult<Op> = Op extends JsonOperation<z.ZodObject | undefined, z.ZodType | undefined, infer O> ? z.output<O> : never

/** Splits a door's `call` arguments into the target and the input, by whether the operation declares a target. */
export function callParts(op: JsonOperation, args: readonly unknown[]): { params: unknown; input: unknown } {
  return op.params ? { params: args[0], input: args[1] } : { params: undefined, input: args[0] }
}

/** Whether the operation's input travels as a JSON body (else as the query string). */
export const inputInBody = (op: Operation): boolean => op.http.method === 'post' || op.http.method === 'put' || op.http.method === 'patch'
