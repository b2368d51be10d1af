/**
 * Sending a corpus of requests to a listening server, in-process (`app.listen(0)`) or a `gantry serve`
 * process: one keep-alive agent (a connection per request would cost more than the request), a bare
 * socket for bytes node's HTTP client refuses to put on the wire, and a bounded pool of workers.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'

/** One request of a corpus. */
export interface Probe {
  readonly method: string
  /** The request target exactly as sent (already encoded, or deliberately not). */
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Buffer
  /** Send over a bare socket: for bytes node's HTTP client refuses to put on the wire (raw UTF-8 in the target or a header). */
  readonly raw?: boolean
}

export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** No corpus request may take longer than this to be answered: a hang is a failure, not a wait. */
const ANSWER_TIMEOUT_MS = 10_000

export interface ProbeSender {
  send(probe: Probe): Promise<Answer>
  close(): void
}

/** Sends probes to 127.0.0.1:`port` over at most `maxSockets` keep-alive connections. */
export function probeSender(port: number, maxSockets = 16): ProbeSender {
  const agent = new Agent({ keepAlive: true, maxSockets })
  const send = (probe: Probe): Promise<Answer> => {
    if (probe.raw) return sendRaw(port, probe)
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...probe.headers }
      if (probe.body !== undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = Buffer.byteLength(probe.body)
      const req = httpRequest({ host: '127.0.0.1', port, method: probe.method, path: probe.path, headers, agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms: ${probe.method} ${probe.path.slice(0, 100)}`)))
      req.on('error', reject)
      req.end(probe.body)
    })
  }
  return { send, close: () => agent.destroy() }
}

/** One request over a fresh socket with `Connection: close`; the answer is read to the end of the stream. */
function sendRaw(port: number, probe: Probe): Promise<Answer> {
  const body = probe.body === undefined ? Buffer.alloc(0) : Buffer.from(probe.body)
  const headers = { host: '127.0.0.1', connection: 'close', ...probe.headers, ...(probe.body === undefined ? {} : { 'content-length': String(body.length) }) }
  const head = `${probe.method} ${probe.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`
  return sendBytes(port, Buffer.concat([Buffer.from(head, 'utf8'), body])).then((text) => parseAnswers(text)[0] ?? { status: 0, headers: {}, body: text })
}

/** After this long with nothing sent or received, the raw client half-closes: it has nothing more to say. */
const RAW_IDLE_MS = 300

/**
 * Writes `bytes` on a fresh connection and returns everything the server sent until it closed. The
 * client half-closes only once the connection has been quiet for a moment: a request still incomplete is
 * then refused by the parser, while a complete one is answered first (on a half-close Node aborts the
 * requests it has not answered yet, so closing at once would lose the answers of slower routes). Rejects
 * when the server neither answers nor closes within the bound.
 */
export function sendBytes(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let quiet: NodeJS.Timeout | undefined
    const waitForQuiet = (): void => {
      clearTimeout(quiet)
      quiet = setTimeout(() => socket.end(), RAW_IDLE_MS)
    }
    const done = (): void => {
      clearTimeout(quiet)
      resolve(Buffer.concat(chunks).toString('utf8'))
    }
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => {
      clearTimeout(quiet)
      socket.destroy(new Error(`no answer nor close within ${ANSWER_TIMEOUT_MS} ms: ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}`))
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      if (socket.writable) waitForQuiet()
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(quiet)
      // A reset after the server has said its piece (a refused request it will not read further) is an end.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') done()
      else reject(err)
    })
    socket.on('end', done)
    socket.write(bytes, waitForQuiet)
  })
}

/** Every HTTP/1.x answer in a stream, in order (several when requests were pipelined); a chunked body is decoded. */
export function parseAnswers(text: string): Answer[] {
  const answers: Answer[] = []
  let rest: Buffer = Buffer.from(text, 'utf8')
  while (/^HTTP\/1\.[01] \d{3}/.test(rest.subarray(0, 16).toString('latin1'))) {
    const split = rest.indexOf('\r\n\r\n')
    if (split < 0) break
    const [statusLine = '', ...lines] = rest.subarray(0, split).toString('utf8').split('\r\n')
    const headers: IncomingHttpHeaders = {}
    for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
    const status = Number(statusLine.split(' ')[1])
    let body: Buffer = rest.subarray(split + 4)
    if (status < 200 || status === 204 || status === 304) {
      // No body, whatever the headers say (a 100 Continue is followed by the real answer).
      rest = body
      body = Buffer.alloc(0)
    } else if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) {
      const { decoded, consumed } = dechunk(body)
      rest = body.subarray(consumed)
      body = decoded
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      rest = body.subarray(length)
      body = body.subarray(0, length)
    } else {
      rest = Buffer.alloc(0)
    }
    answers.push({ status, headers, body: body.toString('utf8') })
  }
  return answers
}

/** A chunked body: its bytes, and how many bytes of `data` it took (up to the end of the last chunk). */
function dechunk(data: Buffer): { decoded: Buffer; consumed: number } {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = data.indexOf('\r\n', at)
    if (eol < 0) return { decoded: Buffer.concat(parts), consumed: data.length }
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) {
      const end = data.indexOf('\r\n\r\n', at)
      return { decoded: Buffer.concat(parts), consumed: end < 0 ? data.length : end + 4 }
    }
    parts.push(data.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

/** Runs `work` over `items`, at most `concurrency` at once. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
