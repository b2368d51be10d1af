import type { RawConfig, RawEnvironment } from './schema.js'

/** The environments every workspace has, even when gantry.config.json does not list them. */
export const BUILTIN_ENVIRONMENTS = ['development', 'staging', 'production'] as const

/** The environment used when neither --env nor GANTRY_ENV names one. */
export const DEFAULT_ENVIRONMENT = 'development'

const common = {
  redis: '${REDIS_URL:-}',
  protected: false,
  remote: false,
  server: {
    port: '${PORT:-3000}',
    host: '0.0.0.0',
    publicUrl: '${GANTRY_URL:-}',
    trustProxy: false,
    corsOrigins: [],
    bodyLimit: '100kb',
    drainDelay: '5s',
    shutdownTimeout: '30s',
    console: true,
  },
  auth: {
    secret: '${GANTRY_AUTH_SECRET:-}',
    algorithm: 'HS256',
    issuer: 'gantry',
    audience: 'gantry',
    accessTokenTtl: '15m',
    refreshTokenTtl: '30d',
    maxTokenTtl: '24h',
    passwordMinLength: 12,
    expiredTokenRetention: '7d',
    lockout: { maxFailures: 5, minutes: 15 },
    sso: { providers: [] },
    passwordLogin: true,
  },
  encryptionKey: '${GANTRY_ENCRYPTION_KEY:-}',
  webhooks: { allowPrivateTargets: false, attemptTimeout: '15s', disableAfter: '5d', maxDueAge: '5m', retention: '30d' },
  jobs: { concurrency: 16, leaseTimeout: '60s', retention: '7d' },
  audit: { retention: '90d' },
  flags: { staleAfter: '30d' },
  backups: { directory: '.gantry/backups', key: '${GANTRY_BACKUP_KEY:-}', programs: {}, keep: { daily: 7, weekly: 4 } },
} satisfies RawEnvironment

/**
 * Built-in defaults per environment (DESIGN.md): development is unlimited on SQLite and memory;
 * staging 500/min burst 100; production 100/min burst 20 and protected.
 */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<string, RawEnvironment>> = {
  development: {
    database: '${DATABASE_URL:-sqlite:./.gantry/development.sqlite3}',
    ...common,
    // A developer's Ctrl-C should not wait for a load balancer that is not there.
    server: { ...common.server, host: '127.0.0.1', publicUrl: '${GANTRY_URL:-http://127.0.0.1:3000}', drainDelay: '0s' },
    // Receivers under development run on this machine.
    webhooks: { ...common.webhooks, allowPrivateTargets: true },
    rateLimits: { default: null },
    log: { level: 'debug' },
  },
  staging: {
    database: '${DATABASE_URL}',
    ...common,
    rateLimits: { default: { limit: 500, window: '1m', burst: 100 } },
    log: { level: 'info' },
  },
  production: {
    database: '${DATABASE_URL}',
    ...common,
    protected: true,
    rateLimits: { default: { limit: 100, window: '1m', burst: 20 } },
    log: { level: 'warn' },
  },
}

/** Defaults for an environment that is not built in (created with `gantry env create`). */
export const CUSTOM_ENVIRONMENT_DEFAULTS: RawEnvironment = {
  database: '${DATABASE_URL}',
  ...common,
  rateLimits: { default: null },
  log: { level: 'info' },
}

/** Workspace-level defaults. */
export const WORKSPACE_DEFAULTS = {
  migrations: { directory: 'migrations', tableName: 'knex_migrations', extension: 'ts', transaction: 'each', runRetention: '365d' },
  seeds: { directory: 'seeds' },
} as const satisfies RawConfig
