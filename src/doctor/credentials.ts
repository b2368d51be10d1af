/**
 * The credentials of `gantry login`: whether the file is private (the store itself refuses one that is not,
 * with the chmod that fixes it), and per server who is logged in and whether the access token has expired,
 * read from the file without a network call. No token or key is ever put in a message.
 */
import { existsSync } from 'node:fs'
import { cliHint } from '../cli/hints.js'
import type { CredentialsStore, StoredCredential } from '../client/types.js'
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_DEFAULTS } from '../config/defaults.js'
import { parseDuration } from '../core/duration.js'
import { isGantryError } from '../core/errors.js'
import { check, firstLine, type DoctorCheck } from './check.js'

/** What the credentials check found: its rows, and the servers logged in to (the server check probes them). */
export interface CredentialsFinding {
  readonly checks: DoctorCheck[]
  readonly servers: string[]
}

/**
 * How long a session lasts past its access token, by default (auth.refreshTokenTtl). The file does not
 * record the refresh token's expiry, so an access token expired longer ago than this means the session has
 * most likely ended; one expired more recently is refreshed by the next remote command.
 */
const DEFAULT_SESSION_MS = parseDuration(String(ENVIRONMENT_DEFAULTS[DEFAULT_ENVIRONMENT]?.auth?.refreshTokenTtl ?? '30d'))

/** The file's rows: its state, variables that override it, then one row per server. */
export async function credentialChecks(store: CredentialsStore, options: { env: NodeJS.ProcessEnv; now: number }): Promise<CredentialsFinding> {
  let entries: Awaited<ReturnType<CredentialsStore['entries']>>
  try {
    entries = await store.entries()
  } catch (err) {
    // CREDENTIALS_INSECURE (with its chmod), a file this CLI cannot read, or one it may not open: remote
    // commands refuse it too.
    const fix = isGantryError(err) ? cliHint(err) : `Check the file, or move it away and run \`gantry login\` again.`
    return { checks: [check('credentials', 'credentials', 'warn', firstLine(err), fix)], servers: [] }
  }
  const rows = [fileRow(store.path, entries.length), ...overrides(options.env)]
  for (const { url, credential } of entries) rows.push(serverRow(url, credential, options.now))
  return { checks: rows, servers: entries.map((e) => e.url) }
}

function fileRow(path: string, servers: number): DoctorCheck {
  if (!existsSync(path)) return check('credentials', 'credentials', 'ok', `not logged in to any server (no ${path}).`)
  if (servers === 0) return check('credentials', 'credentials', 'ok', `${path} holds no login.`)
  return check(
    'credentials',
    'credentials',
    'ok',
    `${path} is private and holds ${servers === 1 ? 'a login' : `logins`} for ${servers} server${servers === 1 ? '' : 's'}.`,
  )
}

/** Variables that a remote command sends instead of the stored login: named, their values never shown. */
function overrides(env: NodeJS.ProcessEnv): DoctorCheck[] {
  return ['GANTRY_API_KEY', 'GANTRY_TOKEN']
    .filter((name) => env[name])
    .map((name) => check('credentials', `credentials:${name}`, 'ok', `${name} is set: remote commands send it instead of a stored login.`))
}

/** One server's login: who, and whether its access token has expired. */
export function serverRow(url: string, credential: StoredCredential | undefined, now: number): DoctorCheck {
  const id = `credentials:${url}`
  const again = `gantry login --url ${url}`
  if (!credential)
    return check('credentials', id, 'warn', `${url}: a login this version cannot read (a newer gantry wrote it).`, `Upgrade gantry, or run \`${again}\`.`)
  if (credential.kind === 'apiKey') return check('credentials', id, 'ok', `${url}: an API key (the server knows its expiry).`)
  const expires = Date.parse(credential.accessExpiresAt)
  if (Number.isNaN(expires)) return check('credentials', id, 'warn', `${url}: ${credential.email}, with an unreadable expiry.`, `Run \`${again}\`.`)
  const at = new Date(expires).toISOString()
  if (expires > now) return check('credentials', id, 'ok', `${url}: logged in as ${credential.email}; the access token is valid until ${at}.`)
  if (now - expires > DEFAULT_SESSION_MS) {
    return check(
      'credentials',
      id,
      'warn',
      `${url}: ${credential.email}'s access token expired at ${at}; the session has most likely ended.`,
      `Run \`${again}\`.`,
    )
  }
  return check('credentials', id, 'ok', `${url}: logged in as ${credential.email}; the access token expired at ${at}, the next remote command refreshes it.`)
}
