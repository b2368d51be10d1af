/**
 * The routes the console calls beyond the operation table (sessions, health, this instance's traffic). The
 * HTTP test of the console (test/integration/server/console.test.ts) checks each against the served document.
 */
export const CONSOLE_ROUTES = {
  login: { method: 'POST', path: '/api/v1/auth/console/login' },
  refresh: { method: 'POST', path: '/api/v1/auth/console/refresh' },
  logout: { method: 'POST', path: '/api/v1/auth/console/logout' },
  ready: { method: 'GET', path: '/api/health/ready' },
  traffic: { method: 'GET', path: '/api/v1/admin/traffic' },
} as const satisfies Record<string, { method: string; path: string }>
