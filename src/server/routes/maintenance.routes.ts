/**
 * Maintenance mode under /api/v1/admin/maintenance: read it, turn it on (PUT: again to change Retry-After or
 * the message), turn it off (DELETE). These routes stay open while it is on, like health, auth and admin.
 */
import { maintenanceInputSchema, maintenanceStateSchema } from '../../core/maintenance/maintenance.schema.js'
import type { Services } from '../../core/services.js'
import { route, type RouteSpec } from './route.js'

const MAINTENANCE = '/api/v1/admin/maintenance'

/** The maintenance routes. */
export function maintenanceRoutes(services: Services): RouteSpec[] {
  const { maintenance } = services
  const tag = 'maintenance'
  return [
    route({
      method: 'get',
      path: MAINTENANCE,
      tag,
      summary: 'Whether maintenance mode is on, since when, by whom, with what Retry-After and message.',
      auth: 'required',
      permission: 'maintenance:read',
      response: maintenanceStateSchema,
      handler: ({ ctx }) => maintenance.status(ctx),
    }),
    route({
      method: 'put',
      path: MAINTENANCE,
      tag,
      summary: 'Turn maintenance mode on: every route but health, auth and admin answers 503 with Retry-After within a second.',
      auth: 'required',
      permission: 'maintenance:write',
      body: maintenanceInputSchema,
      response: maintenanceStateSchema,
      handler: ({ ctx, body }) => maintenance.on(ctx, body),
    }),
    route({
      method: 'delete',
      path: MAINTENANCE,
      tag,
      summary: 'Turn maintenance mode off.',
      auth: 'required',
      permission: 'maintenance:write',
      response: maintenanceStateSchema,
      handler: ({ ctx }) => maintenance.off(ctx),
    }),
  ]
}
