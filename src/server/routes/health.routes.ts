/**
 * Liveness and readiness. Public, exempt from rate limits, served before any other middleware — and
 * `GET /api/health` itself before Express (liveness.ts); this route answers its other spellings.
 */
import type { Response } from 'express'
import { healthSchema, type Health } from '../../core/health/health.schema.js'
import { HEALTH_TYPE, LIVENESS_PATH, type Liveness } from '../liveness.js'
import { worst, type ReadinessProbe } from '../readiness.js'
import { route, type RouteSpec } from './route.js'

export interface HealthRouteDeps {
  readonly liveness: Liveness
  readonly now: () => number
  readonly readiness: ReadinessProbe
  /** True once shutdown began: readiness fails at once so the load balancer stops sending traffic. */
  readonly draining: () => boolean
}

/** The health routes. */
export function healthRoutes(deps: HealthRouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: LIVENESS_PATH,
      tag: 'health',
      summary: 'Liveness: the process answers. Checks no dependency; carries the version.',
      auth: 'public',
      response: healthSchema,
      responseType: HEALTH_TYPE,
      handler: async ({ res }) => {
        res.status(200).type(HEALTH_TYPE).send(deps.liveness.body())
      },
    }),
    route({
      method: 'get',
      path: '/api/health/ready',
      tag: 'health',
      summary: 'Readiness: database, migrations and Redis, each bounded to 1 s; 503 on fail or while draining.',
      auth: 'public',
      response: healthSchema,
      responseType: HEALTH_TYPE,
      handler: async ({ res }) => {
        const report = await deps.readiness.check()
        const draining = deps.draining()
        const body: Health = draining
          ? {
              ...report,
              status: 'fail',
              checks: { ...report.checks, 'server:draining': [{ status: 'fail', output: 'shutting down', time: new Date(deps.now()).toISOString() }] },
            }
          : report
        sendReadiness(res, body)
      },
    }),
  ]
}

/** Answers a readiness report: application/health+json, 503 when it fails. */
export function sendReadiness(res: Response, report: Health): void {
  res
    .status(worst([report.status]) === 'fail' ? 503 : 200)
    .type(HEALTH_TYPE)
    .send(JSON.stringify(report))
}
