/**
 * The signed-in user's session. The access token lives in this module only (never in storage a script or
 * another tab could read); the refresh token is the server's HttpOnly cookie, which these requests carry and
 * nothing else can. A timer renews the token before it expires; a renewal that fails marks the session
 * expired, and the page asks for the password again over what it shows instead of reloading.
 */
import type { Whoami } from '../../src/core/sessions/whoami.js'
import type { ConsoleSession } from '../../src/server/routes/console-session.routes.js'
import { hasPermission } from '../../src/core/roles/permission-match.js'
import { ApiError, request, useCredentials } from './api.js'
import { CONSOLE_ROUTES } from './routes.js'

export type SessionState =
  | { readonly status: 'starting' }
  | { readonly status: 'signed-out' }
  | { readonly status: 'signed-in'; readonly me: Whoami }
  /** The session ended under an open page: it stays, and a sign-in form goes over it. */
  | { readonly status: 'expired'; readonly me: Whoami }

/**
 * How the session's own routes are called: with the console's header, which they refuse a request without
 * (a form on another site cannot set it), and never renewing on a 401 (renewal is what calls them).
 */
const SESSION = { headers: { 'x-gantry-console': '1' }, renew: false } as const
/** Renew this long before the token expires. */
const RENEW_AHEAD_MS = 30_000

let state: SessionState = { status: 'starting' }
let token: string | undefined
let timer: ReturnType<typeof setTimeout> | undefined
let renewing: Promise<boolean> | undefined
const listeners = new Set<(state: SessionState) => void>()

useCredentials({ token: () => token, renew })

export function current(): SessionState {
  return state
}

export function subscribe(listener: (state: SessionState) => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Whether the signed-in user holds `permission`: the page offers only what the server would allow. */
export function can(permission: string): boolean {
  return (state.status === 'signed-in' || state.status === 'expired') && hasPermission(state.me.permissions, permission)
}

/**
 * On load: a session cookie from an earlier visit signs in without the password. A server that cannot be
 * reached gets the sign-in form, whose submit then shows why, rather than "Loading…" for ever.
 */
export async function start(): Promise<void> {
  const signedIn = await renew().catch(() => false)
  if (!signedIn) set({ status: 'signed-out' })
}

export async function signIn(email: string, password: string): Promise<void> {
  const { me } = adopt(
    await request<ConsoleSession>(CONSOLE_ROUTES.login.method, CONSOLE_ROUTES.login.path, { ...SESSION, input: { email, password }, inBody: true }),
  )
  // Signing in again over an expired page as someone else would show them the other user's data.
  if (state.status === 'expired' && state.me.user.id !== me.user.id) {
    location.reload()
    return
  }
  set({ status: 'signed-in', me })
}

export async function signOut(): Promise<void> {
  try {
    await request(CONSOLE_ROUTES.logout.method, CONSOLE_ROUTES.logout.path, SESSION)
  } finally {
    forget()
    set({ status: 'signed-out' })
  }
}

/** A new access token through the cookie; one renewal at a time, however many calls wait on it. */
function renew(): Promise<boolean> {
  renewing ??= (async () => {
    try {
      const session = await refreshed()
      if (!session) return ended()
      set({ status: 'signed-in', me: adopt(session).me })
      return true
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      return ended()
    } finally {
      renewing = undefined
    }
  })()
  return renewing
}

/**
 * The refresh, tried twice: another tab of this browser may have rotated the cookie a moment before, and
 * the server refuses the one this request carried (the second try carries the new one). A session that
 * has ended is refused twice.
 */
async function refreshed(): Promise<ConsoleSession | null> {
  const attempt = (): Promise<ConsoleSession | null> => request<ConsoleSession | null>(CONSOLE_ROUTES.refresh.method, CONSOLE_ROUTES.refresh.path, SESSION)
  try {
    return await attempt()
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return attempt()
    throw err
  }
}

/** No session to renew: a page that showed one keeps its state under the sign-in dialog. */
function ended(): false {
  forget()
  if (state.status === 'signed-in') set({ status: 'expired', me: state.me })
  return false
}

function adopt(session: ConsoleSession): ConsoleSession {
  token = session.accessToken
  clearTimeout(timer)
  const wait = Math.max(5_000, Date.parse(session.expiresAt) - Date.now() - RENEW_AHEAD_MS)
  timer = setTimeout(() => void renew(), wait)
  return session
}

function forget(): void {
  token = undefined
  clearTimeout(timer)
}

function set(next: SessionState): void {
  state = next
  for (const listener of listeners) listener(state)
}
