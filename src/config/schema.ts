import { z } from 'zod'
import { parseDuration as durationMs, MAX_DURATION_MESSAGE, withinMaxDuration } from '../core/duration.js'
import { scheduleProblem } from '../core/schedules/cron.js'
import { ssoProviderFileSchema, ssoProviderSchema } from '../core/sso/sso-config.js'
import { emailSchema } from '../core/users/users.schema.js'

/**
 * gantry.config.json, described once. The file may hold `${VAR}` references in any value; numbers and
 * booleans then arrive as strings, so those fields coerce a resolved string. The same schema validates
 * the raw file (references left as they are) and the interpolated environment.
 */

const TEMPLATE = /\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/

/** A number field that may also be written as a `${VAR}` reference; one message for both branches. */
const templatable = <T extends z.ZodType>(schema: T) =>
  z.union([schema, z.string().regex(TEMPLATE, { error: (issue) => expectedNumber(issue.input) })], {
    error: (issue) => expectedNumber(issue.input),
  })

const expectedNumber = (input: unknown): string => `expected a number or a \${VAR} reference, received ${JSON.stringify(input)}`

export const ENV_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/
export const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 500ms, 30s, 1m, 12h or 30d')
  .refine(withinMaxDuration, MAX_DURATION_MESSAGE)

/** How long kept records live: a duration, or `forever`. */
export const retentionSchema = z.union([durationSchema, z.literal('forever')])

export const rateLimitDefaultSchema = z
  .object({
    limit: templatable(z.number().int().positive()),
    window: durationSchema,
    burst: templatable(z.number().int().min(1)),
  })
  .strict()

