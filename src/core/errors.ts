/**
 * The one error catalog. Every failure a user can meet has a stable code, an HTTP status, a CLI exit code
 * and, where one fits every door, a next step; the CLI prints `Error (CODE): message` and the hint, the
 * HTTP edge answers problem+json. Raw causes are kept on `cause` for --verbose and logs, never shown by
 * default. Nothing here names a flag or a request field's spelling: an error about its input says which
 * fields and what is wrong in `details` (InputProblem), and each door words that hint its own way
 * (src/cli/hints.ts, src/server/hints.ts).
 */

/** CLI exit codes, as documented in the README. */
export const ExitCode = {
  ok: 0,
  /** The operation met a state it must not pass (edited migration, conflict, pending under --fail-on-pending). */
  state: 1,
  /** The invocation was wrong (bad flag, config or input, missing value without a TTY). */
  usage: 2,
  /** Something is not reachable or not ready (database, Redis, server, lock timeout). */
  unavailable: 3,
  /** The user interrupted the run (Ctrl-C): 128 + SIGINT, as shells report it. */
  cancelled: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

interface ErrorSpec {
  /**
   * What the problem is, for people: a short phrase, the same for every occurrence of the code (RFC 9457's
   * `title`; the README's table of error codes lists it). The occurrence's own words are its message.
   */
  readonly title: string
  readonly exit: ExitCodeValue
  readonly status: number
  readonly hint?: string
}

const usage = (title: string, hint?: string): ErrorSpec => ({ title, exit: ExitCode.usage, status: 400, hint })
const state = (title: string, status: number, hint?: string): ErrorSpec => ({ title, exit: ExitCode.state, status, hint })
const unavailable = (title: string, hint?: string): ErrorSpec => ({ title, exit: ExitCode.unavailable, status: 503, hint })

const catalog = {
  // invocation and input
  INVALID_INPUT: usage('Invalid input'),
  MISSING_INPUT: usage('Missing input'),
  FORCE_REQUIRED: usage('Confirmation required'),
  CONFIRMATION_MISMATCH: usage('Confirmation does not match'),
  // Ctrl-C at a prompt or during a run; a CLI-only outcome (no request is ever answered with it), so its
  // status is nginx's "client closed request".
  CANCELLED: { title: 'Cancelled', exit: ExitCode.cancelled, status: 499 },
  FILE_EXISTS: state('File already exists', 409),
  // workspace and configuration
  CONFIG_NOT_FOUND: usage('Configuration not found'),
  CONFIG_INVALID: usage('Invalid configuration', 'Fix gantry.config.json; its JSON Schema is named in its "$schema" field.'),
  CONFIG_VAR_UNSET: usage('Configuration variable not set', 'Set the variable in the process environment, in .env.<environment> or in .env.'),
  ENV_UNKNOWN: usage('Unknown environment', 'Run `gantry env list` to see the environments, or `gantry env create NAME`.'),
  ENV_EXISTS: state('Environment already exists', 409, 'Pick another name, or edit gantry.config.json.'),
  // database
  DB_URL_INVALID: usage('Invalid database URL', 'Use sqlite:./path/file.sqlite3, mysql://user:pass@host:3306/db or postgres://user:pass@host:5432/db.'),
  DB_UNREACHABLE: unavailable('Database unreachable', 'Check that the database server is running and the host and port in the URL.'),
  DB_AUTH_FAILED: unavailable('Database login refused', 'Check the user and password in the database URL.'),
  DB_TLS_FAILED: unavailable(
    'Database TLS failed',
    "Check the URL's TLS parameters: the server must offer TLS, and a verified mode needs its CA (sslrootcert, ssl-ca) and a certificate naming the host.",
  ),
  DB_NOT_FOUND: unavailable('Database not found'),
  DB_QUERY_FAILED: state('Database query failed', 500),
  DB_BUSY: unavailable('Database busy', 'Try again; if it keeps happening, look for what holds the database (a long migration, an open transaction or shell).'),
  // backups: the dialect's own dump tool (pg_dump, mariadb-dump), src/db/dump-tools.ts
  DUMP_TOOL_MISSING: unavailable(
    'Database dump tool unavailable',
    "Install the database's client tools (Debian: postgresql-client or mariadb-client), or name the program's absolute path in backups.programs.",
  ),
  DUMP_TOOL_FAILED: state('Database dump tool failed', 500),
  BACKUP_STORAGE_FAILED: unavailable(
    'Backup storage failed',
    'Check backups.s3 (bucket, endpoint, region) and the credentials the AWS SDK finds (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a role).',
  ),
  GANTRY_SCHEMA_MISSING: unavailable("Gantry's tables missing", 'Run `gantry migrate latest` to create them.'),
  REDIS_UNREACHABLE: unavailable('Redis unreachable', 'Check that Redis is running and the redis URL, or remove it to use the in-memory store.'),
  // migrations
  MIGRATION_MODIFIED: state(
    'Applied migration edited',
    409,
    'Restore the file as it was applied, or add a new migration for the change. `gantry migrate status` lists the edited ones.',
  ),
  MIGRATION_PARTIAL: state('Migration partly applied', 409),
  MIGRATION_FAILED: state('Migration failed', 500),
  MIGRATION_NOT_FOUND: usage('Migration not found', 'Run `gantry migrate status` to see the migration names.'),
  MIGRATION_INVALID: usage('Invalid migration file', 'A migration file must export async functions up(knex) and down(knex).'),
  MIGRATION_STATE: state('Migration in the wrong state', 409, 'Run `gantry migrate status` to see the state of each migration.'),
  MIGRATION_LOCK_TIMEOUT: unavailable('Migration lock wait timed out'),
  MIGRATION_KNEX_LOCKED: state('Knex migration lock held', 409, 'If no knex CLI run is in progress, clear the stale row with `gantry migrate unlock`.'),
  MIGRATION_PENDING: state('Migrations pending', 409, 'Run `gantry migrate latest`.'),
  MIGRATION_DRIFT: state('Migrations differ from the files', 409, 'Run `gantry migrate status` for details.'),
  SEED_NOT_FOUND: usage('Seed not found', 'Run `gantry seed make NAME` to write one, or check the seeds directory.'),
  SEED_FAILED: state('Seed failed', 500),
  // .ts migrations, seeds and knex setup modules load with tsx, an optional peer the project installs
  TSX_MISSING: usage('TypeScript loader not installed', 'Install tsx in the project: npm install tsx.'),
  // identity: users, roles, passwords, API keys, tokens, audit
  USER_NOT_FOUND: { title: 'User not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry users list` to see the users.' },
  USER_EXISTS: state('User already exists', 409, 'Pick another email, or update the existing user.'),
  ROLE_NOT_FOUND: { title: 'Role not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry roles list` to see the roles.' },
  ROLE_EXISTS: state('Role already exists', 409, 'Pick another name, or update the existing role.'),
  ROLE_BUILTIN: state(
    'Built-in role cannot change',
    409,
    'Built-in roles keep their own permissions and cannot be deleted; grant extra ones, or create a custom role.',
  ),
  ROLE_IN_USE: state('Role in use', 409, 'Move its users to another role first.'),
  LAST_ADMIN: state('Last active admin', 409, 'Make another active user admin first.'),
  PASSWORD_POLICY: usage('Password too weak'),
  INVALID_CREDENTIALS: { title: 'Wrong email or password', exit: ExitCode.state, status: 401 },
  ACCOUNT_DISABLED: { title: 'Account disabled', exit: ExitCode.state, status: 403 },
  FORBIDDEN: { title: 'Permission denied', exit: ExitCode.state, status: 403 },
  APIKEY_NOT_FOUND: { title: 'API key not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry apikeys list` to see the keys.' },
  APIKEY_INVALID: { title: 'Invalid API key', exit: ExitCode.state, status: 401 },
  TOKEN_INVALID: { title: 'Invalid or expired token', exit: ExitCode.state, status: 401 },
  AUTH_SECRET_WEAK: usage('Token secret too weak', 'Set the token secret to at least 32 random bytes, e.g. the output of `openssl rand -base64 48`.'),
  AUTH_SECRET_MISSING: usage(
    'Token secret not set',
    'Set GANTRY_AUTH_SECRET to at least 32 random bytes in .env.<environment>, e.g. the output of `openssl rand -base64 48`.',
  ),
  APIKEY_REVOKED: state('API key revoked', 409, 'Create a new key with `gantry apikeys create`.'),
  // OAuth clients and the token endpoint (the /oauth routes answer these as RFC 6749 errors)
  OAUTH_CLIENT_NOT_FOUND: {
    title: 'OAuth client not found',
    exit: ExitCode.state,
    status: 404,
    hint: 'Run `gantry oauth clients list` to see the clients.',
  },
  OAUTH_CLIENT_REVOKED: state('OAuth client revoked', 409, 'Create a new client with `gantry oauth clients create`.'),
  OAUTH_CLIENT_INVALID: { title: 'Invalid OAuth client', exit: ExitCode.state, status: 401 },
  OAUTH_CLIENT_UNAUTHORIZED: usage('Client not allowed this'),
  OAUTH_SCOPE_INVALID: usage('Invalid scope', 'Ask for scopes within the client’s (`gantry oauth clients show ID`), or leave scope out.'),
  OAUTH_GRANT_UNSUPPORTED: usage('Unsupported grant type', 'Gantry issues tokens for grant_type=client_credentials only.'),
  // single sign-on
  IDENTITY_NOT_FOUND: { title: 'Identity not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry users show EMAIL` to see the user’s identities.' },
  SSO_PROVIDER_UNKNOWN: {
    title: 'Unknown identity provider',
    exit: ExitCode.state,
    status: 404,
    hint: 'Name a provider of auth.sso.providers in gantry.config.json.',
  },
  PASSWORD_LOGIN_DISABLED: {
    title: 'Password sign-in is off',
    exit: ExitCode.state,
    status: 403,
    hint: "Sign in with the environment's identity provider (single sign-on).",
  },
  SSO_FAILED: {
    title: 'Single sign-on refused',
    exit: ExitCode.state,
    status: 401,
    hint: 'Start the sign-in again; the audit log has the reason (sessions.login-failed).',
  },
  SSO_UNAVAILABLE: unavailable('Identity provider unreachable', 'Check the provider’s issuer URL and that this server reaches it.'),
  IMPORT_INVALID: usage('Invalid import file'),
  SIGNING_KEY_MISSING: unavailable('No signing key', 'Run `gantry tokens keys rotate` to create the first EdDSA signing key.'),
  // secrets at rest, sealed under GANTRY_ENCRYPTION_KEY (src/core/encryption/data-keys.ts)
  ENCRYPTION_KEY_MISSING: usage('Encryption key not set', 'Set GANTRY_ENCRYPTION_KEY in .env.<environment> to the output of `openssl rand -base64 32`.'),
  ENCRYPTION_KEY_UNKNOWN: unavailable(
    'Encryption key not configured',
    'Put the key the value was sealed with back into GANTRY_ENCRYPTION_KEY, after the current key (comma-separated).',
  ),
  // webhooks
  WEBHOOK_NOT_FOUND: { title: 'Webhook endpoint not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry webhooks list` to see the endpoints.' },
  DELIVERY_NOT_FOUND: {
    title: 'Webhook delivery not found',
    exit: ExitCode.state,
    status: 404,
    hint: 'Run `gantry webhooks deliveries ENDPOINT` to see its deliveries.',
  },
  DELIVERY_PENDING: state('Webhook delivery still pending', 409, 'It is retried on its schedule; redeliver it once it has failed, or replay the endpoint.'),
  FLAG_NOT_FOUND: { title: 'Feature flag not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry flags list` to see the flags.' },
  FLAG_EXISTS: state('Feature flag already exists', 409, 'Pick another key, or change the flag with `gantry flags set`.'),
  FLAG_SEGMENT_NOT_FOUND: { title: 'Segment not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry flags segment list` to see the segments.' },
  FLAG_SEGMENT_IN_USE: state('Segment in use', 409, 'Remove it from the rules that name it first (`gantry flags show FLAG`).'),
  WEBHOOK_LIMIT: state('Too many webhook endpoints', 409, 'Delete endpoints you no longer use (`gantry webhooks delete ID`).'),
  // backups: the file format (src/core/backups/backup-file.ts) and GANTRY_BACKUP_KEY
  BACKUP_INVALID: usage('Invalid backup file', 'The file is damaged, cut short or not a Gantry backup: nothing was restored from it. Use another backup.'),
  BACKUP_KEY_MISSING: usage('Backup key not set', 'The backup is encrypted: set GANTRY_BACKUP_KEY to the key it was written with.'),
  BACKUP_KEY_WRONG: usage('Wrong backup key', 'Set GANTRY_BACKUP_KEY to the key the backup was written with; the message names its key id.'),
  RESTORE_MISMATCH: state('Restore differs from the backup', 500, 'Stop the servers of the environment (or turn maintenance on), then restore again.'),
  RESTORE_INCOMPLETE: state('Restore incomplete', 500, 'Fix the cause the message names, then run the same restore again.'),
  // HTTP edge: what a request itself got wrong, and what the server refuses to do now
  // The admin console's session (src/server/routes/console-session.routes.ts)
  CONSOLE_ORIGIN_REFUSED: {
    title: 'Console request refused',
    exit: ExitCode.state,
    status: 403,
    hint: "Sign in from the console page this server serves; its session routes answer only that page's own origin.",
  },
  CONSOLE_INSECURE: {
    title: 'Console needs HTTPS',
    exit: ExitCode.state,
    status: 403,
    hint: 'Serve the console over HTTPS (a TLS proxy in front, with server.trustProxy set), or open it on localhost.',
  },
  UNAUTHENTICATED: {
    title: 'Authentication required',
    exit: ExitCode.state,
    status: 401,
    hint: 'Send Authorization: Bearer <access token or API key>, or X-API-Key.',
  },
  ROUTE_NOT_FOUND: { title: 'No such route', exit: ExitCode.usage, status: 404 },
  METHOD_NOT_ALLOWED: { title: 'Method not allowed', exit: ExitCode.usage, status: 405 },
  PAYLOAD_TOO_LARGE: { title: 'Request body too large', exit: ExitCode.usage, status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { title: 'Unsupported media type', exit: ExitCode.usage, status: 415, hint: 'Send the body as application/json.' },
  // Refused by the HTTP parser before any route (src/server/listen.ts).
  REQUEST_TIMEOUT: {
    title: 'Request too slow',
    exit: ExitCode.unavailable,
    status: 408,
    hint: 'Send the whole request at once; check the network between client and server.',
  },
  EXPECTATION_FAILED: { title: 'Expectation not supported', exit: ExitCode.usage, status: 417, hint: 'Send Expect: 100-continue, or no Expect header.' },
  HEADERS_TOO_LARGE: {
    title: 'Request headers too large',
    exit: ExitCode.usage,
    status: 431,
    hint: 'Send fewer or smaller headers; large cookies are the usual cause.',
  },
  RATELIMIT_RULE_NOT_FOUND: { title: 'Rate-limit rule not found', exit: ExitCode.state, status: 404, hint: 'Run `gantry ratelimit list` to see the rules.' },
  RATELIMIT_OVERRIDE_NOT_FOUND: {
    title: 'Rate-limit override not found',
    exit: ExitCode.state,
    status: 404,
    hint: 'Run `gantry ratelimit list` to see the overrides.',
  },
  RATELIMIT_STORE_UNAVAILABLE: {
    title: 'Rate-limit store unavailable',
    exit: ExitCode.unavailable,
    status: 503,
    hint: 'The rate-limit store (Redis) does not answer and this rule fails closed; try again shortly.',
  },
  RATE_LIMITED: { title: 'Too many requests', exit: ExitCode.unavailable, status: 429, hint: 'Wait for the time in Retry-After, then try again.' },
  MAINTENANCE: { title: 'Down for maintenance', exit: ExitCode.unavailable, status: 503, hint: 'The service is in maintenance; try again after Retry-After.' },
  // remote mode: the CLI as a client of the server
  SERVER_UNREACHABLE: unavailable('Server unreachable'),
  SERVER_ERROR: {
    title: 'Server error',
    exit: ExitCode.unavailable,
    status: 502,
    hint: 'The server failed; its log has the cause (search for the request id).',
  },
  NOT_LOGGED_IN: usage('Not logged in', 'Run `gantry login`, or set GANTRY_API_KEY or GANTRY_TOKEN.'),
  CREDENTIALS_INSECURE: usage('Credentials readable by others'),
  CREDENTIALS_LOCKED: unavailable(
    'Credentials locked by another run',
    'Another gantry process is refreshing the login; try again, or remove the lock file it names if that process is gone.',
  ),
  REMOTE_URL_MISSING: usage('No server URL'),
  // anything else
  NOT_READY: unavailable('Not ready'),
  INTERNAL: { title: 'Internal error', exit: ExitCode.state, status: 500 },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof catalog

/**
 * What an error about the caller's input names, in `details`: the input fields concerned, as the service
 * calls them (the names of HTTP body fields and library options; the CLI maps them to flags), and a stable
 * word for what is wrong with them, which a door may key its own hint on.
 */
export interface InputProblem {
  readonly fields: readonly string[]
  readonly reason: string
}

/** `details` for an error about the caller's input, with any further facts a door's hint may use. */
export function inputProblem(
  fields: readonly string[],
  reason: string,
  facts: Readonly<Record<string, unknown>> = {},
): InputProblem & Readonly<Record<string, unknown>> {
  return { ...facts, fields, reason }
}

/** A door's hints for input problems, by `CODE:reason`, each given the error's details. */
export type HintWording = Readonly<Record<string, (details: Readonly<Record<string, unknown>>) => string>>

/** A door's wording of an error's input problem (`details.reason`), if it has one for it. */
export function wordedHint(err: GantryError, wording: HintWording): string | undefined {
  const reason = err.details?.reason
  const word = typeof reason === 'string' ? wording[`${err.code}:${reason}`] : undefined
  return word && err.details ? word(err.details) : undefined
}

export interface GantryErrorOptions {
  /** Overrides the catalog's next step for this occurrence. */
  readonly hint?: string
  readonly cause?: unknown
  /** Structured facts for --json and problem+json (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>
}

/** A failure with a stable code from the catalog. */
export class GantryError extends Error {
  readonly code: ErrorCode
  /** The catalog's title of the code: the same for every occurrence. */
  readonly title: string
  readonly exit: ExitCodeValue
  readonly status: number
  readonly hint: string | undefined
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const spec: ErrorSpec = catalog[code]
    this.name = 'GantryError'
    this.code = code
    this.title = spec.title
    this.exit = spec.exit
    this.status = spec.status
    this.hint = options.hint ?? spec.hint
    this.details = options.details
  }
}

/** Narrowing helper for catch blocks. */
export function isGantryError(err: unknown): err is GantryError {
  return err instanceof GantryError
}

/** The catalog's codes, for documentation and the CLI surface snapshot. */
export const errorCodes = Object.keys(catalog) as ErrorCode[]
