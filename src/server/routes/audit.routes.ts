/** The audit log under /api/v1/admin/audit: `gantry audit list` over HTTP, newest first. */
import { auditListInputSchema, auditPageSchema } from '../../core/audit/audit.schema.js'
import type { Services } from '../../core/services.js'
import { route, type RouteSpec } from './route.js'

/** The audit route. */
export function auditRoutes(services: Services): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/admin/audit',
      tag: 'audit',
      summary: 'Audit entries, newest first, filtered by actor, action and time (ISO 8601 or a duration back, e.g. 24h).',
      auth: 'required',
      permission: 'audit:read',
      query: auditListInputSchema,
      response: auditPageSchema,
      handler: ({ ctx, query }) => services.audit.list(ctx, query),
    }),
  ]
}
