/**
 * Maintenance mode (`gantry maintenance …`, /api/v1/admin/maintenance): read it, turn it on (again to change
 * Retry-After or the message), turn it off. These routes stay open while it is on, like health, auth and admin.
 */
import { maintenanceInputSchema, maintenanceStateSchema } from '../../core/maintenance/maintenance.schema.js'
import { operation } from '../operation.js'

const MAINTENANCE = '/api/v1/admin/maintenance'
const tag = 'maintenance'

export const maintenanceOperations = {
  'maintenance.status': operation({
    tag,
    permission: 'maintenance:read',
    summary: 'Whether maintenance mode is on, since when, by whom, with what Retry-After and message.',
    http: { method: 'get', path: MAINTENANCE },
    output: maintenanceStateSchema,
    run: ({ maintenance }, ctx) => maintenance.status(ctx),
  }),
  'maintenance.on': operation({
    tag,
    permission: 'maintenance:write',
    summary: 'Turn maintenance mode on: every route but health, auth and admin answers 503 with Retry-After within a second.',
    http: { method: 'put', path: MAINTENANCE },
    input: maintenanceInputSchema,
    output: maintenanceStateSchema,
    audit: 'maintenance.on',
    destructive: () => 'Turning maintenance mode on',
    run: ({ maintenance }, ctx, _params, input) => maintenance.on(ctx, input),
  }),
  'maintenance.off': operation({
    tag,
    permission: 'maintenance:write',
    summary: 'Turn maintenance mode off.',
    http: { method: 'delete', path: MAINTENANCE },
    output: maintenanceStateSchema,
    audit: 'maintenance.off',
    run: ({ maintenance }, ctx) => maintenance.off(ctx),
  }),
} as const
