/**
 * The server's public auth and health routes as typed calls: their paths and answer schemas named once
 * on the client side (the admin routes have theirs in src/admin/http-admin.ts), for login, logout, the
 * refresh of a stored session and the readiness probe.
 */
import { healthSchema, type Health } from '../core/health/health.schema.js'
import { logoutResultSchema } from '../core/sessions/credentials.schema.js'
import { sessionTokensSchema, type SessionTokens } from '../core/sessions/sessions.schema.js'
import { whoamiSchema, type Whoami } from '../core/sessions/whoami.js'
import {
  ssoDevicePollSchema,
  ssoDeviceStartSchema,
  ssoProvidersSchema,
  type SsoDevicePoll,
  type SsoDeviceStart,
  type SsoProviders,
} from '../core/sso/sso.schema.js'
import type { ApiClient } from './types.js'

const AUTH = '/api/v1/auth'

export interface AuthApi {
  /** Starts a session; never retried (a repeated login would start two). */
  login(email: string, password: string): Promise<SessionTokens>
  /** Rotates a refresh token; never retried (the first answer already rotated it). */
  refresh(refreshToken: string): Promise<SessionTokens>
  /** Ends the session of a refresh token; safe to repeat. */
  logout(refreshToken: string): Promise<{ revoked: number }>
  /** Who the client's credentials speak for. */
  me(): Promise<Whoami>
  /** The readiness document, and its status code: 503 is an answer (not ready), not a failure. */
  ready(): Promise<{ status: number; body: Health }>
  /** The identity providers the server signs in with. */
  ssoProviders(): Promise<SsoProviders>
  /** `gantry login --sso`: the session its sign-in handed to this CLI's loopback; never retried (the code is good once). */
  ssoExchange(code: string, verifier: string): Promise<SessionTokens>
  /** `gantry login --sso` without a browser: a device sign-in at the provider (RFC 8628); never retried (each start is a new code). */
  ssoDeviceStart(provider: string): Promise<SsoDeviceStart>
  /** One poll of a device sign-in (pending with the seconds to wait, or the session); never retried (the session is handed out once). */
  ssoDevicePoll(handle: string): Promise<SsoDevicePoll>
}

export function authApi(client: ApiClient): AuthApi {
  return {
    login: (email, password) =>
      client.request({ method: 'POST', path: `${AUTH}/login`, body: { email, password }, schema: sessionTokensSchema, authenticate: false, idempotent: false }),
    refresh: (refreshToken) =>
      client.request({ method: 'POST', path: `${AUTH}/refresh`, body: { refreshToken }, schema: sessionTokensSchema, authenticate: false, idempotent: false }),
    logout: (refreshToken) =>
      client.request({ method: 'POST', path: `${AUTH}/logout`, body: { refreshToken }, schema: logoutResultSchema, authenticate: false, idempotent: true }),
    me: () => client.request({ method: 'GET', path: `${AUTH}/me`, schema: whoamiSchema }),
    ready: () => client.requestWithStatus({ method: 'GET', path: '/api/health/ready', schema: healthSchema, accept: [503], authenticate: false }),
    ssoProviders: () => client.request({ method: 'GET', path: `${AUTH}/sso`, schema: ssoProvidersSchema, authenticate: false }),
    ssoExchange: (code, verifier) =>
      client.request({
        method: 'POST',
        path: `${AUTH}/sso/token`,
        body: { code, verifier },
        schema: sessionTokensSchema,
        authenticate: false,
        idempotent: false,
      }),
    ssoDeviceStart: (provider) =>
      client.request({
        method: 'POST',
        path: `${AUTH}/sso/${encodeURIComponent(provider)}/device`,
        schema: ssoDeviceStartSchema,
        authenticate: false,
        idempotent: false,
      }),
    ssoDevicePoll: (handle) =>
      client.request({
        method: 'POST',
        path: `${AUTH}/sso/device/token`,
        body: { handle },
        schema: ssoDevicePollSchema,
        authenticate: false,
        idempotent: false,
      }),
  }
}