export const environmentSchema = z
  .object({
    database: z.string().min(1).describe('Database URL: sqlite:./file.sqlite3, mysql://…, postgres://…').optional(),
    redis: z
      .string()
      .min(1)
      .nullable()
      .describe('Redis URL (redis://, rediss://, redis+sentinel://host:26379/master, redis+cluster://host:7000,host:7001), or null for the in-memory store')
      .optional(),
    protected: z.boolean().describe('Destructive commands need --force or a typed confirmation').optional(),
    remote: z
      .boolean()
      .describe('Admin commands go through the server API (server.publicUrl) with the credentials of `gantry login`, as with --remote')
      .optional(),
    server: z
      .object({
        port: templatable(z.number().int().min(0).max(65535)).optional(),
        host: z.string().optional(),
        publicUrl: z.string().describe("Where the CLI reaches this environment's server: health, login, --remote").optional(),
        trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string()]).optional(),
        corsOrigins: z.array(z.string()).optional(),
        bodyLimit: z
          .string()
          .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 100kb or 1mb')
          .optional(),
        drainDelay: durationSchema.describe('On SIGTERM: how long readiness answers 503 before the listener closes (default 5s)').optional(),
        shutdownTimeout: durationSchema.describe('After the listener closes: how long in-flight requests may take (default 30s)').optional(),
        console: z.boolean().describe('Serve the admin console at /console (default true)').optional(),
      })
      .strict()
      .optional(),
    auth: z
      .object({
        secret: z.string().optional().describe('Token signing secret; write a ${VAR} reference, never the value'),
        algorithm: z
          .enum(['HS256', 'EdDSA'])
          .describe(
            'Access-token signature: HS256 with the secret (default), or EdDSA with rotatable Ed25519 keys published as a JWKS (their private halves are sealed under the secret)',
          )
          .optional(),
        issuer: z.string().optional(),
        audience: z.string().optional(),
        accessTokenTtl: durationSchema.optional(),
        refreshTokenTtl: durationSchema.optional(),
        maxTokenTtl: durationSchema
          .describe('Longest life of any access token (default 24h): `tokens issue --ttl` above it is refused, and so is a token whose exp - iat exceeds it')
          .optional(),
        loginFloor: durationSchema
          .describe('A failed login answers no sooner than this (default: measured from the slowest password hash family in the database)')
          .optional(),
        passwordMinLength: templatable(z.number().int().min(8).max(64)).describe('Shortest password accepted (8 to 64; default 12)').optional(),
        expiredTokenRetention: durationSchema
          .describe('Refresh tokens are deleted this long after they expired (default 7d); a revoked one stays until then, so its reuse is still caught')
          .optional(),
        lockout: z
          .object({
            maxFailures: templatable(z.number().int().min(1).max(100)).describe('Failed logins before an account locks (default 5)').optional(),
            minutes: templatable(z.number().int().min(1).max(1440)).describe('How long it stays locked (default 15)').optional(),
          })
          .strict()
          .optional(),
        sso: z
          .object({ providers: z.array(ssoProviderFileSchema).max(20).describe('OpenID Connect identity providers users may sign in with') })
          .strict()
          .describe('Single sign-on (docs/sso.md)')
          .optional(),
        passwordLogin: z
          .boolean()
          .describe(
            'false: no password sign-in through the API or the console, single sign-on only; the break-glass admin still signs in through the CLI on the database (default true)',
          )
          .optional(),
        breakGlass: z
          .string()
          .describe(
            'The email of the one admin who may sign in with a password where passwordLogin is false: `gantry login --break-glass`, on the database only, audited as sessions.break-glass',
          )
          .optional(),
      })
      .strict()
      .optional(),
    rateLimits: z
      .object({ default: rateLimitDefaultSchema.nullable().describe('null: unlimited').optional() })
      .strict()
      .optional(),
    encryptionKey: z
      .string()
      .describe(
        'Data key(s) that seal secrets at rest (webhook signing secrets): the base64 of 32 random bytes, several comma-separated while rotating (the first seals). Write a ${VAR} reference (default ${GANTRY_ENCRYPTION_KEY}), never the value',
      )
      .optional(),
    webhooks: z
      .object({
        allowPrivateTargets: z
          .boolean()
          .describe('Let endpoints reach loopback, private and link-local addresses (default: true in development only)')
          .optional(),
        attemptTimeout: durationSchema.describe('How long one delivery attempt may take (default 15s)').optional(),
        disableAfter: durationSchema.describe('An endpoint whose deliveries all fail for this long is switched off (default 5d)').optional(),
        maxDueAge: durationSchema.describe('Readiness warns when a due delivery has waited longer than this (default 5m)').optional(),
        retention: durationSchema
          .describe('Messages, their deliveries and attempts are deleted this long after they were sent, once none is pending (default 30d)')
          .optional(),
      })
      .strict()
      .optional(),
    jobs: z
      .object({
        concurrency: templatable(z.number().int().min(1).max(256)).describe('Jobs one worker runs at once (default 16)').optional(),
        leaseTimeout: durationSchema
          .describe('How long a worker holds a job it claimed; past it another worker takes the job over (default 60s, longer than any attempt)')
          .optional(),
        retention: durationSchema.describe('Finished jobs are deleted this long after they finished (default 7d)').optional(),
      })
      .strict()
      .optional(),
    audit: z
      .object({
        retention: retentionSchema
          .describe('Audit entries older than this are deleted by the worker and by `gantry audit prune` (default 90d; `forever` keeps them)')
          .optional(),
      })
      .strict()
      .optional(),
    flags: z
      .object({
        staleAfter: durationSchema.describe('A temporary feature flag shows as stale this long after it was created (default 30d)').optional(),
      })
      .strict()
      .optional(),
    backups: z
      .object({
        directory: z
          .string()
          .min(1)
          .describe('Where `gantry db backup` writes and `db backups list` looks (default .gantry/backups, from the workspace root)')
          .optional(),
        key: z
          .string()
          .describe(
            'The key that encrypts backups: the base64 of 32 random bytes. Write a ${VAR} reference (default ${GANTRY_BACKUP_KEY}), never the value; empty: backups are not encrypted',
          )
          .optional(),
        programs: z
          .object({
            pg_dump: z.string().optional(),
            pg_restore: z.string().optional(),
            'mariadb-dump': z.string().optional(),
            mariadb: z.string().optional(),
          })
          .strict()
          .describe('Absolute paths of the dump and restore programs to use instead of those found on PATH and in the system folders')
          .optional(),
        schedule: z
          .string()
          .superRefine((text, ctx) => {
            const problem = text.trim() === '' || text.includes('${') ? undefined : scheduleProblem(text)
            if (problem) ctx.addIssue({ code: 'custom', message: problem })
          })
          .describe(
            'A cron expression (five fields, UTC) on which the worker takes a backup, one instance at a time; empty: no scheduled backups (the default)',
          )
          .optional(),
        keep: z
          .object({
            daily: templatable(z.number().int().min(0).max(3660))
              .describe('Scheduled backups kept: the newest of each of this many days (default 7)')
              .optional(),
            weekly: templatable(z.number().int().min(0).max(520)).describe('… and of each of this many ISO weeks (default 4)').optional(),
          })
          .strict()
          .describe('Which scheduled backups the worker keeps after each one; backups taken by hand or before migrations are never deleted')
          .optional(),
        s3: z
          .object({
            bucket: z.string().min(3).max(63).describe('The bucket every backup is also uploaded to'),
            prefix: z.string().describe('Prepended to each file name (e.g. "gantry/production/")').optional(),
            region: z.string().min(1).describe('default: AWS_REGION, else us-east-1').optional(),
            endpoint: z.string().url().describe('An S3-compatible service (MinIO, R2, …): its URL; default: AWS S3').optional(),
            forcePathStyle: z.boolean().describe('Address the bucket in the path (most S3-compatible services need it)').optional(),
          })
          .strict()
          .describe(
            'S3-compatible storage: each backup is also uploaded there after it is written to backups.directory, retention deletes there what it deletes here, and `db restore s3://BUCKET/KEY` restores from it. Credentials come from the AWS SDK chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role), never from this file',
          )
          .optional(),
      })
      .strict()
      .optional(),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional() })
      .strict()
      .optional(),
  })
  .strict()

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).describe('The project name').optional(),
    migrations: z
      .object({
        directory: z.string().min(1).optional(),
        tableName: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a table name of letters, digits and underscores')
          .optional(),
        extension: z.enum(['ts', 'js']).optional(),
        shadowDatabase: z
          .string()
          .min(1)
          .describe(
            'MySQL/MariaDB or PostgreSQL: the URL (${VARS} allowed) of a database of its own where `migrate latest --dry-run` runs the batch; emptied before each use. Unset: a temporary one is created and dropped, when the user may create databases. See docs/migrations.md, "Dry run"',
          )
          .optional(),
        transaction: z
          .enum(['each', 'batch'])
          .describe(
            '`each` (default): every migration commits on its own, so a failure keeps those before it. `batch`: `migrate latest` and `rollback` run in one transaction (SQLite, PostgreSQL; refused on MySQL/MariaDB), as the knex CLI does; `--atomic` / `--no-atomic` choose per run. See docs/migrations.md',
          )
          .optional(),
        runRetention: retentionSchema
          .describe(
            'Records of migration runs older than this are deleted by the worker, except the latest run of each migration (default 365d; `forever` keeps them)',
          )
          .optional(),
      })
      .strict()
      .describe(
        "The app's migrations: folder, knex tracking table, file type of `gantry migrate make`, transaction per migration or per run, shadow database of the dry run",
      )
      .optional(),
    knex: z
      .string()
      .regex(/\.[cm]?[jt]s$/, 'expected a .js, .cjs, .mjs, .ts, .mts or .cts file')
      .describe(
        'A module customising every knex Gantry builds for this workspace (pool hooks, dialect patches, plugins), resolved from the workspace root: see docs/migrations.md',
      )
      .optional(),
    seeds: z
      .object({ directory: z.string().min(1).optional() })
      .strict()
      .optional(),
    environments: z
      .record(z.string().regex(ENV_NAME, 'expected an environment name of lower-case letters, digits and -'), environmentSchema)
      .describe('Named environments; development, staging and production exist even when not listed')
      .optional(),
  })
  .strict()

