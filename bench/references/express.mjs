/**
 * A bare Express 5 app answering GET /api/health with the same small JSON as Gantry's liveness route: no
 * middleware at all. Like Gantry's app it sends no X-Powered-By and computes no ETag (Express's defaults
 * would add a header and a hash of every body: work Gantry does not do, which would flatter the ratio).
 * Env: PORT, BENCH_VERSION.
 */
import express from 'express'

const version = process.env.BENCH_VERSION ?? '0.0.0'
const startedAt = Date.now()
const app = express()
app.disable('x-powered-by')
app.set('etag', false)
app.get('/api/health', (_req, res) => {
  const body = { status: 'pass', version, uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000) }
  res.status(200).type('application/health+json').send(JSON.stringify(body))
})
app.listen(Number(process.env.PORT), '127.0.0.1')
