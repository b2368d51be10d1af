/** Rate-limit rules and overrides (`gantry ratelimit …`, /api/v1/admin/rate-limits). */
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
import { operation } from '../operation.js'

const BASE = '/api/v1/admin/rate-limits'
const RULE = `${BASE}/rules/:name`
const byName = z.object({ name: ruleNameSchema })
const tag = 'rate-limits'
const read = { tag, permission: 'ratelimits:read' } as const
const write = { tag, permission: 'ratelimits:write' } as const

export const rateLimitOperations = {
  'ratelimits.list': operation({
    ...read,
    summary: 'The login rules, then the chain every request meets, with their counts across instances; and the overrides.',
    http: { method: 'get', path: BASE },
    output: rateLimitListSchema,
    run: ({ rateLimits }, ctx) => rateLimits.list(ctx),
  }),
  'ratelimits.set': operation({
    ...write,
    summary: 'Create a rule, or change the given fields of one; every instance applies it within a second.',
    http: { method: 'put', path: RULE },
    params: byName,
    input: setRuleInputSchema,
    output: ruleViewSchema,
    audit: 'ratelimits.set',
    run: ({ rateLimits }, ctx, { name }, input) => rateLimits.set(ctx, name, input),
  }),
  'ratelimits.remove': operation({
    ...write,
    summary: 'Remove a stored rule (removing `default` brings back the environment default from the config).',
    http: { method: 'delete', path: RULE },
    params: byName,
    output: removeRuleResultSchema,
    errors: ['RATELIMIT_RULE_NOT_FOUND'],
    audit: 'ratelimits.remove',
    destructive: ({ name }) => `Removing rate-limit rule "${name}"`,
    run: ({ rateLimits }, ctx, { name }) => rateLimits.remove(ctx, name),
  }),
  'ratelimits.export': operation({
    ...read,
    summary: 'The stored rules as a file `apply` reads back.',
    http: { method: 'get', path: `${BASE}/export` },
    output: exportSchema,
    run: ({ rateLimits }, ctx) => rateLimits.export(ctx),
  }),
  'ratelimits.apply': operation({
    ...write,
    summary: "Make the stored rules a file's, atomically (prune: also remove those it leaves out; dryRun: only the diff).",
    http: { method: 'post', path: `${BASE}/apply` },
    input: applyInputSchema,
    output: applyResultSchema,
    audit: 'ratelimits.apply',
    // Destructive only when it prunes rules: the command previews the change and asks itself.
    run: ({ rateLimits }, ctx, _params, input) => rateLimits.apply(ctx, input),
  }),
  'ratelimits.test': operation({
    ...read,
    summary: 'What the limiter would do with such a request, rule by rule, spending nothing.',
    http: { method: 'post', path: `${BASE}/test` },
    input: testInputSchema,
    output: testResultSchema,
    errors: ['USER_NOT_FOUND'],
    idempotent: true,
    run: ({ rateLimits }, ctx, _params, input) => rateLimits.test(ctx, input),
  }),
  'ratelimits.override': operation({
    ...write,
    summary: 'Give one address, user or API key its own figures for a rule (or every rule of its kind), or block it.',
    http: { method: 'put', path: `${BASE}/overrides` },
    input: overrideInputSchema,
    output: overrideViewSchema,
    errors: ['RATELIMIT_RULE_NOT_FOUND', 'USER_NOT_FOUND', 'APIKEY_NOT_FOUND'],
    audit: 'ratelimits.override',
    run: ({ rateLimits }, ctx, _params, input) => rateLimits.override(ctx, input),
  }),
  'ratelimits.removeOverride': operation({
    ...write,
    summary: 'Remove the override of one subject (and rule).',
    http: { method: 'delete', path: `${BASE}/overrides` },
    input: removeOverrideInputSchema,
    output: removeOverrideResultSchema,
    errors: ['RATELIMIT_OVERRIDE_NOT_FOUND', 'USER_NOT_FOUND', 'APIKEY_NOT_FOUND'],
    audit: 'ratelimits.override.remove',
    run: ({ rateLimits }, ctx, _params, input) => rateLimits.removeOverride(ctx, input),
  }),
} as const
