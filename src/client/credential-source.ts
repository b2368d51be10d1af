/**
 * Where a request's Authorization comes from: GANTRY_API_KEY, then GANTRY_TOKEN (CI), else the entry that
 * `gantry login` stored for the server. A session is refreshed under the credentials file's lock when its
 * access token expires within 30 s — after re-reading the file, because another gantry process may have
 * refreshed it meanwhile: two processes never present the same refresh token, so rotation's reuse
 * detection never fires on them. Tokens are never logged or put into an error.
 */
import { systemClock, type Clock } from '../core/clock.js'
import { GantryError, isGantryError } from '../core/errors.js'
import { displayUrl, normaliseServerUrl } from './server-url.js'
import type { CredentialSource, CredentialsStore, StoredCredential } from './types.js'

/** An access token with less life than this left is refreshed before it is sent. */
export const REFRESH_MARGIN_MS = 30_000

/** What a refresh answers: the rotated pair and when the new access token expires (ISO 8601). */
export interface RefreshedTokens {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresAt: string
}

export interface CredentialSourceOptions {
  readonly url: string
  readonly store: CredentialsStore
  readonly env: NodeJS.ProcessEnv
  /** Exchanges a refresh token for a new pair (HttpAdmin: POST /api/v1/auth/refresh without credentials). */
  readonly refresh: (refreshToken: string) => Promise<RefreshedTokens>
  /** Time for the expiry check (default: the system clock). */
  readonly clock?: Clock | undefined
}

type Session = Extract<StoredCredential, { kind: 'session' }>

/** The credential source for one server. */
export function credentialSource(options: CredentialSourceOptions): CredentialSource {
  const { store, refresh } = options
  const url = normaliseServerUrl(options.url)
  const clock = options.clock ?? systemClock
  const fromEnv = options.env.GANTRY_API_KEY || options.env.GANTRY_TOKEN
  if (fromEnv) return { authorization: () => Promise.resolve(`Bearer ${fromEnv.trim()}`), rejected: () => Promise.resolve(false) }

  /** The access token last handed out: a 401 on it means it, not a newer one, was refused. */
  let lastSent: string | undefined
  const expiresSoon = (session: Session): boolean => {
    const at = Date.parse(session.accessExpiresAt)
    return Number.isNaN(at) || at - clock.now() < REFRESH_MARGIN_MS
  }
  const stored = async (): Promise<StoredCredential> => {
    const entry = await store.get(url)
    if (!entry) throw notLoggedIn(url)
    return entry
  }

  /** Under the lock: re-read; refresh only when the file still holds the token we judged spent. */
  const refreshed = (spent: string, force: boolean): Promise<StoredCredential> =>
    store.withLock(async () => {
      const current = await stored()
      if (current.kind !== 'session') return current
      if (current.accessToken !== spent) return current // another process refreshed it already
      if (!force && !expiresSoon(current)) return current
      let tokens: RefreshedTokens
      try {
        tokens = await refresh(current.refreshToken)
      } catch (err) {
        if (isGantryError(err) && (err.code === 'TOKEN_INVALID' || err.code === 'UNAUTHENTICATED')) throw sessionEnded(url, err)
        throw err
      }
      const next: Session = { ...current, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessExpiresAt: tokens.expiresAt }
      await store.set(url, next)
      return next
    })

  const header = (credential: StoredCredential): string => {
    const token = credential.kind === 'session' ? credential.accessToken : credential.apiKey
    lastSent = token
    return `Bearer ${token}`
  }

  return {
    async authorization() {
      const entry = await stored()
      if (entry.kind === 'session' && expiresSoon(entry)) return header(await refreshed(entry.accessToken, false))
      return header(entry)
    },
    async rejected() {
      const spent = lastSent
      const entry = await stored()
      if (entry.kind !== 'session' || spent === undefined) return false
      const next = await refreshed(spent, true)
      return next.kind === 'session' && next.accessToken !== spent
    },
  }
}

function notLoggedIn(url: string): GantryError {
  return new GantryError('NOT_LOGGED_IN', `Not logged in to ${displayUrl(url)}.`, {
    hint: `Run \`gantry login --url ${displayUrl(url)}\`, or set GANTRY_API_KEY or GANTRY_TOKEN.`,
    details: { url: displayUrl(url) },
  })
}

function sessionEnded(url: string, cause: GantryError): GantryError {
  return new GantryError('NOT_LOGGED_IN', `The session on ${displayUrl(url)} has ended (expired or revoked).`, {
    hint: `Run \`gantry login --url ${displayUrl(url)}\` again.`,
    cause,
    details: { url: displayUrl(url) },
  })
}
