import type { AdminApi } from './admin/admin-api.js'
import type { createWebhookSender } from './client/webhook-sender.js'
import type { Environment } from './config/schema.js'
import type { Workspace } from './config/workspace.js'
import type { Services } from './core/services.js'
import type { AccessChange } from './core/sessions/sessions.schema.js'
import { openDatabase, type Database } from './db/connect.js'
import { describeQueryFailure } from './db/errors.js'
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RateLimitStore } from './ratelimit/index.js'
import { BUILTIN_RULE_ROUTES } from './server/builtin-routes.js'
import { errorFields, STORE_WARN_EVERY_MS, throttled } from './throttle.js'

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
   * Where rate-limit budgets live: the environment's Redis, shared by every instance (its calls fail fast
   * while it is unreachable; each rule's onStoreError decides, and the failures are logged), or this
   * process's memory when it has none.
   */
  rateLimitStore(): Promise<RateLimitStore>
  /** Calls `onChange` whenever a rate-limit change is announced on Redis (none without Redis); returns the unsubscribe. */
  subscribeRateLimitChanges(onChange: () => void): Promise<() => void>
  /** Calls `onChange` whenever a feature-flag change is announced on Redis (none without Redis); returns the unsubscribe. */
  subscribeFlagChanges(onChange: () => void): Promise<() => void>
  /** Calls `onChange` with each change of who may do what that another instance (or a command) announced; none without Redis. */
  subscribeAccessChanges(onChange: (change: AccessChange) => void): Promise<() => void>
  /** JSON logs (pino) on stdout at the environment's level; credentials are redacted wherever they appear. */
  logger(): Promise<Logger>
  /** Closes what was opened; once (later calls wait for the first). A hung database can make it wait: bound it where that matters. */
  close(): Promise<void>
}

/** Where the webhook sender goes while it is open (its keep-alive sockets are closed with the runtime). */
type WebhookSenderHandle = ReturnType<typeof createWebhookSender>

/** Fields that may hold a credential, wherever a log call puts them: never written out. */
const REDACTED_LOG_PATHS = [
  'password',
  'token',
  'refreshToken',
  'accessToken',
  'secret',
  'apiKey',
  '*.password',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.secret',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
]

/** A rate-limit decision waits at most this long for Redis before its rule's onStoreError decides. */
const STORE_COMMAND_TIMEOUT_MS = 100
/**
 * The store's client's own command timeout: only a backstop that releases commands a silent Redis never
 * answers. Decisions keep to STORE_COMMAND_TIMEOUT_MS through the store, whose deadline (unlike the
 * client's timer) still takes a reply that arrived while the event loop was busy.
 */
const STORE_CLIENT_BACKSTOP_MS = 10 * STORE_COMMAND_TIMEOUT_MS
/** Where rule changes are announced: every instance reloads its rules on a message (its poll is the fallback). */
const CHANGES_CHANNEL = 'gantry:rl:changed'
/** Where feature-flag changes are announced: every instance reloads its snapshot (its poll is the fallback). */
const FLAGS_CHANNEL = 'gantry:flags:changed'
/**
 * Where changes of who may do what are announced: a user's id (sessions ended, disabled, new role …) or
 * `roles` (a role's permissions changed); every instance drops what it cached of them. The channel keeps its
 * first name, and user messages their bare form, so instances of an older release still hear them.
 */
const ACCESS_CHANNEL = 'gantry:sessions:ended'
const ROLES_MESSAGE = 'roles'

/** An AccessChange as a message on ACCESS_CHANNEL, and back (undefined for anything else). */
const encodeAccessChange = (change: AccessChange): string => ('userId' in change ? String(change.userId) : ROLES_MESSAGE)
function decodeAccessChange(message: string): AccessChange | undefined {
  if (message === ROLES_MESSAGE) return { roles: true }
  const userId = Number(message)
  return message !== '' && Number.isSafeInteger(userId) ? { userId } : undefined
}

/**
 * The rate-limit store's own Redis client: decisions time out fast (the store's deadline), commands are
 * never queued while disconnected (a decision fails, and so fails open, instead of waiting), and it
 * reconnects by itself for as long as it runs. It is connected before the first request; an unreachable
 * Redis is logged, not fatal.
 */
