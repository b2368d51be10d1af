/**
 * The AdminApi over the server's admin routes, acting as whoever the client's credentials speak for. Each
 * call goes where its declaration says (src/admin/operations) and its answer is parsed with the declared
 * output schema, so a remote command gets the very objects LocalAdmin returns and prints them the same way.
 */
import { Readable } from 'node:stream'
import type { ExportUsersInput } from '../core/users/export.js'
import type { ApiClient, HttpMethod, RequestSpec } from '../client/types.js'
import type { AdminApi } from './admin-api.js'
import { callParts, inputInBody, type JsonOperation } from './operation.js'
import { OPERATIONS } from './operations/index.js'
import { USER_FILE_TYPES } from './operations/users.js'

type Query = NonNullable<RequestSpec<undefined>['query']>

/** An input object as a query string's fields: set values only, each as text the route's schema reads back. */
function query(input: object | undefined): Query {
  const out: Record<string, string | number | boolean> = {}
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === undefined || value === null) continue
    out[key] = typeof value === 'number' || typeof value === 'boolean' ? value : String(value)
  }
  return out
}

/** The declared path with the target's fields in place of its `:name` segments. */
function pathOf(template: string, params: unknown): string {
  const values = (params ?? {}) as Record<string, unknown>
  return template.replace(/:([A-Za-z0-9_]+)/g, (_segment, key: string) => encodeURIComponent(String(values[key])))
}

/** The AdminApi through `client` (its credentials decide who acts, and with which permissions). */
export function createHttpAdmin(client: ApiClient): AdminApi {
  const { 'users.import': importOp, 'users.export': exportOp } = OPERATIONS
  return {
    call: (name, ...args) => {
      const op = OPERATIONS[name] as JsonOperation
      const { params, input } = callParts(op, args)
      const body = inputInBody(op)
      return client.request({
        method: op.http.method.toUpperCase() as HttpMethod,
        path: pathOf(op.http.path, params),
        ...(op.input && body ? { body: input ?? {} } : {}),
        ...(op.input && !body ? { query: query(input as object | undefined) } : {}),
        schema: op.output,
        ...(op.idempotent ? { idempotent: true } : {}),
      }) as never
    },
    async importUsers(source, input, onProgress) {
      const result = await client.upload({
        method: 'POST',
        path: importOp.http.path,
        query: query(input),
        stream: Readable.from(source(), { objectMode: false }),
        contentType: USER_FILE_TYPES[input.format],
        schema: importOp.output,
      })
      // The server reports once, at the end: the one progress there is to show.
      onProgress?.({ rows: result.rows, imported: result.imported, skipped: result.skipped.length })
      return result
    },
    exportUsers: (input, onPage) => countedExport(client.download({ method: 'GET', path: exportOp.http.path, query: query(input) }), input, onPage),
  }
}

/**
 * The downloaded export, passed through as it arrives, with `onPage` told the running count of users: the
 * records ended so far (a line break outside CSV quotes; a name may hold one inside them), less the CSV header.
 */
async function* countedExport(chunks: AsyncIterable<string>, input: ExportUsersInput, onPage?: (exported: number) => void): AsyncIterable<string> {
  const csv = input.format === 'csv'
  let records = 0
  let quoted = false
  for await (const chunk of chunks) {
    for (const char of chunk) {
      if (csv && char === '"') quoted = !quoted
      else if (char === '\n' && !quoted) records++
    }
    onPage?.(csv ? Math.max(0, records - 1) : records)
    yield chunk
  }
}
