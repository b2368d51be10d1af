/**
 * The one service layer (DESIGN.md "The one idea"): every front door — local CLI, HTTP server, remote CLI
 * through the server — calls these, so a rule is written once.
 */
import type { Knex } from 'knex'
import { createApiKeysService, type ApiKeysService } from './apikeys/apikeys.service.js'
import { createOAuthClientsService, type OAuthClientsService } from './oauth/oauth-clients.service.js'
import { createSsoService, type SsoService } from './sso/sso.service.js'
import { localContext } from './context.js'
import { createAuditService, type AuditService } from './audit/audit.service.js'
import { createBackupsService, NO_BACKUP_LISTER, type BackupLister, type BackupsService } from './backups/backups.service.js'
import type { Clock } from './clock.js'
import { createFlagsService, type FlagsService } from './flags/flags.service.js'
import { createMaintenanceService, type MaintenanceService } from './maintenance/maintenance.service.js'
import type { BuiltinRuleRoutes } from './ratelimits/builtin-rules.js'
import type { RateLimitProbe } from './ratelimits/ratelimits.probe.js'
import { createRateLimitsService, type RateLimitsService } from './ratelimits/ratelimits.service.js'
import { createRolesService, type RolesService } from './roles/roles.service.js'
import type { AccessChange, AuthSettings } from './sessions/sessions.schema.js'
import { createSessionsService, type SessionsService } from './sessions/sessions.service.js'
import { createSigningKeysService, type SigningKeysService } from './sessions/signing-keys.service.js'
import { parseDuration } from './duration.js'
import { DEFAULT_LOCKOUT, type LockoutPolicy } from './users/login.js'
import type { LoginTimer } from './users/login-floor.js'
import { passwordPolicy, type PasswordPolicy } from './users/password-policy.js'
import { argon2Hasher, type PasswordHasher } from './users/passwords.js'
import { userDirectory } from './users/users.directory.js'
import { apiKeyDirectory } from './apikeys/apikeys.directory.js'
import { oauthClientDirectory } from './oauth/oauth-clients.directory.js'
import { createUsersService, type UsersService } from './users/users.service.js'
import { createUserExportService, type UserExportService } from './users/export.js'
import { createUserImportService, type UserImportService } from './users/import.js'
import type { DataKeyRing } from './encryption/data-keys.js'
import { createDelivery, WEBHOOK_WORKER_ACTOR, type DeliveryDeps, type DeliveryObserver } from './webhooks/delivery.js'
import { createEventOutbox } from './webhooks/outbox.js'
import { createAppEvents, type AppEvents } from './webhooks/app-events.js'
import { pruneMessages } from './webhooks/webhooks.repo.js'
import { CLEAN_UP_BATCH } from './jobs/job-queue.js'
import { createWebhooksService, type WebhooksService } from './webhooks/webhooks.service.js'
import { randomFraction } from './random.js'
import { createTtlCache } from './sessions/ttl-cache.js'
import { expiredTokenPruner } from './sessions/token-retention.js'

/** How long what an endpoint's creator may read is trusted: the 1 s within which taken rights reach every token. */
const ACCESS_TTL_MS = 1000

/** Who the worker's pruning of the audit log is recorded as. */
export const RETENTION_ACTOR = 'system:retention'

export interface ServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  /** Default: argon2id with the OWASP parameters. */
  readonly hasher?: PasswordHasher | undefined
  readonly passwordPolicy?: Partial<PasswordPolicy> | undefined
  readonly lockout?: Partial<LockoutPolicy> | undefined
  /** A refused login answers no sooner than this duration ('500ms'); default: measured from the password hashes in the database. */
  readonly loginFloor?: string | undefined
  /** What times refused logins (default: the monotonic clock and setTimeout); tests pass one that needs no real sleep. */
  readonly loginTimer?: LoginTimer | undefined
  /** The Gantry environment's name: API keys carry it, and only its keys verify (default: development). */
  readonly environmentName?: string | undefined
  /** The environment's token settings; without a secret, token use fails with AUTH_SECRET_MISSING. */
  readonly auth?: AuthSettings | undefined
  /** server.publicUrl: where the server is reached (the default base of single sign-on's redirect URIs). */
  readonly publicUrl?: string | undefined
  /** How long audit entries are kept (audit.retention: a duration, or `forever`; default 90d): `audit prune`'s default and the worker's. */
  readonly auditRetention?: string | undefined
  /** Who hears of a change of who may do what, after it committed (the runtime: Redis, to every instance). */
  readonly onAccessChanged?: ((change: AccessChange) => Promise<void>) | undefined
  /**
   * The front door's routes Gantry's built-in rate-limit rules name (the server's BUILTIN_RULE_ROUTES): the
   * core knows no path of its own, and every door — the CLI's `ratelimit list` too — shows the same rules.
   */
  readonly rateLimitRoutes: BuiltinRuleRoutes
  /** The environment's default rule (null: unlimited), who hears of rule changes, and what `ratelimit test` asks. */
  readonly rateLimits?:
    | {
        defaults: { limit: number; window: string; burst: number } | null
        notify?: ((version: number) => Promise<void>) | undefined
        probe?: RateLimitProbe | undefined
      }
    | undefined
  /** Feature flags: how old a temporary flag gets before it shows stale (default 30d), and who hears of changes. */
  readonly flags?: { staleAfter?: string | undefined; notify?: ((version: number) => Promise<void>) | undefined } | undefined
  /** Webhooks: the data keys that seal their secrets, how they are sent (the runtime's HTTP client), and the environment's settings. */
  readonly webhooks?: WebhookDeps | undefined
  /**
   * What lists the environment's backups (the runtime: src/db/backups.ts over backups.directory); the core
   * reads no file. Without it (a service test), listing fails saying so.
   */
  readonly backups?: BackupLister | undefined
}