export type RawConfig = z.infer<typeof configSchema>
export type RawEnvironment = z.infer<typeof environmentSchema>

/** An environment after defaults and interpolation: every field present, numbers as numbers. */
export const resolvedEnvironmentFields = z.object({
  name: z.string(),
  database: z.string().min(1),
  redis: z.string().nullable(),
  protected: z.boolean(),
  remote: z.boolean(),
  server: z.object({
    port: z.coerce.number().int().min(0).max(65535),
    host: z.string(),
    /** Empty means not configured. */
    publicUrl: z
      .string()
      .optional()
      .transform((v) => v || undefined),
    trustProxy: z.union([z.boolean(), z.number(), z.string()]),
    corsOrigins: z.array(z.string()),
    bodyLimit: z.string(),
    drainDelay: durationSchema,
    shutdownTimeout: durationSchema,
    console: z.boolean(),
  }),
  auth: z
    .object({
      /** Empty means not configured: only the server needs it, and it says so when it starts. */
      secret: z
        .string()
        .optional()
        .transform((v) => v || undefined),
      algorithm: z.enum(['HS256', 'EdDSA']).default('HS256'),
      issuer: z.string(),
      audience: z.string(),
      accessTokenTtl: durationSchema,
      refreshTokenTtl: durationSchema,
      maxTokenTtl: durationSchema,
      /** Unset: measured from the password hashes in the database. */
      loginFloor: durationSchema.optional(),
      passwordMinLength: z.coerce.number().int().min(8).max(64),
      expiredTokenRetention: durationSchema,
      lockout: z.object({ maxFailures: z.coerce.number().int().min(1).max(100), minutes: z.coerce.number().int().min(1).max(1440) }),
      sso: z.object({ providers: z.array(ssoProviderSchema) }),
      passwordLogin: z.boolean(),
      // Checked at load: a typo must not wait for the day the provider is down to show.
      breakGlass: emailSchema.optional(),
    })
    .refine((auth) => durationMs(auth.accessTokenTtl) <= durationMs(auth.maxTokenTtl), {
      message: 'auth.accessTokenTtl must not exceed auth.maxTokenTtl (every token is refused past that age)',
      path: ['accessTokenTtl'],
    })
    // Password sign-in off leaves single sign-on, and the break-glass admin for the day the provider is down.
    .refine((auth) => auth.passwordLogin || auth.sso.providers.length > 0, {
      message: 'auth.passwordLogin is false but auth.sso.providers is empty: nobody could sign in; configure a provider first',
      path: ['passwordLogin'],
    })
    .refine((auth) => auth.passwordLogin || auth.breakGlass !== undefined, {
      message: 'auth.passwordLogin is false: set auth.breakGlass to the email of the admin who signs in when the identity provider is down',
      path: ['breakGlass'],
    }),
  rateLimits: z.object({
    default: z.object({ limit: z.coerce.number().int().positive(), window: durationSchema, burst: z.coerce.number().int().min(1) }).nullable(),
  }),
  /** Empty means not configured: only sealing and opening secrets needs it, and says so. */
  encryptionKey: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  webhooks: z.object({
    allowPrivateTargets: z.boolean(),
    attemptTimeout: durationSchema,
    disableAfter: durationSchema,
    maxDueAge: durationSchema,
    retention: durationSchema,
  }),
  jobs: z.object({ concurrency: z.coerce.number().int().min(1).max(256), leaseTimeout: durationSchema, retention: durationSchema }),
  audit: z.object({ retention: retentionSchema }),
  flags: z.object({ staleAfter: durationSchema }),
  /** An empty key means backups are written unencrypted (and an encrypted one cannot be read). */
  backups: z.object({
    directory: z.string().min(1),
    programs: z
      .object({ pg_dump: z.string().optional(), pg_restore: z.string().optional(), 'mariadb-dump': z.string().optional(), mariadb: z.string().optional() })
      .default({}),
    key: z
      .string()
      .optional()
      .transform((v) => v || undefined),
    /** Empty means no scheduled backups. */
    schedule: z
      .string()
      .optional()
      .transform((v) => v?.trim() || undefined)
      .superRefine((text, ctx) => {
        const problem = text === undefined ? undefined : scheduleProblem(text)
        if (problem) ctx.addIssue({ code: 'custom', message: problem })
      }),
    keep: z.object({ daily: z.coerce.number().int().min(0).max(3660), weekly: z.coerce.number().int().min(0).max(520) }),
    /** Unset: backups stay in backups.directory only. */
    s3: z
      .object({
        bucket: z.string(),
        prefix: z.string().default(''),
        region: z.string().optional(),
        endpoint: z.string().optional(),
        forcePathStyle: z.boolean().default(false),
      })
      .optional(),
  }),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }),
})

/** An environment as resolved, its rules across sections checked (pick fields from resolvedEnvironmentFields). */
export const resolvedEnvironmentSchema = resolvedEnvironmentFields
  // A lease that ends while its attempt may still run hands the job to a second worker mid-attempt: sent twice.
  .refine((env) => durationMs(env.jobs.leaseTimeout) >= 2 * durationMs(env.webhooks.attemptTimeout), {
    message: 'jobs.leaseTimeout must be at least twice webhooks.attemptTimeout (a lease must outlast any attempt)',
    path: ['jobs', 'leaseTimeout'],
  })

export type Environment = z.infer<typeof resolvedEnvironmentSchema>
