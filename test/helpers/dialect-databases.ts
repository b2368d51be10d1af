/**
 * Fresh databases of every dialect for reliability scenarios, none on the machine's shared services: a
 * SQLite file in a temporary folder, or a database on a private MariaDB / PostgreSQL server that is started
 * on first use (private-databases.ts) and stopped by stop().
 */
import { createTestDatabase, type TestDatabase } from './services.js'
import { startPrivateDatabase, type PrivateDatabaseServer, type PrivateDialect } from './private-databases.js'
import type { Dialect } from '../../src/db/url.js'

export interface DialectDatabases {
  /** A new, empty database of `dialect`. */
  create(dialect: Dialect): Promise<TestDatabase>
  /** The private server of `dialect`, started if it is not yet. */
  server(dialect: PrivateDialect): Promise<PrivateDatabaseServer>
  /** Stops the private servers this started (their databases go with their data directories). */
  stop(): Promise<void>
}

/** Databases on private servers of this scenario's own. */
export function dialectDatabases(): DialectDatabases {
  const servers = new Map<PrivateDialect, Promise<PrivateDatabaseServer>>()
  const server = (dialect: PrivateDialect): Promise<PrivateDatabaseServer> => {
    let started = servers.get(dialect)
    if (!started) {
      started = startPrivateDatabase(dialect)
      servers.set(dialect, started)
    }
    return started
  }
  return {
    server,
    // createTestDatabase makes a SQLite file of its own and never touches a shared server for it.
    create: async (dialect) => (dialect === 'sqlite' ? createTestDatabase('sqlite') : (await server(dialect)).createDatabase()),
    async stop() {
      const running = [...servers.values()]
      servers.clear()
      await Promise.all(running.map(async (s) => (await s.catch(() => undefined))?.stop()))
    },
  }
}
