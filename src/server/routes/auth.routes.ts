/**
 * Sessions over HTTP: login, refresh, logout, me. Login is throttled per account and per client address
 * before the password hash runs (the most expensive thing the server does), and at most a few hashes run
 * at once, so a login flood cannot starve other routes.
 */
import { isGantryError } from '../../core/errors.js'
import { BUILTIN_RULE_ROUTES } from '../builtin-routes.js'
import { loginInputSchema, logoutResultSchema, refreshInputSchema } from '../../core/sessions/credentials.schema.js'
import { sessionTokensSchema } from '../../core/sessions/sessions.schema.js'
import { whoamiSchema } from '../../core/sessions/whoami.js'
import type { Services } from '../../core/services.js'
import type { Metrics } from '../metrics.js'
import type { RateLimitEdge } from '../middleware/rate-limit.js'
import { route, type RouteSpec } from './route.js'

export interface AuthRouteDeps {
  readonly services: Services
  readonly limits: Pick<RateLimitEdge, 'login'>
  readonly metrics: Metrics
}

/** The session routes. */
export function authRoutes(deps: AuthRouteDeps): RouteSpec[] {
  const { services, metrics } = deps
  return [
    route({
      method: 'post',
      path: BUILTIN_RULE_ROUTES.login.path,
      tag: 'auth',
      summary: 'Log in with email and password: an access token and a refresh token.',
      auth: 'public',
      body: loginInputSchema,
      response: sessionTokensSchema,
      handler: async ({ body, ctx, req, res }) => {
        try {
          await deps.limits.login(req, res, body.email)
          const tokens = await services.sessions.login(body.email, body.password, ctx)
          metrics.observeLogin('success')
          return tokens
        } catch (err) {
          metrics.observeLogin(loginOutcome(err))
          throw err
        }
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/auth/refresh',
      tag: 'auth',
      summary: 'Rotate a refresh token: a new access token and refresh token.',
      auth: 'public',
      body: refreshInputSchema,
      response: sessionTokensSchema,
      handler: ({ body }) => services.sessions.refresh(body.refreshToken),
    }),
    route({
      method: 'post',
      path: '/api/v1/auth/logout',
      tag: 'auth',
      summary: 'End the session of a refresh token.',
      auth: 'public',
      body: refreshInputSchema,
      response: logoutResultSchema,
      handler: ({ body }) => services.sessions.logout(body.refreshToken),
    }),
    route({
      method: 'get',
      path: '/api/v1/auth/me',
      tag: 'auth',
      summary: 'Who the credentials belong to, and what they may do.',
      auth: 'required',
      response: whoamiSchema,
      handler: ({ ctx }) => deps.services.sessions.whoami(ctx),
    }),
  ]
}

function loginOutcome(err: unknown): 'invalid' | 'throttled' | 'error' {
  if (!isGantryError(err)) return 'error'
  if (err.code === 'RATE_LIMITED') return 'throttled'
  return err.code === 'INVALID_CREDENTIALS' || err.code === 'INVALID_INPUT' || err.code === 'ACCOUNT_DISABLED' ? 'invalid' : 'error'
}
