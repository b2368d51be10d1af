/**
 * Bounded loopback HTTP load for e2e and reliability tests: single requests that never reject (a failure
 * is recorded, with its timing, like an answer), and an open-loop load over keep-alive connections. Open
 * loop: request k is due at k / rate seconds whether or not earlier ones were answered, so a slow server
 * meets the load it would meet in production instead of slowing the client down with it.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'

/** What one request got, and when (performance.now()). */
export interface Shot {
  /** Index of the URL the request went to. */
  readonly instance: number
  readonly path: string
  /** The client address it was sent from, when one was chosen. */
  readonly localAddress?: string
  readonly sentAt: number
  readonly answeredAt: number
  /** 0 when the request failed (`error`). */
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** Why no whole answer arrived: a connection error, a cut answer, or no answer within the timeout. */
  readonly error?: string
}

export interface ShotOptions {
  readonly agent?: Agent
  readonly localAddress?: string
  readonly method?: string
  /** Sent as JSON. */
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
  /** No whole answer within this long is a failure (default 10 s). */
  readonly timeoutMs?: number
}

/** One request; never rejects (a failure is a Shot with `error` and status 0). */
export function shoot(instance: number, url: string, path: string, options: ShotOptions = {}): Promise<Shot> {
  const sentAt = performance.now()
  const timeoutMs = options.timeoutMs ?? 10_000
  const base = { instance, path, sentAt, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }
  return new Promise((resolve) => {
    let settled = false
    const settle = (shot: Shot): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(shot)
    }
    const fail = (err: Error): void => settle({ ...base, answeredAt: performance.now(), status: 0, headers: {}, body: '', error: err.message })
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const req = httpRequest(
      `${url}${path}`,
      {
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        localAddress: options.localAddress,
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        res.once('end', () => settle({ ...base, answeredAt: performance.now(), status: res.statusCode ?? 0, headers: res.headers, body }))
        res.once('error', fail)
        // An answer cut before its end emits neither 'end' nor always 'error' on the response.
        res.once('close', () => (res.complete ? undefined : fail(new Error('answer cut before its end'))))
      },
    )
    // The whole exchange, not socket inactivity: a trickling answer is a timeout too.
    const timer = setTimeout(() => req.destroy(new Error(`no whole answer within ${timeoutMs} ms`)), timeoutMs)
    req.once('error', fail)
    req.end(payload)
  })
}

/**
 * A keep-alive agent that closes an idle connection before the server does, as a well-behaved client
 * does: Node's agent honours the server's `Keep-Alive: timeout=N` (closing at N − 1 s) only when it has a
 * timeout of its own, and without one it keeps idle connections forever, so a request sent just as the
 * server closes one at its keep-alive timeout is reset: a client's race, not the server's fault.
 */
export function keepAliveAgent(options: { maxSockets?: number; localAddress?: string } = {}): Agent {
  return new Agent({ keepAlive: true, timeout: 60_000, ...options })
}

/** What a load sends: a path, optionally from a given client address and with headers. */
export interface Target {
  readonly path: string
  readonly localAddress?: string
  readonly headers?: Readonly<Record<string, string>>
}

export interface LoadOptions {
  /** Request k goes to urls[k mod n] (round-robin) ... */
  readonly urls: readonly string[]
  /** ... and to target ⌊k / n⌋ mod targets (a string is a path): every target meets every URL. */
  readonly targets: readonly (string | Target)[]
  readonly ratePerSecond: number
  /** Bounds: the load ends at whichever comes first (or at stop()). */
  readonly maxRequests: number
  readonly maxMs: number
  /** Keep-alive connections per URL and client address (default 16). */
  readonly maxSockets?: number
  /** Per request (default 10 s). */
  readonly timeoutMs?: number
}

export interface Load {
  /** Every answered (or failed) request so far, in the order they completed. */
  readonly shots: Shot[]
  /** How many requests have been sent. */
  sent(): number
  /** Stops sending; resolves when every request sent has its answer. */
  stop(): Promise<Shot[]>
  /** Resolves like stop() once `maxRequests` or `maxMs` is reached. */
  readonly done: Promise<Shot[]>
}

/** An open-loop load at `ratePerSecond` over keep-alive connections, bounded by `maxRequests` and `maxMs`. */
export function startLoad(options: LoadOptions): Load {
  const { urls } = options
  const targets = options.targets.map((t): Target => (typeof t === 'string' ? { path: t } : t))
  const agents = new Map<string, Agent>()
  const agentFor = (instance: number, localAddress: string | undefined): Agent => {
    const key = `${instance} ${localAddress ?? ''}`
    let agent = agents.get(key)
    if (!agent) agents.set(key, (agent = keepAliveAgent({ maxSockets: options.maxSockets ?? 16, localAddress })))
    return agent
  }
  const shots: Shot[] = []
  const inflight = new Set<Promise<void>>()
  const startedAt = performance.now()
  let sent = 0
  let stopping: Promise<Shot[]> | undefined
  let finish!: (value: Shot[]) => void
  const done = new Promise<Shot[]>((resolve) => (finish = resolve))
  const stop = (): Promise<Shot[]> =>
    (stopping ??= (async () => {
      clearInterval(timer)
      await Promise.all(inflight)
      for (const agent of agents.values()) agent.destroy()
      finish(shots)
      return shots
    })())
  const tick = (): void => {
    if (stopping) return
    const elapsed = performance.now() - startedAt
    if (sent >= options.maxRequests || elapsed > options.maxMs) return void stop()
    const due = Math.min(options.maxRequests, Math.floor((elapsed * options.ratePerSecond) / 1000) + 1)
    while (sent < due) {
      const k = sent++
      const instance = k % urls.length
      const target = targets[Math.floor(k / urls.length) % targets.length] ?? { path: '/' }
      const pending = shoot(instance, urls[instance] ?? '', target.path, {
        agent: agentFor(instance, target.localAddress),
        localAddress: target.localAddress,
        headers: target.headers,
        timeoutMs: options.timeoutMs,
      }).then((shot) => {
        shots.push(shot)
        inflight.delete(pending)
      })
      inflight.add(pending)
    }
  }
  const timer = setInterval(tick, 5)
  tick()
  return { shots, sent: () => sent, stop, done }
}

/** Requests that got no whole answer, or a 5xx, as readable lines (empty when none). */
export function serverErrors(shots: readonly Shot[]): string[] {
  return shots
    .filter((s) => s.error !== undefined || s.status >= 500 || s.status === 0)
    .map((s) => `${s.instance} ${s.path} ${s.status} ${s.error ?? s.body.slice(0, 200)}`)
}
