/**
 * Single sign-on over HTTP: the providers a sign-in page offers, the redirect to one, and its callback.
 * The redirect sets a cookie binding the sign-in to this browser (HttpOnly, SameSite=Lax — the callback is
 * a top-level navigation back from the provider, which Lax lets through and Strict would not — Path these
 * routes, ten minutes); the callback needs it, so a callback URL sent to someone else signs nobody in (login
 * CSRF). A finished sign-in becomes the console's session (its refresh cookie, console-session.routes.ts)
 * and the browser goes to the console; a refused one goes there too, with the refusal named in the address
 * (`?sso=refused`): the reason is in the audit log, not in the browser. A sign-in `gantry login --sso`
 * started ends at the CLI's loopback address instead, with a one-time code the CLI exchanges here (with the
 * verifier of the PKCE challenge it sent) for its session. A CLI without a browser at hand asks for a device
 * sign-in instead (RFC 8628): the person enters a code at the provider on any device while the CLI polls.
 */
import type { Request } from 'express'
import { parse as parseCookies, serialize as serializeCookie } from 'cookie'
import { z } from 'zod'
import { GantryError, isGantryError } from '../../core/errors.js'
import type { Services } from '../../core/services.js'
import { sessionTokensSchema } from '../../core/sessions/sessions.schema.js'
import {
  cliSignInSchema,
  ssoDevicePollInputSchema,
  ssoDevicePollSchema,
  ssoDeviceStartSchema,
  ssoExchangeInputSchema,
  ssoProvidersSchema,
} from '../../core/sso/sso.schema.js'
import type { SsoReturn } from '../../core/sso/sso.service.js'
import type { RateLimitEdge } from '../middleware/rate-limit.js'
import { consoleRefreshCookie, onLoopback } from './console-session.routes.js'
import { route, type RouteSpec } from './route.js'

export const SSO_PATH = '/api/v1/auth/sso'
const BINDING_COOKIE = 'gantry_sso'
const BINDING_MAX_AGE_SECONDS = 600
const CONSOLE = '/console/'

const providerParams = z.object({ provider: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a provider id of auth.sso.providers') })
/** `gantry login --sso` adds where it waits, its state and its PKCE challenge (the service checks all three); a browser sign-in for the console adds nothing. */
const startQuery = cliSignInSchema.partial()

export interface SsoRouteDeps {
  readonly services: Pick<Services, 'sso'>
  /** How long the console's refresh cookie lives: the refresh token's own lifetime. */
  readonly refreshTtlMs: number
  /** auth.passwordLogin: a sign-in page shows the password form only where it is on. */
  readonly passwordLogin: boolean
  /** The built-in sign-on rule, per address, checked before any work (on only where a provider is configured). */
  readonly limits: Pick<RateLimitEdge, 'address'>
}

/** The sign-in routes. */
export function ssoRoutes(deps: SsoRouteDeps): RouteSpec[] {
  const { sso } = deps.services
  return [
    route({
      method: 'get',
      path: SSO_PATH,
      tag: 'auth',
      summary: 'The identity providers this environment signs in with (auth.sso.providers), and whether password sign-in is on: what a sign-in page offers.',
      auth: 'public',
      response: ssoProvidersSchema,
      handler: async () => ({ providers: sso.providers(), passwordLogin: deps.passwordLogin }),
    }),
    route({
      method: 'get',
      path: `${SSO_PATH}/:provider/start`,
      tag: 'auth',
      summary:
        "Sign in with an identity provider: redirects to it (code flow with PKCE, state and nonce) and sets the cookie that binds the sign-in to this browser. With cli, state and challenge (`gantry login --sso`) the sign-in ends at the CLI's loopback address instead of the console.",
      auth: 'public',
      params: providerParams,
      query: startQuery,
      status: 302,
      handler: async ({ params, query, req, res }) => {
        await deps.limits.address(req, res)
        // The binding cookie is Secure except on loopback: over plain HTTP elsewhere the browser would drop it.
        if (!req.secure && !onLoopback(req))
          throw new GantryError(
            'CONSOLE_INSECURE',
            `Single sign-on runs over HTTPS only (or on localhost); this request came over plain HTTP to ${req.hostname}.`,
          )
        const returnTo: SsoReturn =
          query.cli === undefined ? { to: 'console' } : { to: 'cli', cli: query.cli, state: query.state ?? '', challenge: query.challenge ?? '' }
        const { url, binding } = await sso.start(params.provider, returnTo)
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
        await deps.limits.address(req, res)
        const binding = req.get('cookie') ? parseCookies(req.get('cookie') as string)[BINDING_COOKIE] : undefined
        res.setHeader('Cache-Control', 'no-store')
        const cleared = bindingCookie(req, '', 0)
        try {
          // The query alone, as sent: the service puts it on the registered redirect URI (nothing of this request's Host).
          const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : ''
          const outcome = await sso.complete(params.provider, query, binding, ctx)
          if (outcome.to === 'cli') {
            // Only to the loopback address the CLI gave at the start (checked there): never an address from this request.
            res.setHeader('Set-Cookie', cleared)
            res.redirect(302, outcome.redirect)
            return undefined
          }
          res.setHeader('Set-Cookie', [cleared, consoleRefreshCookie(req, outcome.tokens.refreshToken, Math.floor(deps.refreshTtlMs / 1000))])
          res.redirect(302, CONSOLE)
        } catch (err) {
          if (!isGantryError(err) || err.code !== 'SSO_FAILED') throw err
          res.setHeader('Set-Cookie', cleared)
          res.redirect(302, `${CONSOLE}?sso=refused`)
        }
        return undefined
      },
    }),
    route({
      method: 'post',
      path: `${SSO_PATH}/token`,
      tag: 'auth',
      summary:
        '`gantry login --sso`: the CLI takes the session its sign-in handed it, with the one-time code its loopback address received and the verifier of the challenge it sent at the start.',
      auth: 'public',
      body: ssoExchangeInputSchema,
      response: sessionTokensSchema,
      handler: async ({ body, ctx, req, res }) => {
        await deps.limits.address(req, res)
        return sso.exchange(body, ctx)
      },
    }),
    route({
      method: 'post',
      path: `${SSO_PATH}/:provider/device`,
      tag: 'auth',
      summary:
        '`gantry login --sso` without a browser: starts a device sign-in at the identity provider (RFC 8628) and answers the code the person enters there, its page, and the handle the CLI polls with.',
      auth: 'public',
      params: providerParams,
      response: ssoDeviceStartSchema,
      handler: async ({ params, req, res }) => {
        await deps.limits.address(req, res)
        res.setHeader('Cache-Control', 'no-store')
        return sso.startDevice(params.provider)
      },
    }),
    route({
      method: 'post',
      path: `${SSO_PATH}/device/token`,
      tag: 'auth',
      summary:
        "A CLI's poll of its device sign-in: pending, with the seconds to wait before the next poll, until the person approved the code; then the session (once). The provider is asked at most once per its interval.",
      auth: 'public',
      body: ssoDevicePollInputSchema,
      response: ssoDevicePollSchema,
      handler: async ({ body, ctx, req, res }) => {
        await deps.limits.address(req, res)
        res.setHeader('Cache-Control', 'no-store')
        return sso.pollDevice(body, ctx)
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
