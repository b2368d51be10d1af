/**
 * An Express 5 app protected by Gantry: the users, roles, API keys and rate-limit rules managed with the
 * `gantry` CLI (and `gantry serve`, which does the logins) are enforced here, on the app's own routes.
 *
 * Start it in the Gantry workspace (the folder with gantry.config.json):
 *
 *   node path/to/examples/express-app/server.mjs        # PORT (default 4000), GANTRY_ENV (default development)
 *
 * In your own app, `npm install gantry` and the import below reads the same.
 */
import express from 'express'
import { createGantry } from 'gantry'
import { createOrder, listOrders, ordersReady, salesReport, searchOrders } from './orders.mjs'

// The workspace is the current folder; the environment is GANTRY_ENV's (development by default). The app
// declares the permissions it checks, so that roles can grant them (`gantry roles update … --grant orders:write`).
const gantry = await createGantry({
  permissions: ['orders:read', 'orders:write', 'reports:read'],
  checks: { orders: ordersReady },
})

const app = express()
app.disable('x-powered-by')

// Probes and scrapers first, so that no rate-limit rule ever counts them.
// Readiness: Gantry's checks (database, rate-limit store) plus the app's own, as application/health+json.
app.get('/health/ready', gantry.readiness())
app.get('/metrics', async (_req, res) => {
  res.type(gantry.metrics.contentType).send(await gantry.metrics.metrics())
})

// Every other route: the rules of `gantry ratelimit` keyed on the client address (or global) apply here;
// those keyed on the user or the API key apply once authenticate() / verifyApiKey() knows the caller.
app.use(gantry.rateLimit())
app.use(express.json())

// A Bearer access token from Gantry's login (or an API key); then what the route needs.
app.get('/orders', gantry.authenticate(), gantry.requirePermission('orders:read'), listOrders)
app.post('/orders', gantry.authenticate(), gantry.requirePermission('orders:write'), createOrder)

// Machine clients only: an API key (Bearer or X-API-Key) whose scopes include reports:read.
app.get('/reports', gantry.verifyApiKey(), gantry.requirePermission('reports:read'), salesReport)

// Public, but limited: `gantry ratelimit set search --match "GET /search" --limit 5 --window 1m --burst 5`.
app.get('/search', searchOrders)

// Gantry's refusals (401, 403, 429 …) and any other error as application/problem+json.
app.use(gantry.errors())

const port = Number(process.env.PORT ?? 4000)
const host = process.env.HOST ?? '127.0.0.1'
const server = app.listen(port, host, () => {
  const { port: bound } = server.address()
  console.log(JSON.stringify({ msg: 'listening', url: `http://${host}:${bound}` }))
})

// SIGTERM / Ctrl-C: stop taking connections, let the requests in flight finish, then close Gantry's
// database pool and Redis connection.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => void gantry.close().then(() => process.exit(0)))
    server.closeIdleConnections()
  })
}
