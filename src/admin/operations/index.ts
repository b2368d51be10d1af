/**
 * The operation table: every admin operation by name. Routes, the OpenAPI document, HttpAdmin, LocalAdmin
 * and the escalation matrix are all derived from it; a new operation is a new entry in its area's module.
 */
import type { CallArgs, CallResult, JsonOperation, Operation } from '../operation.js'
import { apiKeyOperations } from './apikeys.js'
import { auditOperations } from './audit.js'
import { backupOperations } from './backups.js'
import { flagOperations } from './flags.js'
import { maintenanceOperations } from './maintenance.js'
import { oauthOperations } from './oauth.js'
import { rateLimitOperations } from './ratelimits.js'
import { roleOperations } from './roles.js'
import { tokenOperations } from './tokens.js'
import { userOperations } from './users.js'
import { webhookOperations } from './webhooks.js'

export const OPERATIONS = {
  ...userOperations,
  ...tokenOperations,
  ...roleOperations,
  ...apiKeyOperations,
  ...oauthOperations,
  ...auditOperations,
  ...maintenanceOperations,
  ...rateLimitOperations,
  ...webhookOperations,
  ...flagOperations,
  ...backupOperations,
} as const satisfies Record<string, Operation>

type Table = typeof OPERATIONS

/** The operations a door calls with `call(name, …)`: every one but the streamed import and export. */
export type OperationName = { [N in keyof Table]: Table[N] extends JsonOperation ? N : never }[keyof Table]
export type OperationArgs<N extends OperationName> = CallArgs<Table[N]>
export type OperationResult<N extends OperationName> = CallResult<Table[N]>

/** The table's entries, named. */
export const operationEntries = (): Array<[string, Operation]> => Object.entries(OPERATIONS)
