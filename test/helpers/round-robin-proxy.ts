/**
 * A round-robin HTTP load balancer of the test's own, in front of `gantry serve` instances, behaving as a
 * real one does (nginx `upstream` with `keepalive` and `proxy_next_upstream error`, a cloud LB with
 * health checks), so a rolling restart can be tested the way it is run:
 *
 * - Upstream keep-alive: one keep-alive agent per backend, closing an idle connection before the backend
 *   would (test/helpers/http-load.ts keepAliveAgent).
 * - Rotation: each backend's readiness (`GET /api/health/ready`) is polled every `checkIntervalMs`; it is in
 *   the rotation while its last check answered 200. A 503 (draining, not ready) or a failed check takes it
 *   out, and so does a refused connection, at once, until a check passes again. Round-robin over the rest.
 * - Retries: a request is sent to another backend ONLY when none of its bytes can have reached the one
 *   tried: the connection to it was refused or failed before it was established. A request written on a
 *   connection — a fresh one that connected, or a reused keep-alive one — is never sent again, whatever
 *   happens next (reset, cut answer, timeout): it may have had its effect. Its client then gets a 502 (504
 *   on a timeout), or a cut answer when the backend's had begun: failures the client sees and counts. This
 *   is stricter than nginx, which also retries an idempotent request written before the error.
 * - Hop-by-hop headers are dropped both ways: a backend's `Connection: close` ends the balancer's
 *   connection to that backend, never the client's.
 *
 * Request bodies are read whole before forwarding (small admin and login bodies), so a retry can resend.
 */
import {
  createServer,
  request as httpRequest,
  type Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { keepAliveAgent } from './http-load.js'
import { until } from './serve-process.js'

export interface ProxyOptions {
  /** Between two readiness checks of one backend (default 100 ms). */
  readonly checkIntervalMs?: number
  /** A backend answer taking longer fails (default 10 s); a readiness check, at most 2 s. */
  readonly upstreamTimeoutMs?: number
}

/** A request sent again to another backend, and why. */
export interface Retry {
  readonly from: string
  readonly reason: string
  readonly at: number
}

/** A request that reached a backend and then got no whole answer from it. */
export interface UpstreamFailure {
  readonly backend: string
  readonly path: string
  readonly reason: string
  readonly at: number
}

export interface BackendState {
  readonly url: string
  readonly inRotation: boolean
  /** Requests forwarded to it (retries included). */
  readonly forwarded: number
  /** performance.now() of each time it left the rotation, and why. */
  readonly takenOut: readonly { readonly at: number; readonly why: string }[]
}

export interface RoundRobinProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Starts checking `url`; resolves once it is in the rotation (its readiness answered 200). */
  add(url: string, timeoutMs?: number): Promise<void>
  /** Out of the rotation for good; its idle connections closed. */
  remove(url: string): void
  backend(url: string): BackendState | undefined
  readonly retries: readonly Retry[]
  readonly upstreamFailures: readonly UpstreamFailure[]
  /** Requests answered 502 because no backend was in the rotation (or every one refused). */
  noBackend(): number
  stop(): Promise<void>
}

interface Backend {
  readonly url: string
  readonly agent: Agent
  inRotation: boolean
  removed: boolean
  forwarded: number
  readonly takenOut: { at: number; why: string }[]
  timer?: NodeJS.Timeout
}

/** Headers that belong to one connection (RFC 9110 7.6.1), plus those its Connection header names. */
function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
  const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', ...named])
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name)))
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', reject)
  })
}

function problem(res: ServerResponse, status: number, detail: string): void {
  if (res.headersSent) return void res.destroy()
  const body = JSON.stringify({ title: 'proxy', status, detail })
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }).end(body)
}

