import { Agent, request as httpRequest } from 'node:http'
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { expect } from 'chai'
import { createTestDatabase, requireDialect, requireRedis, SERVICE_URLS, type TestDatabase } from '../helpers/services.js'
import { isAlive } from '../helpers/serve-health.js'
import {
  ADMIN,
  createServeWorkspace,
  http,
  killLeftovers,
  listeningUrl,
  postJson,
  startServe,
  stopServe,
  until,
  VERSION,
  within,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

interface Health {
  status: string
  version: string
  checks?: Record<string, { status: string; output?: string }[]>
}

describe('e2e: gantry serve', function () {
  this.timeout(90_000)
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    killLeftovers()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const workspace = async (options: Parameters<typeof createServeWorkspace>[0] = {}): Promise<ServeWorkspace> => {
    const ws = await createServeWorkspace(options)
    cleanups.push(() => ws.cleanup())
    return ws
  }

  for (const dialect of ['sqlite', 'mysql'] as const) {
    it(`on ${dialect}: health carries the version, login works, ready; SIGTERM exits 0`, async function () {
      await requireDialect(this, dialect)
      let db: TestDatabase | undefined
      if (dialect === 'mysql') {
        db = await createTestDatabase('mysql')
        cleanups.push(() => db?.drop())
      }
      const ws = await workspace({ databaseUrl: db?.url })
      const serve = startServe(ws)
      const url = await listeningUrl(serve)
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)

      const health = await http(`${url}/api/health`)
      expect(health.status).to.equal(200)
      expect(JSON.parse(health.body)).to.include({ status: 'pass', version: VERSION })

      const login = await postJson(`${url}/api/v1/auth/login`, ADMIN)
      expect(login.status, login.body).to.equal(200)
      const { accessToken } = JSON.parse(login.body) as { accessToken: string }
      const me = await http(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })
      expect(me.status, me.body).to.equal(200)
      expect(me.body).to.include(ADMIN.email)

      const ready = await http(`${url}/api/health/ready`)
      expect(ready.status, ready.body).to.equal(200)
      expect(ready.headers['content-type']).to.match(/^application\/health\+json/)

      // No drain delay in development: the exit follows at once (the pool closed, nothing left running).
      const exit = await stopServe(serve)
      expect(exit.code, serve.stderr()).to.equal(0)
      expect(exit.afterMs).to.be.below(3000)
      expect(serve.logs.map((l) => l.msg)).to.include.members(['draining', 'stopped'])
      expect(serve.stderr()).to.equal('')
    })
  }

  it('pending migrations: up but not ready, naming them, login 503 GANTRY_SCHEMA_MISSING; with --migrate it applies them and is ready', async () => {
    const ws = await workspace({ migrated: false })
    const serve = startServe(ws)
    const url = await listeningUrl(serve)
    const warning = serve.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('started but not ready'))
    expect(JSON.stringify(warning?.failing)).to.match(/migrations:status: \d+ pending migrations?/)
    expect((await http(`${url}/api/health`)).status).to.equal(200)
    const ready = await http(`${url}/api/health/ready`)
    expect(ready.status).to.equal(503)
    const report = JSON.parse(ready.body) as Health
    expect(report.status).to.equal('fail')
    expect(report.checks?.['migrations:status']?.[0]).to.deep.include({ status: 'fail' })
    expect(report.checks?.['migrations:status']?.[0]?.output).to.match(/pending migration/)
    // What needs Gantry's tables says so, as the CLI does: 503, the code and the command, no driver text.
    const login = await postJson(`${url}/api/v1/auth/login`, ADMIN)
    expect(login.status, login.body).to.equal(503)
    expect(JSON.parse(login.body)).to.include({ code: 'GANTRY_SCHEMA_MISSING', hint: "Run `gantry migrate latest -e development` to create Gantry's tables." })
    expect(login.body).not.to.match(/select|no such table|SQLITE/i)
    expect((await stopServe(serve)).code).to.equal(0)

    const migrating = startServe(ws, ['--migrate'])
    const migratedUrl = await listeningUrl(migrating)
    const applied = migrating.logs.find((l) => l.msg === 'migrations applied')
    expect(applied?.applied).to.be.an('array').with.length.greaterThan(0)
    expect((await http(`${migratedUrl}/api/health/ready`)).status).to.equal(200)
    expect((await stopServe(migrating)).code).to.equal(0)
  })

  for (const dialect of ['sqlite', 'mysql'] as const) {
    it(`on ${dialect}: SIGTERM under keep-alive load drains: readiness 503 at once, Connection: close, every request sent before the close answered in full, a slow one too, exit 0`, async function () {
      await requireDialect(this, dialect)
      let db: TestDatabase | undefined
      if (dialect === 'mysql') {
        db = await createTestDatabase('mysql')
        cleanups.push(() => db?.drop())
      }
      const DRAIN_DELAY_MS = 300
      const SHUTDOWN_TIMEOUT_MS = 5000
      const LOOPS = 6
      const IDLE = 4
      const ws = await workspace({ databaseUrl: db?.url, server: { drainDelay: `${DRAIN_DELAY_MS}ms`, shutdownTimeout: `${SHUTDOWN_TIMEOUT_MS / 1000}s` } })
      const serve = startServe(ws)
      const url = await listeningUrl(serve)

      const agent = new Agent({ keepAlive: true, maxSockets: LOOPS })
      const outcomes: Outcome[] = []
      let sequence = 0
      const loop = async (path: string, agentOfLoop: Agent): Promise<Outcome[]> => {
        const mine: Outcome[] = []
        for (;;) {
          const outcome = await send(url, path, `drain-${(sequence += 1)}`, agentOfLoop)
          outcomes.push(outcome)
          mine.push(outcome)
          // The listener is closed: every later attempt would be refused too.
          if (outcome.kind === 'refused') return mine
        }
      }
      const readinessAgent = new Agent({ keepAlive: true, maxSockets: 1 })
      const loops = [...Array.from({ length: LOOPS }, () => loop('/api/v1/auth/me', agent)), loop('/api/health/ready', readinessAgent)]
      // Every loop has reused a keep-alive connection before the signal.
      await until(async () => (outcomes.filter((o) => o.reused).length >= 4 * LOOPS ? true : undefined), 'keep-alive traffic')

      // Connections left idle (each used once before the signal): close() must not wait for them, and a
      // request sent on one of them during the drain delay is answered in full.
      const idleAgents = Array.from({ length: IDLE + 1 }, () => new Agent({ keepAlive: true, maxSockets: 1 }))
      for (const idle of idleAgents) expect((await send(url, '/api/health', `warm-${(sequence += 1)}`, idle)).status).to.equal(200)
      // A request slower than the drain delay: its body dribbles in over about a second, on a connection
      // the server has already accepted (warmed by one request).
      const slowAgent = new Agent({ keepAlive: true, maxSockets: 1 })
      expect((await http(`${url}/api/health`, { agent: slowAgent })).status).to.equal(200)
      const slow = slowLogin(url, slowAgent, JSON.stringify(ADMIN), 1000)

      const signalledAt = performance.now()
      serve.child.kill('SIGTERM')
      // Connections opened during the drain delay: one sends its request only once the listener has closed
      // (as one accepted just before the close does) and is still answered; one never sends anything and
      // must not hold the drain to its deadline.
      await until(async () => (outcomes.some((o) => o.path === '/api/health/ready' && o.status === 503) ? true : undefined), 'readiness 503', { intervalMs: 5 })
      const early = await connect(url)
      const silent = await connect(url)
      const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()))
      // The listener is still open (the drain delay is not over): requests on established, idle keep-alive
      // connections, sent now, must each get a whole answer that asks the client to close.
      const onIdle = await Promise.all(idleAgents.slice(0, IDLE).map((idle) => send(url, '/api/health', `idle-${(sequence += 1)}`, idle)))
      const perLoop = await Promise.all(loops)
      const late = await rawGet(early, '/api/health')
      const slowAnswer = await slow
      const exit = await within(serve.exited, SHUTDOWN_TIMEOUT_MS + 5000, 'serve exits')
      await within(silentClosed, 1000, 'the silent connection closed')
      for (const a of [agent, readinessAgent, slowAgent, ...idleAgents]) a.destroy()

      // Readiness turned 503 while the listener was still open, and never back.
      const readiness = outcomes.filter((o) => o.path === '/api/health/ready' && o.kind === 'response')
      const firstDraining = readiness.findIndex((o) => o.status === 503)
      expect(firstDraining, 'readiness answered 503 during the drain delay').to.be.greaterThan(0)
      expect(readiness.slice(0, firstDraining).every((o) => o.status === 200)).to.equal(true)
      expect(readiness.slice(firstDraining).every((o) => o.status === 503)).to.equal(true)
      expect(readiness[firstDraining]?.body).to.include('server:draining')

      // Every answer to a request sent once draining was seen asks the client to close.
      const drainSeenAt = readiness[firstDraining]?.answeredAt ?? Infinity
      const duringDrain = outcomes.filter((o) => o.kind === 'response' && o.sentAt > drainSeenAt)
      expect(duringDrain.length, 'answers during the drain').to.be.greaterThan(0)
      expect(duringDrain.filter((o) => o.connection !== 'close')).to.deep.equal([])

      // Each request on an established keep-alive connection, sent before the listener closed, got its
      // whole answer: the ones sent on idle connections during the drain delay ...
      expect(Math.max(...onIdle.map((o) => o.sentAt)) - signalledAt, 'sent within the drain delay').to.be.below(DRAIN_DELAY_MS)
      for (const answer of onIdle) expect(answer, JSON.stringify(answer)).to.deep.include({ kind: 'response', status: 200, connection: 'close', reused: true })
      // ... and every request of the loops sent on a reused connection, whatever its timing.
      expect(outcomes.filter((o) => o.reused && o.kind !== 'response')).to.deep.equal([])

      // Every other request got a whole answer, or was refused once the listener had closed. A reset is
      // allowed only at the close itself, for a request on a brand-new connection the server never read:
      // one the kernel had completed and queued on the listening socket but node had not accepted yet.
      // Closing a listening socket resets what its accept queue holds (nothing a server can do about it:
      // it is what the drain delay is for). So such a reset comes no earlier than the end of the drain
      // delay, on a loop's next-to-last request (its last being refused), never on a reused connection
      // and never for a request the server logged.
      const served = new Set(serve.logs.map((l) => (l.req as { id?: string } | undefined)?.id).filter(Boolean))
      const failures = outcomes.filter(
        (o) => o.kind === 'error' || (o.kind === 'reset' && (o.reused || served.has(o.id) || o.answeredAt < signalledAt + DRAIN_DELAY_MS)),
      )
      expect(failures).to.deep.equal([])
      for (const mine of perLoop) {
        expect(mine.at(-1)?.kind).to.equal('refused')
        expect(mine.slice(0, -2).filter((o) => o.kind !== 'response')).to.deep.equal([])
      }
      const refused = outcomes.filter((o) => o.kind === 'refused').length
      const queuedAtClose = outcomes.filter((o) => o.kind === 'reset').length

      expect(late)
        .to.match(/^HTTP\/1\.1 200 /)
        .and.match(/\r\nconnection: close\r\n/i)
        .and.include(`"version":"${VERSION}"`)

      // The slow request outlived the listener and still got its whole answer.
      expect(slowAnswer.status, slowAnswer.body).to.equal(200)
      expect(JSON.parse(slowAnswer.body)).to.have.property('accessToken')
      expect(slowAnswer.connection).to.equal('close')
      const firstRefusedAt = Math.min(...outcomes.filter((o) => o.kind === 'refused').map((o) => o.answeredAt))
      expect(slowAnswer.answeredAt).to.be.greaterThan(firstRefusedAt)

      // Exit 0 well within the deadline: neither the idle nor the silent connection nor anything else held it.
      expect(exit.code, serve.stderr()).to.equal(0)
      expect(exit.at - signalledAt).to.be.below(SHUTDOWN_TIMEOUT_MS)
      expect(serve.logs.at(-1)?.msg).to.equal('stopped')
      console.log(
        `      drain on ${dialect}: ${outcomes.length} requests, ${duringDrain.length} answered during the drain, ${refused} refused after the close, ` +
          `${queuedAtClose} reset while queued at the close; exit ${Math.round(exit.at - signalledAt)} ms after SIGTERM`,
      )
    })
  }

  it('--workers above 1 without redis is refused (exit 2): budgets would be split per worker', async () => {
    const ws = await workspace()
    const plain = await ws.gantry(['serve', '--port', '0', '--workers', '2'])
    expect(plain.code).to.equal(2)
    const [line, ...rest] = plain.stderr.trim().split('\n')
    expect(line).to.match(/^Error \(INVALID_INPUT\): --workers 2 would split every rate-limit budget .*configure `redis` for environment "development"/)
    expect(rest.every((l) => l.startsWith('Try: '))).to.equal(true)
    expect(plain.stdout).to.equal('')
  })

  it('--workers 2 with redis: two workers answer on one port, budgets shared through Redis; SIGTERM exits 0', async function () {
    await requireRedis(this)
    const ws = await workspace()
    const serve = startServe({ ...ws, env: { ...ws.env, REDIS_URL: SERVICE_URLS.redis } }, ['--workers', '2'])
    await serve.waitForLog((l) => l.msg === 'listening')
    await serve.waitForLog((l) => l.msg === 'listening' && l.pid !== serve.logs.find((f) => f.msg === 'listening')?.pid)
    const listening = serve.logs.filter((l) => l.msg === 'listening')
    const pids = new Set(listening.map((l) => l.pid))
    expect(pids.size).to.equal(2)
    expect(pids.has(serve.child.pid)).to.equal(false)
    const url = String(listening[0]?.url)
    expect(listening[1]?.url).to.equal(url)

    // Each request on a new connection; the primary hands connections round-robin, so both workers log one.
    const answeredBy = await until(async () => {
      const answer = await http(`${url}/api/v1/auth/me`)
      expect(answer.status).to.equal(401)
      const workers = new Set(serve.logs.filter((l) => l.req !== undefined && l.worker !== undefined).map((l) => l.worker))
      return workers.size === 2 ? workers : undefined
    }, 'requests answered by both workers')
    expect([...answeredBy].map((id) => listening.find((l) => l.worker === id)?.pid).filter((pid) => pid !== undefined)).to.have.length(2)

    // One account's login budget (burst 5) across both workers: per-worker budgets would admit up to 10.
    const account = { email: `nobody-${process.pid}-${Date.now()}@example.com`, password: 'wrong password, long enough' }
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await postJson(`${url}/api/v1/auth/login`, account)).status)
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429])

    const exit = await stopServe(serve)
    expect(exit.code, serve.stderr()).to.equal(0)
    expect(serve.logs.filter((l) => l.msg === 'worker stopped')).to.have.length(2)
    expect(serve.logs.at(-1)).to.include({ msg: 'stopped', exitCode: 0 })
    for (const pid of pids) expect(isAlive(pid as number)).to.equal(false)
  })

  it('--workers 1 --migrate: the primary migrates, a worker killed with SIGKILL is replaced, SIGTERM exits 0', async () => {
    const ws = await workspace({ migrated: false })
    const serve = startServe(ws, ['--workers', '1', '--migrate'])
    const first = await serve.waitForLog((l) => l.msg === 'listening')
    const url = String(first.url)
    expect(serve.logs.find((l) => l.msg === 'migrations applied')).to.include({ role: 'primary', pid: serve.child.pid })
    expect(first.pid).to.be.a('number').and.not.equal(serve.child.pid)
    expect((await http(`${url}/api/health/ready`)).status).to.equal(200)

    const from = serve.logs.length
    process.kill(first.pid as number, 'SIGKILL')
    const died = await serve.waitForLog((l) => l.msg === 'worker died; replacing it', { from })
    expect(died).to.include({ workerPid: first.pid, signal: 'SIGKILL' })
    const second = await serve.waitForLog((l) => l.msg === 'listening', { from })
    expect(second.pid).to.be.a('number').and.not.equal(first.pid)
    expect(second.url).to.equal(url)
    expect(isAlive(first.pid as number)).to.equal(false)
    const health = await until(async () => {
      const answer = await http(`${url}/api/health`)
      return answer.status === 200 ? answer : undefined
    }, 'health through the replacement worker')
    expect(JSON.parse(health.body)).to.include({ version: VERSION })

    const exit = await stopServe(serve)
    expect(exit.code, serve.stderr()).to.equal(0)
    expect(exit.afterMs).to.be.below(3000)
    expect(serve.logs.find((l) => l.msg === 'worker stopped')).to.include({ workerPid: second.pid, code: 0 })
    expect(serve.logs.at(-1)).to.include({ msg: 'stopped', exitCode: 0 })
    expect(isAlive(second.pid as number)).to.equal(false)
  })

  for (const args of [[], ['--workers', '1']]) {
    it(`a port in use${args.length ? ' (--workers 1)' : ''}: exit 3, one line, no stack`, async () => {
      const ws = await workspace()
      const taken = await occupyPort()
      cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())))
      const port = (taken.address() as { port: number }).port
      const result = await ws.gantry(['serve', '--host', '127.0.0.1', '--port', String(port), ...args])
      expect(result.code, result.stderr).to.equal(3)
      const lines = result.stderr.trim().split('\n')
      expect(lines[0]).to.equal(`Error (NOT_READY): Cannot listen on 127.0.0.1:${port}: EADDRINUSE.`)
      expect(lines.slice(1)).to.deep.equal(['Try: Another process uses the port: pass --port, or stop it.'])
      expect(result.stdout).to.not.match(/"msg":"listening"/)
    })
  }
})

