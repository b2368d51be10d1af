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
  readonly exit: ExitCodeValue
  readonly status: number
  readonly hint?: string
}

const usage = (hint?: string): ErrorSpec => ({ exit: ExitCode.usage, status: 400, hint })
const state = (status: number, hint?: string): ErrorSpec => ({ exit: ExitCode.state, status, hint })
const unavailable = (hint?: string): ErrorSpec => ({ exit: ExitCode.unavailable, status: 503, hint })

const catalog = {
  // invocation and input
  INVALID_INPUT: usage(),
  MISSING_INPUT: usage(),
  FORCE_REQUIRED: usage(),
  CONFIRMATION_MISMATCH: usage(),
  // Ctrl-C at a prompt or during a run; a CLI-only outcome (no request is ever answered with it), so its
  // status is nginx's "client closed request".
  CANCELLED: { exit: ExitCode.cancelled, status: 499 },
  FILE_EXISTS: state(409),
  // workspace and configuration
  CONFIG_NOT_FOUND: usage(),
  CONFIG_INVALID: usage('Fix gantry.config.json; its JSON Schema is named in its "$schema" field.'),
  CONFIG_VAR_UNSET: usage('Set the variable in the process environment, in .env.<environment> or in .env.'),
  ENV_UNKNOWN: usage('Run `gantry env list` to see the environments, or `gantry env create NAME`.'),
  ENV_EXISTS: state(409, 'Pick another name, or edit gantry.config.json.'),
  // database
  DB_URL_INVALID: usage('Use sqlite:./path/file.sqlite3, mysql://user:pass@host:3306/db or postgres://user:pass@host:5432/db.'),
  DB_UNREACHABLE: unavailable('Check that the database server is running and the host and port in the URL.'),
  DB_AUTH_FAILED: unavailable('Check the user and password in the database URL.'),
  DB_NOT_FOUND: unavailable(),
  DB_QUERY_FAILED: state(500),
  DB_BUSY: unavailable('Try again; if it keeps happening, look for what holds the database (a long migration, an open transaction or shell).'),
  GANTRY_SCHEMA_MISSING: unavailable('Run `gantry migrate latest` to create them.'),
  REDIS_UNREACHABLE: unavailable('Check that Redis is running and the redis URL, or remove it to use the in-memory store.'),
  // migrations
  MIGRATION_MODIFIED: state(409, 'Restore the file as it was applied, or add a new migration for the change. `gantry migrate status` lists the edited ones.'),
  MIGRATION_PARTIAL: state(409),
  MIGRATION_FAILED: state(500),
  MIGRATION_NOT_FOUND: usage('Run `gantry migrate status` to see the migration names.'),
  MIGRATION_INVALID: usage('A migration file must export async functions up(knex) and down(knex).'),
  MIGRATION_STATE: state(409, 'Run `gantry migrate status` to see the state of each migration.'),
  MIGRATION_LOCK_TIMEOUT: unavailable(),
  MIGRATION_KNEX_LOCKED: state(409, 'If no knex CLI run is in progress, clear the stale row with `gantry migrate unlock`.'),
  MIGRATION_PENDING: state(409, 'Run `gantry migrate latest`.'),
  MIGRATION_DRIFT: state(409, 'Run `gantry migrate status` for details.'),
  SEED_NOT_FOUND: usage('Run `gantry seed make NAME` to write one, or check the seeds directory.'),
  SEED_FAILED: state(500),
  // identity: users, roles, passwords, API keys, tokens, audit
  USER_NOT_FOUND: { exit: ExitCode.state, status: 404, hint: 'Run `gantry users list` to see the users.' },
  USER_EXISTS: state(409, 'Pick another email, or update the existing user.'),
  ROLE_NOT_FOUND: { exit: ExitCode.state, status: 404, hint: 'Run `gantry roles list` to see the roles.' },
  ROLE_EXISTS: state(409, 'Pick another name, or update the existing role.'),
  ROLE_BUILTIN: state(409, 'Built-in roles keep their own permissions and cannot be deleted; grant extra ones, or create a custom role.'),
  ROLE_IN_USE: state(409, 'Move its users to another role first.'),
  LAST_ADMIN: state(409, 'Make another active user admin first.'),
  PASSWORD_POLICY: usage(),
  INVALID_CREDENTIALS: { exit: ExitCode.state, status: 401 },
  ACCOUNT_DISABLED: { exit: ExitCode.state, status: 403 },
  FORBIDDEN: { exit: ExitCode.state, status: 403 },
  APIKEY_NOT_FOUND: { exit: ExitCode.state, status: 404, hint: 'Run `gantry apikeys list` to see the keys.' },
  APIKEY_INVALID: { exit: ExitCode.state, status: 401 },
  TOKEN_INVALID: { exit: ExitCode.state, status: 401 },
  AUTH_SECRET_WEAK: usage('Set the token secret to at least 32 random bytes, e.g. the output of `openssl rand -base64 48`.'),
  AUTH_SECRET_MISSING: usage('Set GANTRY_AUTH_SECRET to at least 32 random bytes in .env.<environment>, e.g. the output of `openssl rand -base64 48`.'),
  APIKEY_REVOKED: state(409, 'Create a new key with `gantry apikeys create`.'),
  IMPORT_INVALID: usage(),
  SIGNING_KEY_MISSING: unavailable('Run `gantry tokens keys rotate` to create the first EdDSA signing key.'),
  // HTTP edge: what a request itself got wrong, and what the server refuses to do now
  UNAUTHENTICATED: { exit: ExitCode.state, status: 401, hint: 'Send Authorization: Bearer <access token or API key>, or X-API-Key.' },
  ROUTE_NOT_FOUND: { exit: ExitCode.usage, status: 404 },
  METHOD_NOT_ALLOWED: { exit: ExitCode.usage, status: 405 },
  PAYLOAD_TOO_LARGE: { exit: ExitCode.usage, status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { exit: ExitCode.usage, status: 415, hint: 'Send the body as application/json.' },
  RATELIMIT_RULE_NOT_FOUND: { exit: ExitCode.state, status: 404, hint: 'Run `gantry ratelimit list` to see the rules.' },
  RATELIMIT_OVERRIDE_NOT_FOUND: { exit: ExitCode.state, status: 404, hint: 'Run `gantry ratelimit list` to see the overrides.' },
  RATELIMIT_STORE_UNAVAILABLE: {
    exit: ExitCode.unavailable,
    status: 503,
    hint: 'The rate-limit store (Redis) does not answer and this rule fails closed; try again shortly.',
  },
  RATE_LIMITED: { exit: ExitCode.unavailable, status: 429, hint: 'Wait for the time in Retry-After, then try again.' },
  MAINTENANCE: { exit: ExitCode.unavailable, status: 503, hint: 'The service is in maintenance; try again after Retry-After.' },
  // remote mode: the CLI as a client of the server
  SERVER_UNREACHABLE: unavailable(),
  SERVER_ERROR: { exit: ExitCode.unavailable, status: 502, hint: 'The server failed; its log has the cause (search for the request id).' },
  NOT_LOGGED_IN: usage('Run `gantry login`, or set GANTRY_API_KEY or GANTRY_TOKEN.'),
  CREDENTIALS_INSECURE: usage(),
  CREDENTIALS_LOCKED: unavailable('Another gantry process is refreshing the login; try again, or remove the lock file it names if that process is gone.'),
  REMOTE_URL_MISSING: usage(),
  // anything else
  NOT_READY: unavailable(),
  INTERNAL: { exit: ExitCode.state, status: 500 },
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
  readonly exit: ExitCodeValue
  readonly status: number
  readonly hint: string | undefined
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: ErrorCode, message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const spec: ErrorSpec = catalog[code]
    this.name = 'GantryError'
    this.code = code
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