async function openRateLimitRedis(url: string, onError: (err: unknown) => void): Promise<Redis | Cluster> {
  const { createRedisClient } = await import('./db/redis.js')
  const client = await createRedisClient(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: STORE_CLIENT_BACKSTOP_MS,
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

/** Where a runtime's log lines go: a standard stream as JSON lines, or a sink that takes each line (serve's pretty log). */
export type LogTarget = 'stdout' | 'stderr' | { write(line: string): void }

/** Builds the runtime of one environment. */
export async function openRuntime(options: {
  workspace: Workspace
  environment: Environment
  /** Where log lines go: stdout for `serve` (its output is the log), stderr for every other command (stdout is its result). */
  logTo?: LogTarget
  /** A logger of the caller's own (an app's, through createGantry): used instead of opening one. */
  logger?: Logger | undefined
}): Promise<Runtime> {
  const { workspace, environment } = options
  let db: Promise<Database> | undefined
  let services: Promise<Services> | undefined
  let store: Promise<RateLimitStore> | undefined
  let logger: Promise<Logger> | undefined
  let redis: Promise<Redis | Cluster> | undefined
  const subscribers = new Set<Redis | Cluster>()
  let closing: Promise<void> | undefined
  let webhookSender: Promise<WebhookSenderHandle> | undefined
  const database = (): Promise<Database> => (db ??= openDatabase(environment.database, workspace.root, { knexSetup: workspace.knexSetup }))
  /** The rate-limit client, opened once (rateLimitStore, announcements and subscriptions share it). */
  const rateLimitRedis = (url: string): Promise<Redis | Cluster> =>
    (redis ??= runtime.logger().then((log) =>
      openRateLimitRedis(
        url,
        throttled((err) => log.warn({ err: errorFields(err) }, 'rate-limit Redis connection error; retrying'), STORE_WARN_EVERY_MS),
      ),
    ))
  /**
   * Announces a committed change: a rule change (a lost one costs at most one poll interval) or the end of
   * a user's access (a lost one, at most the access cache's second), so failures are let go.
   */
  const announce = async (channel: string, message: string): Promise<void> => {
    if (environment.redis === null) return
    const { publishOnce } = await import('./db/redis.js')
    await publishOnce(environment.redis, channel, message).catch(() => undefined)
  }
  /** Calls `onMessage` with each message on `channel`; returns the unsubscribe. */
  const subscribe = async (channel: string, onMessage: (message: string) => void): Promise<() => void> => {
    if (environment.redis === null) return () => undefined
    // A subscribed connection serves nothing else: its own, with the same fail-fast options, reconnecting by itself.
    const [client, log] = await Promise.all([rateLimitRedis(environment.redis), runtime.logger()])
    // ioredis's own resubscription after a reconnect has no catch: a Redis that stalls right then (its
    // command times out) would end the process through an unhandled rejection. Ours, below, has one.
    const subscriber: Redis | Cluster = client.isCluster ? (client as Cluster).duplicate() : (client as Redis).duplicate({ autoResubscribe: false })
    subscribers.add(subscriber)
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) onMessage(message)
    })
    // The store's client reports connection trouble; this one would only repeat it.
    subscriber.on('error', () => undefined)
    // Subscribe on every (re)connection: one that failed while Redis was away is made once it is back, and
    // in between the fallback covers (the rules' poll, the access cache's second). Without an offline
    // queue a command before `ready` would fail.
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).catch((err: unknown) => log.debug({ err: errorFields(err), channel }, 'subscribing failed; retried on the next connection'))
    })
    await subscriber.connect().catch(() => undefined)
    return () => {
      subscribers.delete(subscriber)
      subscriber.disconnect()
    }
  }
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
        const client = await rateLimitRedis(environment.redis)
        // Not needed to decide, only to decide in time from the first request: a Redis away now is logged by the client.
        await ratelimit.preloadScripts(client).catch(() => undefined)
        return ratelimit.createRedisStore({ redis: client, timeoutMs: STORE_COMMAND_TIMEOUT_MS })
      })),
    subscribeRateLimitChanges: (onChange) => subscribe(CHANGES_CHANNEL, () => onChange()),
    subscribeFlagChanges: (onChange) => subscribe(FLAGS_CHANNEL, () => onChange()),
    subscribeAccessChanges: (onChange) =>
      subscribe(ACCESS_CHANNEL, (message) => {
        const change = decodeAccessChange(message)
        if (change) onChange(change)
      }),
    logger: () =>
      (logger ??= options.logger
        ? Promise.resolve(options.logger)
        : import('pino').then(({ default: pino }) =>
            pino(
              {
                level: environment.log.level,
                base: { env: environment.name },
                redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
              },
              // A command's warnings are written at once: it may exit right after.
              typeof options.logTo === 'object' ? options.logTo : options.logTo === 'stdout' ? pino.destination(1) : pino.destination({ dest: 2, sync: true }),
            ),
          )),
    // The service layer (argon2, every schema) loads only for the commands that use it: migrate and env
    // commands start without it.
    services: () =>
      (services ??= Promise.all([
        database(),
        import('./core/services.js'),
        import('./core/clock.js'),
        import('./core/encryption/data-keys.js'),
        import('./core/duration.js'),
        import('./package-root.js'),
      ]).then(([d, core, clock, dataKeys, duration, pkg]) => {
        const { webhooks } = environment
        let keys: ReturnType<typeof dataKeys.parseDataKeys> | null = null
        return core.createServices({
          knex: d.knex,
          clock: clock.systemClock,
          rateLimitRoutes: BUILTIN_RULE_ROUTES,
          environmentName: environment.name,
          auth: environment.auth,
          publicUrl: environment.server.publicUrl || undefined,
          auditRetention: environment.audit.retention,
          onAccessChanged: (change) => announce(ACCESS_CHANNEL, encodeAccessChange(change)),
          passwordPolicy: { minLength: environment.auth.passwordMinLength },
          lockout: { maxFailures: environment.auth.lockout.maxFailures, lockMinutes: environment.auth.lockout.minutes },
          loginFloor: environment.auth.loginFloor,
          rateLimits: {
            defaults: environment.rateLimits.default,
            notify: (version) => announce(CHANGES_CHANNEL, String(version)),
            // `ratelimit test` reads the environment's store; it opens on the first test, not for every command.
            probe: {
              shared: environment.redis !== null,
              explain: async (snapshot, request) => {
                const [ratelimit, store] = await Promise.all([import('./ratelimit/index.js'), runtime.rateLimitStore()])
                return ratelimit.createProbe({ store, shared: environment.redis !== null, clock: clock.systemClock }).explain(snapshot, request)
              },
            },
          },
          flags: { staleAfter: environment.flags.staleAfter, notify: (version) => announce(FLAGS_CHANNEL, String(version)) },
          // What `db backups list` reads, for the admin API: loaded on the first listing, not for every command.
          backups: {
            list: async () => {
              const { backupDirectory, listBackups } = await import('./db/backups.js')
              const directory = backupDirectory(environment, workspace.root)
              return { directory, data: await listBackups(directory) }
            },
          },
          webhooks: {
            // Parsed on first use: a malformed key fails the commands that seal or open a secret, not every command.
            keys: () => (keys ??= dataKeys.parseDataKeys(environment.encryptionKey) ?? null) ?? undefined,
            send: async (request) => {
              webhookSender ??= import('./client/webhook-sender.js').then((m) => m.createWebhookSender({ allowPrivateTargets: webhooks.allowPrivateTargets }))
              return (await webhookSender).send(request)
            },
            settings: {
              attemptTimeoutMs: duration.parseDuration(webhooks.attemptTimeout),
              disableAfterMs: duration.parseDuration(webhooks.disableAfter),
              retentionMs: duration.parseDuration(webhooks.retention),
              allowPrivateTargets: webhooks.allowPrivateTargets,
            },
            userAgent: `Gantry-Webhooks/${pkg.packageVersion()}`,
          },
        })
      })),
    async admin() {
      const [services, { createLocalAdmin }, { localContext }, { localActor }] = await Promise.all([
        runtime.services(),
        import('./admin/local-admin.js'),
        import('./core/context.js'),
        import('./local-actor.js'),
      ])
      // A database without Gantry's tables fails with the driver's "no such table", a write that waited too
      // long for a lock with the driver's "busy": say what happened and what to do.
      return createLocalAdmin(services, localContext(localActor()), (err) => describeQueryFailure(err, environment.name) ?? err)
    },
    close: () =>
      (closing ??= (async () => {
        // Redis first: it never waits (nothing is queued without an offline queue), and it stops reconnecting.
        for (const subscriber of subscribers) subscriber.disconnect()
        if (webhookSender) (await webhookSender).close()
        if (redis)
          await redis.then(
            (client) => client.disconnect(),
            () => undefined,
          )
        if (db)
          await db.then(
            (d) => d.close(),
            () => undefined,
          )
      })()),
  }
  return runtime
}
