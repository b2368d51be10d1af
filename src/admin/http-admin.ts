/**
 * The AdminApi over the server's admin routes (src/server/routes/*.routes.ts), acting as whoever the
 * client's credentials speak for. Each answer is parsed with the same zod schema the route declares, so a
 * remote command gets the very objects LocalAdmin returns and prints them the same way.
 */
import { Readable } from 'node:stream'
import { apiKeyPageSchema, apiKeySchema, apiKeyWithSecretSchema } from '../core/apikeys/apikeys.schema.js'
import { auditPageSchema } from '../core/audit/audit.schema.js'
import { maintenanceStateSchema } from '../core/maintenance/maintenance.schema.js'
import {
  applyResultSchema,
  exportSchema,
  overrideViewSchema,
  rateLimitListSchema,
  removeOverrideResultSchema,
  removeRuleResultSchema,
  ruleViewSchema,
  testResultSchema,
} from '../core/ratelimits/ratelimits.schema.js'
import { deleteRoleResultSchema, roleListSchema, roleSchema } from '../core/roles/roles.schema.js'
import { issuedTokenSchema, revokedSessionsSchema } from '../core/sessions/sessions.schema.js'
import { rotatedSigningKeySchema, signingKeyListSchema } from '../core/sessions/signing-keys.schema.js'
import type { ExportUsersInput } from '../core/users/export.js'
import { importResultSchema, type UserFileFormat } from '../core/users/import.js'
import { deleteUserResultSchema, userPageSchema, userSchema, userWithPasswordSchema } from '../core/users/users.schema.js'
import type { ApiClient, RequestSpec } from '../client/types.js'
import type { AdminApi } from './admin-api.js'

const ADMIN = '/api/v1/admin'
const USERS = `${ADMIN}/users`
const ROLES = `${ADMIN}/roles`
const KEYS = `${ADMIN}/api-keys`
const SIGNING_KEYS = `${ADMIN}/signing-keys`
const MAINTENANCE = `${ADMIN}/maintenance`
const RATE_LIMITS = `${ADMIN}/rate-limits`

/** The media type an import body is sent as (the route reads the format from it). */
const IMPORT_TYPE: Record<UserFileFormat, string> = { csv: 'text/csv', jsonl: 'application/x-ndjson' }

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

const user = (email: string): string => `${USERS}/${encodeURIComponent(email)}`

