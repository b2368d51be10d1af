/**
 * What every command that talks to a Gantry server shares: the --url / --insecure / --ca-file flags (and
 * --allow-http where credentials are sent), which URL a run reaches (--url, else the environment's
 * server.publicUrl), and the API client built from them.
 * src/client (and axios with it) is imported only when a client is built, so no other command pays for it
 * at start-up.
 */
import { Flags } from '@oclif/core'
import { normaliseServerUrl, requireEncryptedTransport } from '../client/server-url.js'
import type { AuthApi } from '../client/auth-api.js'
import type { ApiClient, ClientOptions, CredentialSource, CredentialsStore } from '../client/types.js'
import type { ServerSettings } from '../config/workspace.js'
import { GantryError } from '../core/errors.js'

/** Where help lists the flags about reaching a server: apart from a command's own, as the Salesforce CLI does. */
export const REMOTE_HELP_GROUP = 'REMOTE'

/** The flags of a command that reaches a server. */
export const remoteFlags = {
  url: Flags.string({ summary: "Server to reach (default: the environment's server.publicUrl).", helpGroup: REMOTE_HELP_GROUP }),
  insecure: Flags.boolean({
    summary: 'Skip TLS certificate verification (unsafe: anyone on the path can read and change the traffic).',
    helpGroup: REMOTE_HELP_GROUP,
  }),
  'ca-file': Flags.string({ summary: 'PEM file of CA certificates to trust beside the system ones.', helpGroup: REMOTE_HELP_GROUP }),
}

/** The flag of a command that sends credentials (login, logout, every admin command): not of `health`, which sends none. */
export const credentialFlags = {
  'allow-http': Flags.boolean({
    summary: 'Send credentials over plain http:// to a host other than this machine (they cross the network in clear).',
    env: 'GANTRY_ALLOW_HTTP',
    helpGroup: REMOTE_HELP_GROUP,
  }),
}

/** What a run passed of `remoteFlags` and `credentialFlags`. */
export interface RemoteFlags {
  readonly url?: string | undefined
  readonly insecure?: boolean | undefined
  readonly 'ca-file'?: string | undefined
  readonly 'allow-http'?: boolean | undefined
}

/**
 * The server URL a run reaches, normalised (the key of its stored credentials): --url, else the
 * environment's server.publicUrl, else REMOTE_URL_MISSING. `environment` is only called without --url, so
 * --url works outside a workspace (a CI runner, an operator's laptop).
 */
export function resolveServerUrl(flags: Pick<RemoteFlags, 'url'>, environment: () => Pick<ServerSettings, 'name' | 'server'>): string {
  if (flags.url !== undefined) return normaliseServerUrl(flags.url)
  const env = environment()
  if (!env.server.publicUrl)
    throw new GantryError('REMOTE_URL_MISSING', `No server URL for environment "${env.name}": its server.publicUrl is not set and --url was not given.`)
  return normaliseServerUrl(env.server.publicUrl)
}

/**
 * How a client authenticates: not at all (health); with credentials in request bodies rather than a header
 * (login's password, logout's refresh token); as a given source; or from the store / GANTRY_API_KEY /
 * GANTRY_TOKEN.
 */
export type ClientAuth = 'none' | 'in-body' | 'stored' | CredentialSource

/**
 * The API client of `url` with the run's TLS flags (--insecure warns loudly on stderr). Any client that
 * sends credentials refuses plain http off this machine unless --allow-http (requireEncryptedTransport).
 * `stored` reads the credentials of `gantry login` for that URL (GANTRY_API_KEY, then GANTRY_TOKEN, override
 * them) and refreshes a session under the store's lock.
 */
export async function buildClient(
  url: string,
  flags: Omit<RemoteFlags, 'url'>,
  options: { auth: ClientAuth; timeoutMs?: number; retries?: number },
): Promise<ApiClient> {
  if (options.auth !== 'none') requireEncryptedTransport(url, flags['allow-http'] ?? false)
  const client = await import('../client/index.js')
  // On stderr every time, --json or not: stdout stays one JSON document, and nobody misses this.
  if (flags.insecure)
    process.stderr.write(`Warning: --insecure: the TLS certificate of ${url} is not verified; anyone on the path can read and change this traffic.\n`)
  const base: ClientOptions = { baseUrl: url, caFile: flags['ca-file'], insecure: flags.insecure, timeoutMs: options.timeoutMs, retries: options.retries }
  if (options.auth === 'none' || options.auth === 'in-body') return client.createApiClient(base)
  if (options.auth !== 'stored') return client.createApiClient({ ...base, credentials: options.auth })
  const plain = await client.createApiClient(base)
  const credentials = client.credentialSource({
    url,
    store: client.openCredentialsStore(),
    env: process.env,
    refresh: (refreshToken) => client.authApi(plain).refresh(refreshToken),
  })
  return client.createApiClient({ ...base, credentials })
}

/** The server's auth routes (login, logout, who am I), through a client built as buildClient builds it. */
export async function buildAuthApi(
  url: string,
  flags: Omit<RemoteFlags, 'url'>,
  options: { auth: ClientAuth; timeoutMs?: number; retries?: number },
): Promise<AuthApi> {
  const [built, client] = await Promise.all([buildClient(url, flags, options), import('../client/index.js')])
  return client.authApi(built)
}

/** The credentials file of `gantry login` (src/client loaded on first use). */
export async function credentialsStore(): Promise<CredentialsStore> {
  const client = await import('../client/index.js')
  return client.openCredentialsStore()
}
