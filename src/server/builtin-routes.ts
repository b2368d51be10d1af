/**
 * The server's routes that Gantry's built-in rate-limit rules name. They are facts of this HTTP server, so
 * they live here and the composition root (src/runtime.ts) hands them to the core, which names no path
 * itself. They must stay in step with the routes: auth.routes.ts (login), oauth.routes.ts (token), sso.routes.ts
 * (single sign-on: its rule is on only where auth.sso.providers names one), health.routes.ts and
 * meta.routes.ts (the exempt probes and the metrics scrape).
 */
import type { BuiltinRuleRoutes } from '../core/ratelimits/builtin-rules.js'

export const BUILTIN_RULE_ROUTES: BuiltinRuleRoutes = {
  login: { method: 'POST', path: '/api/v1/auth/login' },
  // The token and revocation endpoints: both check a client's secret.
  token: { method: 'POST', path: '/oauth/*' },
  // Start, callback and the CLI's exchange: each writes or takes a pending sign-in.
  sso: { method: '*', path: '/api/v1/auth/sso/*' },
  // No default rule counts these: probes and scrapers must keep working while clients are throttled.
  exempt: ['/api/health', '/api/health/*', '/metrics'],
}
