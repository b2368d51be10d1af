/**
 * Single sign-on over HTTP: the providers a sign-in page offers, the redirect to one, and its callback.
 * The redirect sets a cookie binding the sign-in to this browser (HttpOnly, SameSite=Lax — the callback is
 * a top-level navigation back from the provider, which Lax lets through and Strict would not — Path these
 * routes, ten minutes); the callback needs it, so a callback URL sent to someone else signs nobody in (login
 * CSRF). A finished sign-in becomes the console's session (its refresh cookie, console-session.routes.ts)
 * and the browser goes to the console; a refused one goes there too, with the refusal named in the address
 * (`?sso=refused`): the reason is in the audit log, not in the browser.
 */
import type { Request } from 'express'
import { parse as parseCookies, serialize as serializeCookie } from 'cookie'
import { z } from 'zod'
import { isGantryError } from '../../core/errors.js'
import type { Services } from '../../core/services.js'
import { consoleRefreshCookie, onLoopback } from './console-session.routes.js'
import { route, type RouteSpec } from './route.js'

export const SSO_PATH = '/api/v1/auth/sso'
const BINDING_COOKIE = 'gantry_sso'
const BINDING_MAX_AGE_SECONDS = 600
const CONSOLE = '/console/'

const providerParams = z.object({ provider: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a provider id of auth.sso.providers') })
const providersSchema = z.object({ providers: z.array(z.object({ id: z.string(), name: z.string() })) })

export interface SsoRouteDeps {
  readonly services: Pick<Services, 'sso'>
  /** How long the console's refresh cookie lives: the refresh token's own lifetime. */
  readonly refreshTtlMs: number
}

/** The sign-in routes. */
export function ssoRoutes(deps: SsoRouteDeps): RouteSpec[] {
  const { sso } = deps.services
  return [
    route({
      method: 'get',
      path: SSO_PATH,
      tag: 'auth',
      summary: 'The identity providers this environment signs in with (auth.sso.providers): what a sign-in page offers.',
      auth: 'public',
      response: providersSchema,
      handler: async () => ({ providers: sso.providers() }),
    }),
    route({
      method: 'get',
      path: `${SSO_PATH}/:provider/start`,
      tag: 'auth',
      summary:
        'Sign in with an identity provider: redirects to it (code flow with PKCE, state and nonce) and sets the cookie that binds the sign-in to this browser.',
      auth: 'public',
      params: providerParams,
      status: 302,
      handler: async ({ params, req, res }) => {
        const { url, binding } = await sso.start(params.provider, 'console')
        res.setHeader('Set-Cookie', bindingCookie(req, binding, BINDING_MAX_AGE_SECONDS))
        res.setHeader('Cache-Control', 'no-store')
        res.redirect(302, url)
        return undefined
      },
    }),
    route({
      method: 'get',
      path: `${SSO_PATH}/:provider/callback`,
      tag: 'auth',
      summary:
        "The identity provider's redirect back: checks state, the browser's binding, iss, the code and the ID token, then signs the user in to the console.",
      auth: 'public',
      params: providerParams,
      status: 302,
      handler: async ({ params, req, res, ctx }) => {
        const binding = req.get('cookie') ? parseCookies(req.get('cookie') as string)[BINDING_COOKIE] : undefined
        res.setHeader('Cache-Control', 'no-store')
        const cleared = bindingCookie(req, '', 0)
        try {
          const { tokens } = await sso.complete(params.provider, `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`, binding, ctx)
          res.setHeader('Set-Cookie', [cleared, consoleRefreshCookie(req, tokens.refreshToken, Math.floor(deps.refreshTtlMs / 1000))])
          res.redirect(302, CONSOLE)
        } catch (err) {
          if (!isGantryError(err) || err.code !== 'SSO_FAILED') throw err
          res.setHeader('Set-Cookie', cleared)
          res.redirect(302, `${CONSOLE}?sso=refused`)
        }
        return undefined
      },
    }),
  ]
}

function bindingCookie(req: Request, value: string, maxAgeSeconds: number): string {
  return serializeCookie(BINDING_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: req.secure || !onLoopback(req),
    path: SSO_PATH,
    maxAge: maxAgeSeconds,
  })
}
