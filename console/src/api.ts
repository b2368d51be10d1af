/**
 * The admin API as the console calls it: `call(name, …)` takes an operation's name and arguments and returns
 * its result, typed from the operation table's own schemas (the CLI's LocalAdmin and HttpAdmin have the same
 * signature). The access token is held here, in memory only; a 401 renews it once through the session cookie
 * and retries, and if that fails the session's end is announced (session.ts) while the page keeps its state.
 */
import { routes as operationRoutes, type OperationRoute } from 'gantry:catalog'
import type { OperationArgs, OperationName, OperationResult } from '../../src/admin/operations/index.js'
import type { Problem } from '../../src/server/problem.js'

/** A refused call: the API's problem+json, kept whole so the page can show its detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & { title: string },
  ) {
    super(problem.detail ?? problem.title)
  }
}

interface Credentials {
  token(): string | undefined
  /** Gets a fresh access token through the session cookie; false when the session has ended. */
  renew(): Promise<boolean>
}

const routes: Readonly<Record<OperationName, OperationRoute>> = operationRoutes

let credentials: Credentials = { token: () => undefined, renew: async () => false }

/** Where call() takes its token from (session.ts). */
export function useCredentials(source: Credentials): void {
  credentials = source
}

/** Calls an admin operation. */
export function call<N extends OperationName>(name: N, ...args: OperationArgs<N>): Promise<OperationResult<N>> {
  const route = routes[name]
  const [target, input] = route.target ? [args[0], args[1]] : [undefined, args[0]]
  const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_segment, key: string) => encodeURIComponent(String((target as Record<string, unknown>)[key])))
  return request(route.method, path, { input, inBody: route.body })
}

export interface RequestOptions {
  readonly input?: unknown
  /** The input as a JSON body (else the query string). */
  readonly inBody?: boolean
  readonly headers?: Record<string, string>
  /** Whether a 401 renews the token and retries (not for the session's own routes: renewal calls them). */
  readonly renew?: boolean
}

/** One request with the session's token; JSON in, JSON out, problem+json thrown as ApiError. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const { input, inBody = false, headers = {}, renew = true } = options
  const url = !inBody && input !== undefined ? `${path}${queryString(input as Record<string, unknown>)}` : path
  const send = (): Promise<Response> => {
    const token = credentials.token()
    return fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json, application/problem+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(inBody ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(inBody ? { body: JSON.stringify(input ?? {}) } : {}),
    })
  }
  let response = await send()
  if (response.status === 401 && renew && credentials.token() && (await credentials.renew())) response = await send()
  return read<T>(response)
}

async function read<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T
  const text = await response.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  // Readiness answers its report with 503 when a check fails: a report, not a problem.
  const type = response.headers.get('content-type') ?? ''
  if (response.ok || type.startsWith('application/health+json')) return body as T
  const problem = body && typeof body === 'object' && 'title' in body ? (body as ApiError['problem']) : { title: `${response.status} ${response.statusText}` }
  throw new ApiError(response.status, problem)
}

function queryString(input: Record<string, unknown>): string {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(input)) if (value !== undefined && value !== null && value !== '') query.set(key, String(value))
  const text = query.toString()
  return text ? `?${text}` : ''
}