/** Starts the balancer on a free loopback port, with no backend yet. */
export async function startRoundRobinProxy(options: ProxyOptions = {}): Promise<RoundRobinProxy> {
  const checkIntervalMs = options.checkIntervalMs ?? 100
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 10_000
  /** Every backend ever added; the removed ones are kept for their figures. */
  const backends: Backend[] = []
  const retries: Retry[] = []
  const upstreamFailures: UpstreamFailure[] = []
  let noBackend = 0
  let cursor = 0
  let stopped = false

  const takeOut = (backend: Backend, why: string): void => {
    if (!backend.inRotation) return
    backend.inRotation = false
    backend.takenOut.push({ at: performance.now(), why })
  }
  /** The next backend in the rotation not tried yet for this request. */
  const next = (tried: ReadonlySet<Backend>): Backend | undefined => {
    const candidates = backends.filter((b) => b.inRotation && !tried.has(b))
    if (candidates.length === 0) return undefined
    return candidates[cursor++ % candidates.length]
  }

  /** One readiness check, then the next one `checkIntervalMs` later, until the backend is removed. */
  const check = (backend: Backend): void => {
    const req = httpRequest(`${backend.url}/api/health/ready`, { agent: false, timeout: Math.min(2000, upstreamTimeoutMs) }, (res) => {
      res.resume()
      res.once('close', () => settle(res.complete && res.statusCode === 200, res.complete ? `readiness ${res.statusCode}` : 'readiness answer cut'))
    })
    req.once('timeout', () => req.destroy(new Error('readiness check timed out')))
    req.once('error', (err: NodeJS.ErrnoException) => settle(false, `readiness check: ${err.code ?? err.message}`))
    req.end()
    let settled = false
    function settle(ready: boolean, why: string): void {
      if (settled || backend.removed) return
      settled = true
      if (ready) backend.inRotation = true
      else takeOut(backend, why)
      backend.timer = setTimeout(() => check(backend), checkIntervalMs)
    }
  }

  /** Sends the request to `backend`: 'done' once the client has its answer (or its failure), or why to try another. */
  const forward = (backend: Backend, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<'done' | { retry: string }> =>
    new Promise((resolve) => {
      backend.forwarded += 1
      // Whether bytes of the request can have reached the backend: from the moment its connection is up.
      let established = false
      let timedOut = false
      const headers = endToEnd(req.headers)
      if (body.length > 0) headers['content-length'] = body.length
      const upstream = httpRequest(`${backend.url}${req.url ?? '/'}`, { method: req.method, headers, agent: backend.agent })
      const timer = setTimeout(() => {
        timedOut = true
        upstream.destroy(new Error(`no answer within ${upstreamTimeoutMs} ms`))
      }, upstreamTimeoutMs)
      upstream.once('socket', (socket) => {
        if (upstream.reusedSocket || !socket.connecting) established = true
        else socket.once('connect', () => (established = true))
      })
      upstream.once('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
        answer.pipe(res)
        answer.once('close', () => {
          clearTimeout(timer)
          if (!answer.complete) {
            upstreamFailures.push({ backend: backend.url, path: req.url ?? '', reason: 'answer cut', at: performance.now() })
            res.destroy()
          }
          resolve('done')
        })
      })
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        if (res.headersSent) return // the answer's close handles it
        if (!established) return resolve({ retry: err.code ?? err.message })
        upstreamFailures.push({ backend: backend.url, path: req.url ?? '', reason: err.code ?? err.message, at: performance.now() })
        problem(res, timedOut ? 504 : 502, `the backend failed after the request was sent: ${err.code ?? err.message}`)
        resolve('done')
      })
      upstream.end(body)
    })

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const tried = new Set<Backend>()
      for (;;) {
        const backend = next(tried)
        if (!backend) {
          noBackend += 1
          return problem(res, 502, 'no backend in the rotation')
        }
        tried.add(backend)
        const outcome = await forward(backend, req, body, res)
        if (outcome === 'done') return
        retries.push({ from: backend.url, reason: outcome.retry, at: performance.now() })
        takeOut(backend, `connection: ${outcome.retry}`)
      }
    })().catch(() => res.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  const remove = (url: string): void => {
    const backend = backends.find((b) => b.url === url && !b.removed)
    if (!backend) return
    backend.removed = true
    takeOut(backend, 'removed')
    clearTimeout(backend.timer)
    backend.agent.destroy()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async add(url, timeoutMs = 20_000) {
      const backend: Backend = { url, agent: keepAliveAgent({ maxSockets: 32 }), inRotation: false, removed: false, forwarded: 0, takenOut: [] }
      backends.push(backend)
      check(backend)
      await until(async () => (backend.inRotation ? true : undefined), `${url} in the rotation`, { timeoutMs, intervalMs: 10 })
    },
    remove,
    backend(url) {
      const b = backends.find((x) => x.url === url)
      return b && { url: b.url, inRotation: b.inRotation, forwarded: b.forwarded, takenOut: [...b.takenOut] }
    },
    retries,
    upstreamFailures,
    noBackend: () => noBackend,
    async stop() {
      if (stopped) return
      stopped = true
      for (const backend of backends) remove(backend.url)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