/** A TCP connection to the server at `url`, nothing sent yet. */
function connect(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: hostname, port: Number(port) }, () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** Sends a GET on a raw connection and reads until the server closes it: the raw answer, or the error. */
function rawGet(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`${text}[${err.code ?? err.message}]`))
    socket.once('close', () => resolve(text))
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
  })
}

function occupyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** What became of one request of the drain test. */
interface Outcome {
  readonly id: string
  readonly path: string
  readonly sentAt: number
  readonly answeredAt: number
  /** Sent on a connection that had carried a request before. */
  readonly reused: boolean
  /** response: a whole answer; refused: ECONNREFUSED; reset: cut before any answer; error: anything else. */
  readonly kind: 'response' | 'refused' | 'reset' | 'error'
  readonly status?: number
  readonly connection?: string | undefined
  readonly body?: string
  readonly error?: string
}

/** One GET with its X-Request-Id, classified. */
function send(url: string, path: string, id: string, agent: Agent): Promise<Outcome> {
  const sentAt = performance.now()
  return new Promise((resolve) => {
    let answered = false
    const req = httpRequest(`${url}${path}`, { agent, headers: { 'x-request-id': id } }, (res) => {
      answered = true
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      res.once('end', () =>
        resolve({
          id,
          path,
          sentAt,
          answeredAt: performance.now(),
          reused: req.reusedSocket,
          kind: 'response',
          status: res.statusCode,
          connection: res.headers.connection,
          body,
        }),
      )
      res.once('error', (err) =>
        resolve({ id, path, sentAt, answeredAt: performance.now(), reused: req.reusedSocket, kind: 'error', error: `mid-response: ${err.message}` }),
      )
    })
    req.once('error', (err: NodeJS.ErrnoException) => {
      if (answered) return
      const kind = err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ECONNRESET' ? 'reset' : 'error'
      resolve({ id, path, sentAt, answeredAt: performance.now(), reused: req.reusedSocket, kind, error: `${err.code ?? ''} ${err.message}` })
    })
    req.end()
  })
}

/** POST /api/v1/auth/login with Content-Length up front and the body written a byte range at a time over `overMs`. */
function slowLogin(
  url: string,
  agent: Agent,
  body: string,
  overMs: number,
): Promise<{ status: number; connection?: string | undefined; body: string; answeredAt: number }> {
  const CHUNKS = 10
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/api/v1/auth/login`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text, answeredAt: performance.now() }))
        res.once('error', reject)
      },
    )
    req.once('error', reject)
    const size = Math.ceil(body.length / CHUNKS)
    let sent = 0
    const next = (): void => {
      const chunk = body.slice(sent, sent + size)
      sent += chunk.length
      if (sent >= body.length) return void req.end(chunk)
      req.write(chunk)
      setTimeout(next, overMs / CHUNKS)
    }
    next()
  })
}