export interface WebhookDeps {
  readonly keys: () => DataKeyRing | undefined
  readonly send: DeliveryDeps['send']
  readonly settings: DeliveryDeps['settings']
  readonly userAgent: string
}

/** Without a sender (a service test), nothing is sent: every attempt fails saying so. */
const NO_WEBHOOKS: WebhookDeps = {
  keys: () => undefined,
  send: () => Promise.resolve({ statusCode: null, latencyMs: 0, error: 'no webhook sender in this process', body: null, retryAfter: null }),
  settings: { attemptTimeoutMs: 15_000, disableAfterMs: 5 * 86_400_000, allowPrivateTargets: false, retentionMs: 30 * 86_400_000 },
  userAgent: 'Gantry-Webhooks',
}

export interface Services {
  readonly users: UsersService
  readonly roles: RolesService
  readonly audit: AuditService
  readonly apikeys: ApiKeysService
  readonly sessions: SessionsService
  /** OAuth clients of the client-credentials grant, and the token and revocation endpoints' work. */
  readonly oauthClients: OAuthClientsService
  /** Single sign-on with the identity providers of auth.sso.providers. */
  readonly sso: SsoService
  /** Token signing keys: under EdDSA listed, rotated and published as a JWKS (`jwks()`). */
  readonly signingKeys: SigningKeysService
  /** users import / export (streamed files). */
  readonly userImport: UserImportService
  readonly userExport: UserExportService
  /** Maintenance mode; `current()` is the server's per-request check. */
  readonly maintenance: MaintenanceService
  /** Rate-limit rules and overrides; `snapshot()` is what the limiter enforces. */
  readonly rateLimits: RateLimitsService
  readonly webhooks: WebhooksService
  /** Feature flags; evaluation happens in process from `snapshot()`. */
  readonly flags: FlagsService
  /** The backups in backups.directory, read (taking and restoring one are local commands on the database: src/db/backups.ts). */
  readonly backups: BackupsService
  /** The app's own events, through the library (createGantry's `events`). */
  readonly events: AppEvents
  /** What the worker cleans up now and then: each call deletes a batch (up to 1000 rows) of what `now` makes old, and says how many. */
  readonly housekeeping: ReadonlyArray<(now: number) => Promise<number>>
  /** The worker's handler of `webhook.deliver` jobs, reporting each outcome to `observe` (metrics). */
  deliverWebhook(observe?: DeliveryObserver): ReturnType<typeof createDelivery>
}

