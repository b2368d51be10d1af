/**
 * The admin console's session: Gantry's own login, with the refresh token kept where the page's scripts
 * cannot read it. The access token goes to the page in the body (it keeps it in memory only); the refresh
 * token goes into an HttpOnly, SameSite=Strict cookie whose Path is these routes alone, so no other request
 * carries it. Each route also wants the console's own request header and an Origin equal to the server's,
 * and answers no CORS headers (app.ts keeps cors() off this prefix): another site can neither send the
 * cookie here nor read an answer. Over plain HTTP the cookie could be read on the wire, so sign-in is
 * refused except on loopback, where the cookie is the one thing not marked Secure.
 */
import type { Request, Response } from 'express'
import { parse as parseCookies, serialize as serializeCookie } from 'cookie'
import { z } from 'zod'
import { GantryError } from '../../core/errors.js'
import { loginInputSchema } from '../../core/sessions/credentials.schema.js'
import type { SessionTokens } from '../../core/sessions/sessions.schema.js'
import type { Services } from '../../core/services.js'
import type { Authenticator } from '../../core/sessions/authenticate.js'
import { whoamiSchema } from '../../core/sessions/whoami.js'
import type { RateLimitEdge } from '../middleware/rate-limit.js'
import { route, type RouteSpec } from './route.js'

/** Where the routes live: the cookie's Path. Under /api/v1/auth, so maintenance leaves them open. */
export const CONSOLE_SESSION_PATH = '/api/v1/auth/console'
/** The header every console request sends: a form or an <img> on another site cannot set it. */
export const CONSOLE_HEADER = 'x-gantry-console'
export const CONSOLE_COOKIE = 'gantry_console_refresh'

/** What the page gets: the access token, never the refresh token, and who it speaks for (one round trip less on every load). */
export const consoleSessionSchema = z.object({
  accessToken: z.string(),
  expiresAt: z.string().describe('ISO 8601: when the access token expires; the page refreshes before then'),
  me: whoamiSchema.describe('who the access token speaks for, as GET /api/v1/auth/me answers it'),
})
export type ConsoleSession = z.infer<typeof consoleSessionSchema>

export interface ConsoleSessionDeps {
  readonly services: Services
  readonly limits: Pick<RateLimitEdge, 'login'>
  /** Reads the new access token back as the API will (its permissions, its user) for `me`. */
  readonly authenticator: Authenticator
  /** How long the cookie lives: the refresh token's own lifetime. */
  readonly refreshTtlMs: number
}

/** The console's login, refresh and logout. */
export function consoleSessionRoutes(deps: ConsoleSessionDeps): RouteSpec[] {
  const { services } = deps
  return [
    route({
      method: 'post',
      path: `${CONSOLE_SESSION_PATH}/login`,
      tag: 'auth',
      summary: "The admin console's login: the access token in the answer, the refresh token in an HttpOnly cookie scoped to these routes.",
      auth: 'public',
      body: loginInputSchema,
      response: consoleSessionSchema,
      handler: async ({ body, ctx, req, res }) => {
        guard(req, { signingIn: true })
        await deps.limits.login(req, res, body.email)
        return answer(req, res, await services.sessions.login(body.email, body.password, ctx), deps)
      },
    }),
    route({
      method: 'post',
      path: `${CONSOLE_SESSION_PATH}/refresh`,
      tag: 'auth',
      summary: "Rotate the admin console's refresh cookie: a new access token; null when the browser holds no console session.",
      auth: 'public',
      // The page asks on every load whether its browser is signed in, and cannot see the cookie to know:
      // no cookie at all is an answer (null), not a refusal; a cookie that is refused is one (401).
      response: consoleSessionSchema.nullable(),
      handler: async ({ req, res }) => {
        guard(req, { signingIn: false })
        const presented = refreshCookie(req)
        if (!presented) return null
        // A refused cookie is left alone: a second tab's refresh racing this browser's first one is refused
        // within the grace period, and dropping the cookie then would drop the one the first just received.
        return answer(req, res, await services.sessions.refresh(presented), deps)
      },
    }),
    route({
      method: 'post',
      path: `${CONSOLE_SESSION_PATH}/logout`,
      tag: 'auth',
      summary: "End the admin console's session and drop its cookie.",
      auth: 'public',
      status: 204,
      handler: async ({ req, res }) => {
        guard(req, { signingIn: false })
        const presented = refreshCookie(req)
        res.setHeader('Set-Cookie', consoleRefreshCookie(req, '', 0))
        if (presented) await services.sessions.logout(presented)
        return undefined
      },
    }),
  ]
}

/** The console's own header, the server's own origin, and (to sign in) a transport that keeps the cookie secret. */
function guard(req: Request, { signingIn }: { signingIn: boolean }): void {
  if (req.get(CONSOLE_HEADER) !== '1') {
    throw new GantryError('CONSOLE_ORIGIN_REFUSED', `Console session requests carry the ${CONSOLE_HEADER} header; only the console page sends it.`)
  }
  const own = `${req.protocol}://${req.host}`
  if (req.get('origin') !== own) {
    throw new GantryError(
      'CONSOLE_ORIGIN_REFUSED',
      `This request's Origin is not the server's own (${own}); only the console page it serves may use its session.`,
    )
  }
  if (signingIn && !req.secure && !onLoopback(req)) {
    throw new GantryError('CONSOLE_INSECURE', `The console signs in over HTTPS only (or on localhost); this request came over plain HTTP to ${req.hostname}.`)
  }
}

/**
 * Plain HTTP is safe for the cookie only when nothing but this machine carries it: the name the browser
 * asked for is a loopback one, and the connection itself comes from this machine (a Host header alone is
 * the client's word; an SSH tunnel or a browser on the same host passes both).
 */
export function onLoopback(req: Request): boolean {
  return isLoopback(req.hostname) && isLoopback(req.socket.remoteAddress ?? '')
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/^::ffff:/, '')
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function refreshCookie(req: Request): string | undefined {
  const header = req.get('cookie')
  return header ? parseCookies(header)[CONSOLE_COOKIE] : undefined
}

async function answer(req: Request, res: Response, tokens: SessionTokens, deps: ConsoleSessionDeps): Promise<ConsoleSession> {
  const me = await deps.services.sessions.whoami(await deps.authenticator.authenticate(tokens.accessToken, req.ip))
  res.setHeader('Set-Cookie', consoleRefreshCookie(req, tokens.refreshToken, Math.floor(deps.refreshTtlMs / 1000)))
  res.setHeader('Cache-Control', 'no-store')
  return { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, me }
}

/** The console's refresh cookie (single sign-on's callback sets it too). */
export function consoleRefreshCookie(req: Request, value: string, maxAgeSeconds: number): string {
  return serializeCookie(CONSOLE_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure || !onLoopback(req),
    path: CONSOLE_SESSION_PATH,
    maxAge: maxAgeSeconds,
  })
}
