import type { AdminApi } from './admin/admin-api.js'
import type { Environment } from './config/schema.js'
import type { Workspace } from './config/workspace.js'
import type { Services } from './core/services.js'
import { openDatabase, type Database } from './db/connect.js'
import type { Logger } from 'pino'
import type { RateLimitStore } from './ratelimit/index.js'

/**
 * The composition root: the one place that opens clients for an environment. Clients open on first use,
 * so a command pays only for what it touches, and close() releases whatever was opened.
 */
export interface Runtime {
  readonly workspace: Workspace
  readonly environment: Environment
  /** The environment's database, opened and checked on first call. */
  database(): Promise<Database>
  /** The service layer over the environment's database (system clock, argon2id hasher). */
  services(): Promise<Services>
  /** The AdminApi acting locally as `local:<os user>@<host>` with full permissions. */
  admin(): Promise<AdminApi>
  /** Round trip to the environment's Redis in ms, or null when it has none (the in-memory store). */
  pingRedis(): Promise<number | null>
  /** Where rate-limit budgets live: in this process's memory (the Redis store joins with shared limits). */
  rateLimitStore(): Promise<RateLimitStore>
  /** JSON logs (pino) on stdout at the environment's level; credentials are redacted wherever they appear. */
  logger(): Promise<Logger>
  close(): Promise<void>
}

/** Fields that may hold a credential, wherever a log call puts them: never written out. */
const REDACTED_LOG_PATHS = ['password', 'token', 'refreshToken', 'accessToken', 'secret', 'apiKey', '*.password', '*.token', '*.refreshToken', '*.accessToken', '*.secret', '*.apiKey', 'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie']

/** Builds the runtime of one environment. */
export async function openRuntime(options: { workspace: Workspace; environment: Environment }): Promise<Runtime> {
  const { workspace, environment } = options
  let db: Promise<Database> | undefined
  let services: Promise<Services> | undefined
  let store: Promise<RateLimitStore> | undefined
  let logger: Promise<Logger> | undefined
  const database = (): Promise<Database> => (db ??= openDatabase(environment.database, workspace.root))
  const runtime: Runtime = {
    workspace,
    environment,
    database,
    async pingRedis() {
      if (environment.redis === null) return null
      const { pingRedis } = await import('./db/redis.js')
      return pingRedis(environment.redis)
    },
    rateLimitStore: () =>
      (store ??= Promise.all([import('./ratelimit/index.js'), import('./core/clock.js')]).then(([ratelimit, clock]) => ratelimit.createMemoryStore({ clock: clock.systemClock }))),
    logger: () =>
      (logger ??= import('pino').then(({ default: pino }) =>
        pino({
          level: environment.log.level,
          base: { env: environment.name },
          redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
        }),
      )),
    // The service layer (argon2, every schema) loads only for the commands that use it: migrate and env
    // commands start without it.
    services: () =>
      (services ??= Promise.all([database(), import('./core/services.js'), import('./core/clock.js')]).then(([d, core, clock]) =>
        core.createServices({
          knex: d.knex,
          clock: clock.systemClock,
          environmentName: environment.name,
          auth: environment.auth,
          passwordPolicy: { minLength: environment.auth.passwordMinLength },
          lockout: { maxFailures: environment.auth.lockout.maxFailures, lockMinutes: environment.auth.lockout.minutes },
        }),
      )),
    async admin() {
      const [services, { createLocalAdmin }, { localContext }, { localActor }] = await Promise.all([
        runtime.services(),
        import('./admin/local-admin.js'),
        import('./core/context.js'),
        import('./local-actor.js'),
      ])
      return createLocalAdmin(services, localContext(localActor()))
    },
    async close() {
      if (db) await db.then((d) => d.close(), () => undefined)
    },
  }
  return runtime
}