/** The AdminApi through `client` (its credentials decide who acts, and with which permissions). */
export function createHttpAdmin(client: ApiClient): AdminApi {
  return {
    users: {
      create: (input) => client.request({ method: 'POST', path: USERS, body: input, schema: userWithPasswordSchema }),
      list: (input) => client.request({ method: 'GET', path: USERS, query: query(input), schema: userPageSchema }),
      get: (email) => client.request({ method: 'GET', path: user(email), schema: userSchema }),
      update: (email, patch) => client.request({ method: 'PATCH', path: user(email), body: patch, schema: userSchema }),
      disable: (email) => client.request({ method: 'POST', path: `${user(email)}/disable`, schema: userSchema }),
      enable: (email) => client.request({ method: 'POST', path: `${user(email)}/enable`, schema: userSchema }),
      delete: (email) => client.request({ method: 'DELETE', path: user(email), schema: deleteUserResultSchema }),
      setPassword: (email, input) => client.request({ method: 'POST', path: `${user(email)}/password`, body: input, schema: userWithPasswordSchema }),
      unlock: (email) => client.request({ method: 'POST', path: `${user(email)}/unlock`, schema: userSchema }),
      async import(source, input, onProgress) {
        const result = await client.upload({
          method: 'POST',
          path: `${USERS}/import`,
          query: query(input),
          stream: Readable.from(source(), { objectMode: false }),
          contentType: IMPORT_TYPE[input.format],
          schema: importResultSchema,
        })
        // The server reports once, at the end: the one progress there is to show.
        onProgress?.({ rows: result.rows, imported: result.imported, skipped: result.skipped.length })
        return result
      },
      export: (input, onPage) => countedExport(client.download({ method: 'GET', path: `${USERS}/export`, query: query(input) }), input, onPage),
    },
    roles: {
      list: () => client.request({ method: 'GET', path: ROLES, schema: roleListSchema }),
      get: (name) => client.request({ method: 'GET', path: `${ROLES}/${encodeURIComponent(name)}`, schema: roleSchema }),
      create: (input) => client.request({ method: 'POST', path: ROLES, body: input, schema: roleSchema }),
      update: (name, input) => client.request({ method: 'PATCH', path: `${ROLES}/${encodeURIComponent(name)}`, body: input, schema: roleSchema }),
      delete: (name) => client.request({ method: 'DELETE', path: `${ROLES}/${encodeURIComponent(name)}`, schema: deleteRoleResultSchema }),
    },
    audit: {
      list: (input) => client.request({ method: 'GET', path: `${ADMIN}/audit`, query: query(input), schema: auditPageSchema }),
    },
    apikeys: {
      create: (input) => client.request({ method: 'POST', path: KEYS, body: input, schema: apiKeyWithSecretSchema }),
      list: (input) => client.request({ method: 'GET', path: KEYS, query: query(input), schema: apiKeyPageSchema }),
      revoke: (keyId) => client.request({ method: 'POST', path: `${KEYS}/${encodeURIComponent(keyId)}/revoke`, schema: apiKeySchema }),
      rotate: (keyId, input) =>
        client.request({ method: 'POST', path: `${KEYS}/${encodeURIComponent(keyId)}/rotate`, body: input ?? {}, schema: apiKeyWithSecretSchema }),
    },
    tokens: {
      issue: (email, input) => client.request({ method: 'POST', path: `${user(email)}/tokens`, body: input ?? {}, schema: issuedTokenSchema }),
      revoke: (email) => client.request({ method: 'DELETE', path: `${user(email)}/sessions`, schema: revokedSessionsSchema }),
      keys: {
        list: () => client.request({ method: 'GET', path: SIGNING_KEYS, schema: signingKeyListSchema }),
        rotate: () => client.request({ method: 'POST', path: `${SIGNING_KEYS}/rotate`, schema: rotatedSigningKeySchema }),
      },
    },
    maintenance: {
      status: () => client.request({ method: 'GET', path: MAINTENANCE, schema: maintenanceStateSchema }),
      on: (input) => client.request({ method: 'PUT', path: MAINTENANCE, body: input ?? {}, schema: maintenanceStateSchema }),
      off: () => client.request({ method: 'DELETE', path: MAINTENANCE, schema: maintenanceStateSchema }),
    },
    rateLimits: {
      list: () => client.request({ method: 'GET', path: RATE_LIMITS, schema: rateLimitListSchema }),
      set: (name, input) => client.request({ method: 'PUT', path: `${RATE_LIMITS}/rules/${encodeURIComponent(name)}`, body: input, schema: ruleViewSchema }),
      remove: (name) => client.request({ method: 'DELETE', path: `${RATE_LIMITS}/rules/${encodeURIComponent(name)}`, schema: removeRuleResultSchema }),
      override: (input) => client.request({ method: 'PUT', path: `${RATE_LIMITS}/overrides`, body: input, schema: overrideViewSchema }),
      removeOverride: (input) =>
        client.request({ method: 'DELETE', path: `${RATE_LIMITS}/overrides`, query: query(input), schema: removeOverrideResultSchema }),
      export: () => client.request({ method: 'GET', path: `${RATE_LIMITS}/export`, schema: exportSchema }),
      apply: (input) => client.request({ method: 'POST', path: `${RATE_LIMITS}/apply`, body: input, schema: applyResultSchema }),
      // Spends nothing and changes nothing: safe to retry.
      test: (input) => client.request({ method: 'POST', path: `${RATE_LIMITS}/test`, body: input, schema: testResultSchema, idempotent: true }),
    },
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
