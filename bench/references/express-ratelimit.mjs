/**
 * A tiny Express 5 app answering GET /bench with a small JSON body, with or without Gantry's rate-limit
 * middleware in front (BENCH_RATELIMIT=on|off), so the two differ in that middleware alone: the built edge
 * middleware of dist/src/server/middleware/rate-limit.js over `createRateLimiter` with one
 * rule matching every request, keyed on the client IP, limit and burst so high that nothing is refused, in
 * the memory store; observe does nothing. Like Gantry's app it sends no X-Powered-By and computes no ETag.
 * Env: PORT, BENCH_RATELIMIT, BENCH_DIST (the dist/ directory of the package measured).
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import express from 'express'

const app = express()
app.disable('x-powered-by')
app.set('etag', false)

if (process.env.BENCH_RATELIMIT === 'on') {
  const load = (path) => import(pathToFileURL(join(process.env.BENCH_DIST, 'src', path)).href)
  const [{ createRateLimiter, createMemoryStore }, edge] = await Promise.all([load('ratelimit/index.js'), load('server/middleware/rate-limit.js')])
  const rule = {
    name: 'bench',
    match: { method: '*', path: '/*' },
    key: 'ip',
    limit: 1_000_000,
    windowMs: 1000,
    burst: 1_000_000,
    mode: 'enforce',
    onStoreError: 'open',
  }
  const store = createMemoryStore({ clock: { now: () => Date.now() } })
  const limiter = createRateLimiter({ rules: [rule], store })
  const observe = () => {}
  // The edge reads only the live rules' `chain` on this path (`login` only in the login route).
  app.use(edge.rateLimitEdge({ chain: limiter, login: createRateLimiter({ rules: [], store }) }, observe).middleware)
}

app.get('/bench', (_req, res) => {
  res.status(200).json({ ok: true })
})

const server = app.listen(Number(process.env.PORT), '127.0.0.1')
// The generator keeps its connections between runs (the other side runs in between): longer than Node's 5 s default.
server.keepAliveTimeout = 60_000