/** Builds every service over one database and clock. */
export function createServices(deps: ServiceDeps): Services {
  const { knex, clock } = deps
  const environmentName = deps.environmentName ?? 'development'
  const outbox = createEventOutbox({ environmentName })
  const audit = createAuditService({ knex, clock, outbox, retention: deps.auditRetention })
  // The callbacks run only after every service exists: sessions needs roles and users to be built first.
  const roles = createRolesService({
    knex,
    clock,
    audit,
    directory: userDirectory,
    permissionsChanged: () => sessions.accessChanged({ roles: true }),
  })
  const users = createUsersService({
    knex,
    clock,
    audit,
    roles,
    hasher: deps.hasher ?? argon2Hasher(),
    passwordPolicy: passwordPolicy(deps.passwordPolicy),
    lockout: { ...DEFAULT_LOCKOUT, ...deps.lockout },
    loginTiming: { floorMs: deps.loginFloor === undefined ? undefined : parseDuration(deps.loginFloor), timer: deps.loginTimer },
    accessChanged: (userId) => sessions.accessChanged({ userId }),
  })
  const userImport = createUserImportService({ knex, clock, audit, roles })
  const userExport = createUserExportService({ knex })
  const apikeys = createApiKeysService({ knex, clock, audit, roles, directory: userDirectory, environmentName })
  const signingKeys = createSigningKeysService({ knex, clock, audit, auth: deps.auth, environmentName })
  const sessions = createSessionsService({
    knex,
    clock,
    audit,
    roles,
    users,
    directory: userDirectory,
    auth: deps.auth,
    signingKeys,
    environmentName,
    onAccessChanged: deps.onAccessChanged,
  })
  const oauthClients = createOAuthClientsService({
    knex,
    clock,
    audit,
    roles,
    directory: userDirectory,
    environmentName,
    accessTokens: () => sessions.accessTokens(),
  })
  const ssoProviders = deps.auth?.sso?.providers ?? []
  const sso = createSsoService({
    knex,
    clock,
    audit,
    directory: userDirectory,
    users,
    sessions,
    providers: ssoProviders,
    publicUrl: deps.publicUrl,
  })
  const maintenance = createMaintenanceService({ knex, clock, audit })
  const rateLimits = createRateLimitsService({
    knex,
    clock,
    audit,
    directory: userDirectory,
    apiKeys: apiKeyDirectory,
    oauthClients: oauthClientDirectory,
    // The sign-on rule only where a provider is configured: elsewhere the routes refuse at once and the rule would be noise in every list.
    routes: ssoProviders.length > 0 ? deps.rateLimitRoutes : { ...deps.rateLimitRoutes, sso: undefined },
    defaults: deps.rateLimits?.defaults ?? null,
    notify: deps.rateLimits?.notify,
    probe: deps.rateLimits?.probe,
  })
  const hooks = deps.webhooks ?? NO_WEBHOOKS
  const webhooks = createWebhooksService({ knex, clock, audit, environmentName, keys: hooks.keys, delivery: hooks })
  /**
   * What an actor may do now: the worker asks it of each endpoint's creator before each delivery. Read again
   * after ACCESS_TTL_MS at most, the bound within which rights taken away reach every token (DESIGN.md).
   */
  const permissionsOf = createTtlCache<string, readonly string[]>({
    clock,
    ttlMs: ACCESS_TTL_MS,
    async read(actor) {
      const colon = actor.indexOf(':')
      const [kind, id] = [actor.slice(0, colon), actor.slice(colon + 1)]
      if (kind === 'local' || actor === WEBHOOK_WORKER_ACTOR) return ['*']
      if (kind === 'apikey') return apikeys.scopesNow(id)
      if (kind === 'client') return oauthClients.scopesNow(id)
      if (kind !== 'user' || !/^\d{1,15}$/.test(id)) return []
      const user = await userDirectory.byId(knex, Number(id))
      return user?.status === 'active' ? ((await roles.permissionsOf(knex, user.role)) ?? []) : []
    },
  })
  const deliverWebhook = (observe?: DeliveryObserver) =>
    createDelivery({ knex, clock, audit, permissionsOf: (actor) => permissionsOf.get(actor), random: randomFraction, ...hooks, observe })
  const events = createAppEvents({ knex, clock, outbox })
  const flags = createFlagsService({ knex, clock, audit, staleAfter: deps.flags?.staleAfter ?? '30d', notify: deps.flags?.notify })
  const backups = createBackupsService({ lister: deps.backups ?? NO_BACKUP_LISTER })
  // What the core's own settings bound; the worker adds what needs more than the core (migration runs: src/worker/housekeeping.ts).
  const housekeeping = [
    (now: number) => pruneMessages(knex, now - hooks.settings.retentionMs, CLEAN_UP_BATCH),
    expiredTokenPruner(knex, deps.auth, CLEAN_UP_BATCH),
    // Past audit.retention, in batches, with one `audit.pruned` entry per pass that deleted any (nothing under `forever`).
    async () => (await audit.prune(localContext(RETENTION_ACTOR))).count,
  ]
  return {
    users,
    roles,
    audit,
    userImport,
    userExport,
    apikeys,
    sessions,
    oauthClients,
    sso,
    signingKeys,
    maintenance,
    rateLimits,
    webhooks,
    flags,
    backups,
    events,
    deliverWebhook,
    housekeeping,
  }
}
