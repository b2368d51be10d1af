import type { AdminApi } from './admin/admin-api.js'
import type { Environment } from './config/schema.js'
import type { Workspace } from './config/workspace.js'
import type { Services } from './core/services.js'
import { openDatabase, type Database } from './db/connect.js'
import type { Redis } from 'ioredis'
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
  /**
   * Where rate-limit budgets live: the environment's Redis, shared by every instance (failing open while it
   * is unreachable, logged), or this process's memory when it has none.
   */
  rateLimitStore(): Promise<RateLimitStore>
  /** JSON logs (pino) on stdout at the environment's level; credentials are redacted wherever they appear. */
  logger(): Promise<Logger>
  close(): Promise<void>
}

/** Fields that may hold a credential, wherever a log call puts them: never written out. */
const REDACTED_LOG_PATHS = ['password', 'token', 'refreshToken', 'accessToken', 'secret', 'apiKey', '*.password', '*.token', '*.refreshToken', '*.accessToken', '*.secret', '*.apiKey', 'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie']

/** Store failures and Redis connection errors are logged at most this often (each a storm while Redis is down). */
const STORE_WARN_EVERY_MS = 10_000
/** A rate-limit decision waits at most this long for Redis before failing open. */
const STORE_COMMAND_TIMEOUT_MS = 100

/** `report` at most once per `everyMs`; the calls skipped in between are counted into the next one. */
function throttled(report: (err: unknown, suppressed: number) => void, everyMs: number): (err: unknown) => void {
  let last = Number.NEGATIVE_INFINITY
  let suppressed = 0
  return (err) => {
    const now = Date.now()
    if (now - last < everyMs) {
      suppressed += 1
      return
    }
    last = now
    report(err, suppressed)
    suppressed = 0
  }
}

const errorFields = (err: unknown) => (err instanceof Error ? { type: err.name, message: err.message } : { message: String(err) })

/**
 * The rate-limit store's own Redis client: commands time out fast and are never queued while disconnected
 * (a decision fails, and so fails open, instead of waiting), and it reconnects by itself for as long as it
 * runs. It is connected before the first request; an unreachable Redis is logged, not fatal.
 */
async function openRateLimitRedis(url: string, onError: (err: unknown) => void): Promise<Redis> {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: STORE_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    disconnectTimeout: 100,
  })
  // Without a listener ioredis would print every connection error; an 'error' event never throws.
  client.on('error', onError)
  await client.connect().catch(onError)
  return client
}

/** Builds the runtime of one environment. */
export async function openRuntime(options: { workspace: Workspace; environment: Environment }): Promise<Runtime> {
  const { workspace, environment } = options
  let db: Promise<Database> | undefined
  let services: Promise<Services> | undefined
  let store: Promise<RateLimitStore> | undefined
  let logger: Promise<Logger> | undefined
  let redis: Redis | undefined
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
      (store ??= Promise.all([import('./ratelimit/index.js'), import('./core/clock.js')]).then(async ([ratelimit, clock]) => {
        if (environment.redis === null) return ratelimit.createMemoryStore({ clock: clock.systemClock })
        const log = await runtime.logger()
        redis = await openRateLimitRedis(environment.redis, throttled((err) => log.warn({ err: errorFields(err) }, 'rate-limit Redis connection error; retrying'), STORE_WARN_EVERY_MS))
        const warn = throttled((err, suppressed) => log.warn({ err: errorFields(err), suppressed }, 'rate-limit store unavailable: admitting requests unchecked (fail open)'), STORE_WARN_EVERY_MS)
        return ratelimit.failOpen(ratelimit.createRedisStore({ redis }), (err) => warn(err))
      })),
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
      // Stops reconnecting too; nothing is queued (no offline queue), so nothing is lost.
      redis?.disconnect()
    },
  }
  return runtime
}
