/**
 * Every admin route under /api/v1/admin, one table per area; each checks one permission and calls the
 * same service as the CLI's LocalAdmin, so a command means the same locally and over HTTP.
 */
import type { Services } from '../../core/services.js'
import { apiKeyRoutes } from './apikeys.routes.js'
import { auditRoutes } from './audit.routes.js'
import { maintenanceRoutes } from './maintenance.routes.js'
import { rateLimitRoutes } from './ratelimits.routes.js'
import { roleRoutes } from './roles.routes.js'
import type { RouteSpec } from './route.js'
import { sessionRoutes } from './sessions.routes.js'
import { userRoutes } from './users.routes.js'

export interface AdminRouteDeps {
  readonly services: Services
}

/** The admin API under /api/v1/admin. */
export function adminRoutes(deps: AdminRouteDeps): RouteSpec[] {
  const { services } = deps
  return [
    ...userRoutes(services),
    ...sessionRoutes(services),
    ...roleRoutes(services),
    ...apiKeyRoutes(services),
    ...auditRoutes(services),
    ...maintenanceRoutes(services),
    ...rateLimitRoutes(services),
  ]
}
