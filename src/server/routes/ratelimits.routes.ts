/** Rate limits under /api/v1/admin/rate-limits: the same use cases as `gantry ratelimit …`, one route each. */
import { z } from 'zod'
import {
  applyInputSchema,
  applyResultSchema,
  exportSchema,
  overrideInputSchema,
  overrideViewSchema,
  rateLimitListSchema,
  removeOverrideInputSchema,
  removeOverrideResultSchema,
  removeRuleResultSchema,
  ruleNameSchema,
  ruleViewSchema,
  setRuleInputSchema,
  testInputSchema,
  testResultSchema,
} from '../../core/ratelimits/ratelimits.schema.js'
import type { Services } from '../../core/services.js'
import { route, type RouteSpec } from './route.js'

const BASE = '/api/v1/admin/rate-limits'
const RULE = `${BASE}/rules/:name`
const byName = z.object({ name: ruleNameSchema })

/** The rate-limit routes. */
export function rateLimitRoutes(services: Services): RouteSpec[] {
  const { rateLimits } = services
  const tag = 'rate-limits'
  const read = { tag, auth: 'required', permission: 'ratelimits:read' } as const
  const write = { tag, auth: 'required', permission: 'ratelimits:write' } as const
  return [
    route({
      ...read,
      method: 'get',
      path: BASE,
      summary: 'The login rules, then the chain every request meets, with their counts across instances; and the overrides.',
      response: rateLimitListSchema,
      handler: ({ ctx }) => rateLimits.list(ctx),
    }),
    route({
      ...write,
      method: 'put',
      path: RULE,
      summary: 'Create a rule, or change the given fields of one; every instance applies it within a second.',
      params: byName,
      body: setRuleInputSchema,
      response: ruleViewSchema,
      handler: ({ ctx, params, body }) => rateLimits.set(ctx, params.name, body),
    }),
    route({
      ...write,
      method: 'delete',
      path: RULE,
      summary: 'Remove a stored rule (removing `default` brings back the environment default from the config).',
      params: byName,
      response: removeRuleResultSchema,
      handler: ({ ctx, params }) => rateLimits.remove(ctx, params.name),
    }),
    route({
      ...read,
      method: 'get',
      path: `${BASE}/export`,
      summary: 'The stored rules as a file `apply` reads back.',
      response: exportSchema,
      handler: ({ ctx }) => rateLimits.export(ctx),
    }),
    route({
      ...write,
      method: 'post',
      path: `${BASE}/apply`,
      summary: "Make the stored rules a file's, atomically (prune: also remove those it leaves out; dryRun: only the diff).",
      body: applyInputSchema,
      response: applyResultSchema,
      handler: ({ ctx, body }) => rateLimits.apply(ctx, body),
    }),
    route({
      ...read,
      method: 'post',
      path: `${BASE}/test`,
      summary: 'What the limiter would do with such a request, rule by rule, spending nothing.',
      body: testInputSchema,
      response: testResultSchema,
      handler: ({ ctx, body }) => rateLimits.test(ctx, body),
    }),
    route({
      ...write,
      method: 'put',
      path: `${BASE}/overrides`,
      summary: 'Give one address, user or API key its own figures for a rule (or every rule of its kind), or block it.',
      body: overrideInputSchema,
      response: overrideViewSchema,
      handler: ({ ctx, body }) => rateLimits.override(ctx, body),
    }),
    route({
      ...write,
      method: 'delete',
      path: `${BASE}/overrides`,
      summary: 'Remove the override of one subject (and rule).',
      query: removeOverrideInputSchema,
      response: removeOverrideResultSchema,
      handler: ({ ctx, query }) => rateLimits.removeOverride(ctx, query),
    }),
  ]
}
