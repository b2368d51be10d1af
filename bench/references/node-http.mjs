/**
 * The floor: a bare node:http server answering GET /api/health with the same small JSON as Gantry's liveness
 * route (same fields, same media type). Nothing can serve this answer with less work in Node.
 * Env: PORT, BENCH_VERSION.
 */
import { Buffer } from 'node:buffer'
import { createServer } from 'node:http'

const version = process.env.BENCH_VERSION ?? '0.0.0'
const startedAt = Date.now()

createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/health') {
    const body = JSON.stringify({ status: 'pass', version, uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000) })
    res.writeHead(200, { 'Content-Type': 'application/health+json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  } else {
    res.writeHead(404).end()
  }
}).listen(Number(process.env.PORT), '127.0.0.1')
