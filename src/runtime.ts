import type { Environment } from './config/schema.js'
import type { Workspace } from './config/workspace.js'
import { openDatabase, type Database } from './db/connect.js'

/**
 * The composition root: the one place that opens clients for an environment. Clients open on first use,
 * so a command pays only for what it touches, and close() releases whatever was opened.
 */
export interface Runtime {
  readonly workspace: Workspace
  readonly environment: Environment
  /** The environment's database, opened and checked on first call. */
  database(): Promise<Database>
  close(): Promise<void>
}

/** Builds the runtime of one environment. */
export async function openRuntime(options: { workspace: Workspace; environment: Environment }): Promise<Runtime> {
  const { workspace, environment } = options
  let db: Promise<Database> | undefined
  return {
    workspace,
    environment,
    database: () => (db ??= openDatabase(environment.database, workspace.root)),
    async close() {
      if (db) await db.then((d) => d.close(), () => undefined)
    },
  }
}
