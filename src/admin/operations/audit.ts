/** The audit log (`gantry audit list`, /api/v1/admin/audit), newest first. */
import { auditListInputSchema, auditPageSchema } from '../../core/audit/audit.schema.js'
import { operation } from '../operation.js'

export const auditOperations = {
  'audit.list': operation({
    tag: 'audit',
    permission: 'audit:read',
    summary: 'Audit entries, newest first, filtered by actor, action and time (ISO 8601 or a duration back, e.g. 24h).',
    http: { method: 'get', path: '/api/v1/admin/audit' },
    input: auditListInputSchema,
    output: auditPageSchema,
    run: ({ audit }, ctx, _params, input) => audit.list(ctx, input),
  }),
} as const
