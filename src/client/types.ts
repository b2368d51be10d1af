/**
 * The contract of the HTTP client of Gantry's own API (src/client is the only place that imports axios):
 * what HttpAdmin, `gantry health`, `gantry login` and `logout` build on. Errors are GantryErrors with the
 * catalog's codes, so a remote command fails with the same one line and exit code as a local one.
 */
import type { Readable } from 'node:stream'
import type { z } from 'zod'

/** Where a request's Authorization header comes from (stored credentials, GANTRY_API_KEY / GANTRY_TOKEN). */
export interface CredentialSource {
  /** The header value (`Bearer …`), refreshed first when it is about to expire; NOT_LOGGED_IN when there is none. */
  authorization(): Promise<string>
  /** Called after a 401 on a request that carried it: a source that can refresh does so once, then the request is retried once. */
  rejected?(): Promise<boolean>
}

export interface ClientOptions {
  /** The server's base URL (`http://127.0.0.1:3000`); paths are appended to it. */
  readonly baseUrl: string
  /** Per attempt; default 10 s. */
  readonly timeoutMs?: number | undefined
  /** Further attempts of an idempotent request (and of any request answered 429 or 503 with Retry-After); default 3. */
  readonly retries?: number | undefined
  /** A PEM file of CA certificates to trust, beside the system's. */
  readonly caFile?: string | undefined
  /** Skip TLS verification (the CLI warns loudly). */
  readonly insecure?: boolean | undefined
  /** Omitted: requests go without credentials (health). */
  readonly credentials?: CredentialSource | undefined
  /** Waits between retries; tests pass one that records instead of sleeping. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined
  /** Sent as User-Agent (`gantry/0.1.0`); omitted: axios's own. */
  readonly userAgent?: string | undefined
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RequestSpec<S extends z.ZodType | undefined> {
  readonly method: HttpMethod
  /** `/api/v1/admin/users`; path parameters already encoded by the caller (encodeURIComponent). */
  readonly path: string
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>> | undefined
  /** Sent as JSON. */
  readonly body?: unknown
  /** The answer's zod schema (parsed leniently: unknown fields are dropped, never an error). Omitted: no body expected. */
  readonly schema?: S
  /** Whether a retry after a network error or 502/503/504 is safe; default: true for GET, PUT, DELETE. */
  readonly idempotent?: boolean | undefined
  /** false: no Authorization header even when the client has credentials (login, refresh). */
  readonly authenticate?: boolean | undefined
  /** Statuses the caller takes as an answer rather than an error (health: 503 is a report, not a failure). */
  readonly accept?: readonly number[] | undefined
}

export interface ApiClient {
  readonly baseUrl: string
  /** One JSON request; the parsed answer (undefined for 204). */
  request<S extends z.ZodType | undefined = undefined>(spec: RequestSpec<S>): Promise<S extends z.ZodType ? z.output<S> : undefined>
  /** A request whose answer status the caller reads too (health's 200 vs 503). */
  requestWithStatus<S extends z.ZodType>(spec: RequestSpec<S>): Promise<{ status: number; body: z.output<S>; headers: Readonly<Record<string, string>> }>
  /** Uploads a stream (users import: text/csv or application/x-ndjson); the JSON answer parsed with `schema`. Never retried. */
  upload<S extends z.ZodType>(spec: RequestSpec<S> & { readonly stream: Readable; readonly contentType: string }): Promise<z.output<S>>
  /** Downloads a body as text chunks (users export). */
  download(spec: Omit<RequestSpec<undefined>, 'schema'>): AsyncIterable<string>
}

/** What `gantry login` keeps for one server: a session (refreshed as it expires) or an API key. */
export type StoredCredential =
  | { readonly kind: 'session'; readonly email: string; readonly accessToken: string; readonly accessExpiresAt: string; readonly refreshToken: string }
  | { readonly kind: 'apiKey'; readonly apiKey: string }

/**
 * The credentials file: one entry per server URL, in the user's config directory ($XDG_CONFIG_HOME/gantry
 * on Linux, ~/Library/Application Support/gantry on macOS, %APPDATA%\gantry on Windows), mode 0600 in a
 * 0700 directory, created with those modes and written atomically (temp file + rename); a file readable by
 * others is refused (CREDENTIALS_INSECURE, naming the chmod that fixes it).
 */
export interface CredentialsStore {
  readonly path: string
  get(url: string): Promise<StoredCredential | undefined>
  set(url: string, credential: StoredCredential): Promise<void>
  /** Whether there was an entry. */
  delete(url: string): Promise<boolean>
  /** Every server with an entry, in the file's order; `credential` is undefined where a newer CLI wrote one this cannot read. */
  entries(): Promise<Array<{ readonly url: string; readonly credential: StoredCredential | undefined }>>
  /** Runs `work` holding the file's lock (across processes): a refresh re-reads, refreshes and writes under it. */
  withLock<T>(work: () => Promise<T>): Promise<T>
}

/*
 * src/client/index.ts exports (the names HttpAdmin and the commands use):
 *   createApiClient(options: ClientOptions): Promise<ApiClient>          axios loaded here, lazily
 *   openCredentialsStore(options?: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; home?: string }): CredentialsStore
 *   credentialSource(options: { url: string; store: CredentialsStore; env: NodeJS.ProcessEnv; refresh: (refreshToken: string) => Promise<{ accessToken: string; refreshToken: string; expiresAt: string }> }): CredentialSource
 *     GANTRY_API_KEY, then GANTRY_TOKEN, override the store; a session is refreshed under the lock when its
 *     access token expires within 30 s (re-read first: another process may have refreshed it already).
 */
