/**
 * What the admin commands can do, whichever door they go through: LocalAdmin (the services, straight against
 * the database) or HttpAdmin (the server's API). Both are derived from the operation table
 * (src/admin/operations): `call('users.unlock', { email })` means the same through either.
 */
import type { ExportUsersInput } from '../core/users/export.js'
import type { ImportProgress, ImportResult, ImportSource, ImportUsersInput } from '../core/users/import.js'
import type { OperationArgs, OperationName, OperationResult } from './operations/index.js'

export interface AdminApi {
  /** Runs a declared operation: its target first when it has one (`{ email }`), then its input. */
  call<N extends OperationName>(name: N, ...args: OperationArgs<N>): Promise<OperationResult<N>>
  /** `users.import`: streams a CSV / JSON lines file of users in (src/core/users/import.ts). */
  importUsers(source: ImportSource, input: ImportUsersInput, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult>
  /** `users.export`: the users as CSV / JSON lines text chunks, page by page (src/core/users/export.ts). */
  exportUsers(input: ExportUsersInput, onPage?: (exported: number) => void): AsyncIterable<string>
}
