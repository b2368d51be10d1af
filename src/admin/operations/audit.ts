/** The audit log (`gantry audit list|export|prune`, /api/v1/admin/audit): read it, archive it, prune it. */
import { auditExportInputSchema, auditListInputSchema, auditPageSchema, auditPruneInputSchema, auditPruneResultSchema } from '../../core/audit/audit.schema.js'
import { operation } from '../operation.js'

const AUDIT = '/api/v1/admin/audit'
const tag = 'audit'

export const auditOperations = {
  'audit.list': operation({
    tag,
    permission: 'audit:read',
    summary: 'Audit entries, newest first, filtered by actor, action and time (ISO 8601 or a duration back, e.g. 24h).',
    http: { method: 'get', path: AUDIT },
    input: auditListInputSchema,
    output: auditPageSchema,
    run: ({ audit }, ctx, _params, input) => audit.list(ctx, input),
  }),
  // Pages of JSON rather than a streamed file: the pages are keyset pages (memory stays flat at either
  // end), the operation stays in the table like any other, and `audit export` formats them as JSON lines
  // or CSV the same way through both doors.
  'audit.export': operation({
    tag,
    permission: 'audit:read',
    summary:
      'Audit entries oldest first (time, then id), a page of up to 1000 at a time, with the filters of the list: the log as it stood at the first page, for archiving before a prune.',
    http: { method: 'get', path: `${AUDIT}/export` },
    input: auditExportInputSchema,
    output: auditPageSchema,
    run: ({ audit }, ctx, _params, input) => audit.exportPage(ctx, input),
  }),
  'audit.prune': operation({
    tag,
    permission: 'audit:delete',
    summary:
      "Delete the entries older than `olderThan` (default: the environment's audit.retention; none when it is forever) in batches, then record one audit.pruned entry; `dryRun` counts them and deletes nothing.",
    http: { method: 'post', path: `${AUDIT}/prune` },
    input: auditPruneInputSchema,
    output: auditPruneResultSchema,
    audit: 'audit.pruned',
    destructive: () => 'Deleting old audit entries',
    run: ({ audit }, ctx, _params, input) => audit.prune(ctx, input),
  }),
} as const
