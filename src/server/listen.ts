/**
 * Starting and stopping the server. Shutdown drains instead of dropping: readiness turns 503 at once (the
 * load balancer stops sending), every answer from then on asks the client to close its connection, and
 * after the drain delay the listener closes, in-flight requests finish (up to a deadline) and idle
 * keep-alive connections close.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { GantryError } from '../core/errors.js'
import type { GantryApp } from './app.js'
import { requestIdFor, requestIdOf } from './middleware/request-id.js'
import { PROBLEM_TYPE, toProblem } from './problem.js'

/** Once the listener is closed, how often connections that have turned idle are closed. */
const IDLE_SWEEP_MS = 50
/**
 * How long after it opened a connection that has not sent a request yet may stay once the listener is
 * closed: one accepted just before the close has its request on the way, and is answered. Node's own
 * close() never closes such a connection, so one that stays silent would hold the drain to its deadline.
 */
const FRESH_CONNECTION_GRACE_MS = 1000

/** Whether shutdown has begun; shared by the app (readiness, Connection: close) and the listener. */
export interface Lifecycle {
  draining(): boolean
  beginDrain(): void
}

/** A fresh lifecycle, not draining. */
export function createLifecycle(): Lifecycle {
  let draining = false
  return { draining: () => draining, beginDrain: () => void (draining = true) }
}

export interface ListenOptions {
  readonly port: number
  readonly host: string
  /** Between readiness turning 503 and the listener closing: time for load balancers to notice. */
  readonly drainDelayMs: number
  /** After the listener closes, how long in-flight requests may take before their connections are cut. */
  readonly shutdownTimeoutMs: number
}

export interface RunningServer {
  readonly server: Server
  /** `http://host:port` as bound (port 0 resolved). */
  readonly url: string
  /** Drains and stops; resolves once every connection is closed. Safe to call twice. */
  stop(): Promise<void>
}

/**
 * Binds the app; rejects (EADDRINUSE, EACCES) when the address cannot be bound. A request the app answers
 * early (liveness) never reaches Express; it is counted in like every other, so it closes its connection
 * while draining too.
 */
export async function listen(app: GantryApp, lifecycle: Lifecycle, options: ListenOptions): Promise<RunningServer> {
  const connections = trackConnections(lifecycle)
  // Node's own refusals of an HTTP/1.1 request without Host (400) and of an unknown Expect (417) are bare
  // status lines; these answer them as problem+json, like every other refusal.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      return answerProblem(
        req,
        res,
        new GantryError('INVALID_INPUT', 'An HTTP/1.1 request needs a Host header.', { hint: 'Send a Host header naming the server.' }),
      )
    }
    connections.request(req, res)
    if (!app.answerEarly(req, res)) app(req, res)
  })
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
    answerProblem(req, res, new GantryError('EXPECTATION_FAILED', 'The only expectation served is 100-continue.')),
  )
  server.on('connection', connections.add)
  server.on('clientError', answerClientError)
  // close() calls this to cut idle keep-alive connections; ours also ends silent new ones after their grace.
  server.closeIdleConnections = connections.closeIdle
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let stopping: Promise<void> | undefined

  const drain = async (): Promise<void> => {
    lifecycle.beginDrain()
    connections.askToClose()
    await delay(options.drainDelayMs)
    // close() stops accepting and closes idle connections; busy ones close after their answer (it carries
    // Connection: close). One whose answer began before the drain turns idle when that answer ends, and a
    // fresh one once its grace is over: sweep until the last one is gone. Past the deadline the rest is cut.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    const sweep = setInterval(connections.closeIdle, IDLE_SWEEP_MS)
    const deadline = setTimeout(connections.closeAll, options.shutdownTimeoutMs)
    await closed
    clearInterval(sweep)
    clearTimeout(deadline)
  }

  return {
    server,
    url: `http://${host}:${address.port}`,
    stop: () => (stopping ??= drain()),
  }
}

interface Connection {
  readonly openedAt: number
  /** Requests received whose answer has not ended. */
  inFlight: number
  /** socket.bytesRead when the last answer ended: more means the next request has begun to arrive. */
  readAtIdle: number
}

/** The server's connections and answers, for closing them at the right moment during a drain. */
function trackConnections(lifecycle: Lifecycle) {
  const connections = new Map<Socket, Connection>()
  const answering = new Set<ServerResponse>()
  return {
    add: (socket: Socket): void => {
      connections.set(socket, { openedAt: performance.now(), inFlight: 0, readAtIdle: 0 })
      socket.once('close', () => connections.delete(socket))
    },
    /** Counts a request in; during the drain its answer asks the client to close. */
    request: (req: IncomingMessage, res: ServerResponse): void => {
      if (lifecycle.draining()) res.setHeader('Connection', 'close')
      answering.add(res)
      const connection = connections.get(req.socket)
      if (connection) connection.inFlight += 1
      res.once('close', () => {
        answering.delete(res)
        if (!connection) return
        connection.inFlight -= 1
        connection.readAtIdle = req.socket.bytesRead
      })
    },
    /** Answers already under way whose headers are not sent yet ask the client to close, too. */
    askToClose: (): void => {
      for (const res of answering) if (!res.headersSent) res.setHeader('Connection', 'close')
    },
    /** Closes connections with no request in flight or arriving; a fresh one only after its grace. */
    closeIdle: (): void => {
      const now = performance.now()
      for (const [socket, c] of connections) {
        if (c.inFlight > 0 || socket.bytesRead > c.readAtIdle) continue
        if (socket.bytesRead === 0 && now - c.openedAt < FRESH_CONNECTION_GRACE_MS) continue
        socket.destroy()
      }
    },
    closeAll: (): void => {
      for (const socket of connections.keys()) socket.destroy()
    },
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

/** What Node's parser refuses before Express sees the request, as the catalog names it. */
const CLIENT_ERRORS: Readonly<Record<string, () => GantryError>> = {
  HPE_HEADER_OVERFLOW: () => new GantryError('HEADERS_TOO_LARGE', 'The request headers are too large.'),
  ERR_HTTP_REQUEST_TIMEOUT: () => new GantryError('REQUEST_TIMEOUT', 'The request took too long to arrive.'),
}

/**
 * A request Node's HTTP parser refused (a bad request line or header, raw bytes in the path, oversized
 * headers) still gets a problem+json answer like every other error, instead of Node's bare status line,
 * with a request id of its own: the parser has read no header the caller's id could come from.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const failure =
    CLIENT_ERRORS[err.code ?? '']?.() ??
    new GantryError('INVALID_INPUT', 'The request is not valid HTTP/1.1.', {
      hint: 'Check the request line and headers: no spaces, control characters or raw non-ASCII bytes in the path, no line breaks in a header value.',
    })
  const id = requestIdFor(undefined)
  const body = JSON.stringify(toProblem(failure, id, ''))
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? 'Bad Request'}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** A refusal of the listener's own, before the app: problem+json under the request's id, and the connection closes. */
function answerProblem(req: IncomingMessage, res: ServerResponse, failure: GantryError): void {
  const id = requestIdOf(req)
  const body = JSON.stringify(toProblem(failure, id, (req.url ?? '').split('?')[0] ?? ''))
  res.writeHead(failure.status, { 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body), 'x-request-id': id, connection: 'close' })
  res.end(body)
}
