/**
 * Every admin route under /api/v1/admin, derived from the operation table: each checks its declared
 * permission and calls the same `run` as the CLI's LocalAdmin, so a command means the same locally and over
 * HTTP. Import and export stream their files (users.routes.ts).
 */
import type { JsonOperation } from '../../admin/operation.js'
import { operationEntries } from '../../admin/operations/index.js'
import type { Services } from '../../core/services.js'
import { operationRoute } from './operation.routes.js'
import type { RouteSpec } from './route.js'
import { userFileRoutes } from './users.routes.js'

export interface AdminRouteDeps {
  readonly services: Services
}

/** The admin API under /api/v1/admin. The streamed routes come first: `/users/:email` would take their names. */
export function adminRoutes(deps: AdminRouteDeps): RouteSpec[] {
  const { services } = deps
  const json = operationEntries().filter((entry): entry is [string, JsonOperation] => entry[1].kind === 'json')
  return [...userFileRoutes(services), ...json.map(([name, op]) => operationRoute(name, op, services))]
}
