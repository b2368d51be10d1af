/**
 * A node:http server of the tests' own whose every answer a test scripts: slow past the timeout, 5xx then
 * recovering, 429 with Retry-After, connections reset. It records what it received.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { errorCodes, GantryError, type ErrorCode } from '../../src/core/errors.js'
import { problemTypeUri } from '../../src/server/problem.js'

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string, n: number) => void

export interface FaultServer {
  readonly url: string
  readonly received: Received[]
  /** Answers the next requests with these handlers in turn; the last one repeats. */
  script(...handlers: Handler[]): void
  close(): Promise<void>
}

/** Starts the server on a free loopback port. */
export async function startFaultServer(): Promise<FaultServer> {
  const received: Received[] = []
  let handlers: Handler[] = [json(200, {})]
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      const n = received.length
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const handler = handlers[Math.min(n, handlers.length - 1)]
      handler?.(req, res, body, n)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script(...next) {
      handlers = next
      received.length = 0
    },
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Answers JSON (or problem+json when `problem`). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    const type = status >= 400 && body && typeof body === 'object' && 'code' in body ? 'application/problem+json' : 'application/json'
    res.writeHead(status, { 'content-type': type, ...headers })
    res.end(JSON.stringify(body))
  }
}

/** A problem+json answer with a code, shaped as the server's (a code the catalog lacks gets a made-up title). */
export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Handler {
  const known = (errorCodes as readonly string[]).includes(code) ? (code as ErrorCode) : undefined
  const title = known ? new GantryError(known, detail).title : 'Fault of a test server'
  const body = { type: problemTypeUri(code as ErrorCode), title, status, detail, instance: 'urn:gantry:request:fault', code, ...extra }
  return json(status, body, headers)
}

/** Never answers (until the client gives up). */
export const silent: Handler = () => undefined

/** Cuts the connection without an answer. */
export const reset: Handler = (req) => req.socket.destroy()
