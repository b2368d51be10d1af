import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { manualClock } from '../../src/core/clock.js'
import { localContext, type ActorContext } from '../../src/core/context.js'
import { createServices, type ServiceDeps, type Services } from '../../src/core/services.js'
import { openDatabase, type Database } from '../../src/db/connect.js'
import { createMigrator } from '../../src/db/migrator/index.js'
import { BUILTIN_RULE_ROUTES } from '../../src/server/builtin-routes.js'
import type { Dialect } from '../../src/db/url.js'
import { createTestDatabase, type TestDatabase } from './services.js'

/** A migrated database of one dialect with the services on a manual clock, as a local operator. */
export interface IdentityFixture {
  readonly db: Database
  readonly clock: ReturnType<typeof manualClock>
  readonly services: Services
  readonly ctx: ActorContext
  cleanup(): Promise<void>
}

export const STRONG = 'plenty long passphrase 1'

/** Opens a fresh database, applies Gantry's migrations and builds the services. */
export async function identityFixture(dialect: Dialect, deps: Partial<ServiceDeps> = {}): Promise<IdentityFixture> {
  const testDb: TestDatabase = await createTestDatabase(dialect)
  const root = mkdtempSync(join(tmpdir(), 'gantry-id-'))
  const db = await openDatabase(testDb.url, root)
  await createMigrator({ db, appDirectory: join(root, 'migrations'), appTable: 'knex_migrations', actor: 'test' }).latest()
  const clock = manualClock()
  return {
    db,
    clock,
    services: createServices({ knex: db.knex, clock, ...deps, rateLimitRoutes: deps.rateLimitRoutes ?? BUILTIN_RULE_ROUTES }),
    ctx: localContext('local:test@host'),
    async cleanup() {
      await db.close()
      await testDb.drop()
      rmSync(root, { recursive: true, force: true })
    },
  }
}
