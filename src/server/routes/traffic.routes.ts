/**
 * This instance's per-minute traffic (traffic.ts), for the admin console's chart. Under `ratelimits:read`:
 * the 429 counts are rate-limit data. Each instance answers with its own counts, named in `instance`.
 */
import { trafficSnapshotSchema, type TrafficRing } from '../traffic.js'
import { route, type RouteSpec } from './route.js'

export interface TrafficRouteDeps {
  readonly traffic: Pick<TrafficRing, 'snapshot'>
}

/** GET /api/v1/admin/traffic. */
export function trafficRoutes(deps: TrafficRouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/admin/traffic',
      tag: 'rate-limits',
      summary: "This instance's requests and 429 refusals per minute over the last hour (in memory; each instance counts its own).",
      auth: 'required',
      permission: 'ratelimits:read',
      response: trafficSnapshotSchema,
      handler: async () => deps.traffic.snapshot(),
    }),
  ]
}
