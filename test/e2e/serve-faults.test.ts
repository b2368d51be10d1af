/**
 * `gantry serve` as a child process meeting what happens to servers: SIGINT (a terminal's Ctrl-C, some
 * process managers) drains like SIGTERM; a bug that escapes every handler — an uncaught exception or an
 * unhandled rejection — is logged and exits 1 instead of leaving a half-broken process up; Redis
 * unreachable leaves the server serving and ready with a warning.
 *
 * The crash is caused the way a bug would cause it, from outside the production code: Node preloads
 * (--import, through NODE_OPTIONS) a module of the test's own that throws, or rejects a promise nobody
 * awaits, from a signal listener once the server is up. Gantry has no crash switch of its own.
 */
import { writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect } from 'chai'
import { parseHealth } from '../helpers/health-report.js'
import { createTestDatabase, requireDialect } from '../helpers/services.js'
import { closedPort, startTcpProxy } from '../helpers/tcp-proxy.js'
import { ADMIN, createServeWorkspace, http, killLeftovers, listeningUrl, startServe, until, within, type ServeWorkspace } from '../helpers/serve-process.js'

const DRAIN_DELAY_MS = 300

/** The preloaded module: on SIGUSR2, fails as CRASH_WITH says, outside any request or handler. */
const CRASH_HOOK = `process.on('SIGUSR2', () => {
  if (process.env.CRASH_WITH === 'rejection') void Promise.reject(new Error('crash test: a rejection nobody handles'))
  else throw new Error('crash test: an exception nobody catches')
})
`

describe('e2e: gantry serve under signals and faults', function () {
  this.timeout(60_000)
  let ws: ServeWorkspace
  let hook: string
  before(async () => {
    ws = await createServeWorkspace({ server: { drainDelay: `${DRAIN_DELAY_MS}ms`, shutdownTimeout: '5s' } })
    hook = join(ws.root, 'crash-hook.mjs')
    writeFileSync(hook, CRASH_HOOK)
  })
  afterEach(() => killLeftovers())
  after(() => ws?.cleanup())

  it('SIGINT drains like SIGTERM: readiness 503 at once, a request in flight finishes after the listener closed, exit 0', async () => {
    const serve = startServe(ws)
    const url = await listeningUrl(serve)
    const { hostname, port } = new URL(url)
    expect((await http(`${url}/api/health/ready`)).status).to.equal(200)

    // A login whose headers and half its body are in before the signal, on a connection the server has
    // already served (so it is accepted, not queued), and whose other half comes only once the listener is closed.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    expect((await http(`${url}/api/health`, { agent })).status).to.equal(200)
    const body = JSON.stringify(ADMIN)
    const half = Math.floor(body.length / 2)
    let answered!: (value: { status: number; connection?: string | undefined; text: string }) => void
    const answer = new Promise<{ status: number; connection?: string | undefined; text: string }>((resolve) => (answered = resolve))
    const login = httpRequest(
      `${url}/api/v1/auth/login`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        res.once('end', () => answered({ status: res.statusCode ?? 0, connection: res.headers.connection, text }))
      },
    )
    login.write(body.slice(0, half))
    await until(async () => (login.reusedSocket ? true : undefined), 'the login on the warmed connection')

    serve.child.kill('SIGINT')
    const draining = await serve.waitForLog((l) => l.msg === 'draining')
    expect(draining.signal).to.equal('SIGINT')
    const ready = await http(`${url}/api/health/ready`)
    expect(ready.status).to.equal(503)
    expect(ready.body).to.include('server:draining')
    // The listener closes after the drain delay: new connections are refused from then on.
    await until(
      () =>
        new Promise<true | undefined>((resolve) => {
          const probe = connect({ host: hostname, port: Number(port) })
          probe.once('connect', () => (probe.destroy(), resolve(undefined)))
          probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? true : undefined))
        }),
      'the listener closed',
      { intervalMs: 20 },
    )
    login.end(body.slice(half))
    const result = await within(answer, 5000, 'the in-flight login answered')
    expect(result.status, result.text).to.equal(200)
    expect(JSON.parse(result.text)).to.have.property('accessToken')
    expect(result.connection).to.equal('close')
    agent.destroy()

    const exit = await within(serve.exited, 10_000, 'serve exits after SIGINT')
    expect(exit.code, serve.stderr()).to.equal(0)
    expect(serve.logs.at(-1)?.msg).to.equal('stopped')
    expect(serve.stderr()).to.equal('')
  })

  for (const [what, crashWith, message] of [
    ['an uncaught exception', 'exception', 'crash test: an exception nobody catches'],
    ['an unhandled rejection', 'rejection', 'crash test: a rejection nobody handles'],
  ] as const) {
    it(`${what}: logged at fatal level with its cause, then exit 1`, async () => {
      const serve = startServe({ ...ws, env: { ...ws.env, NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, CRASH_WITH: crashWith } })
      const url = await listeningUrl(serve)
      expect((await http(`${url}/api/health`)).status).to.equal(200)
      serve.child.kill('SIGUSR2')
      const exit = await within(serve.exited, 10_000, 'serve exits after the crash')
      expect(exit.code, serve.stderr()).to.equal(1)
      const fatal = serve.logs.find((l) => l.msg === 'unexpected failure; exiting')
      expect(fatal, JSON.stringify(serve.logs.slice(-3))).to.not.equal(undefined)
      expect(fatal?.level).to.equal(60)
      expect((fatal?.err as { message?: string } | undefined)?.message).to.equal(message)
      // It exited as it crashed: no drain, no pretence of a clean stop.
      expect(serve.logs.map((l) => l.msg)).to.not.include.members(['draining', 'stopped'])
    })
  }

  it('a database that hangs at shutdown (MariaDB behind a silenced proxy) does not keep the process up: warned, exit 0', async function () {
    await requireDialect(this, 'mysql')
    const db = await createTestDatabase('mysql')
    const proxy = await startTcpProxy(db.url)
    const hung = await createServeWorkspace({ databaseUrl: proxy.via(db.url), server: { drainDelay: `${DRAIN_DELAY_MS}ms`, shutdownTimeout: '2s' } })
    try {
      const serve = startServe(hung)
      const url = await listeningUrl(serve)
      expect((await http(`${url}/api/health/ready`)).status).to.equal(200)
      proxy.silence()
      // A readiness probe now leaves a query that never returns on a pooled connection: what knex's close waits for.
      expect((await http(`${url}/api/health/ready`)).status).to.equal(503)
      const signalled = performance.now()
      serve.child.kill('SIGTERM')
      const exit = await within(serve.exited, 15_000, 'serve exits although the database hangs')
      expect(exit.code, serve.stderr()).to.equal(0)
      // drain delay + the 5 s bound on closing the clients, and some start-up slack: never the hung query's lifetime.
      expect(exit.at - signalled).to.be.below(DRAIN_DELAY_MS + 5_000 + 2_000)
      expect(serve.logs.map((l) => l.msg)).to.include.members(['the database did not close in time; exiting without waiting for it', 'stopped'])
    } finally {
      hung.cleanup()
      await proxy.stop()
      await db.drop()
    }
  })

  it('Redis unreachable (a closed loopback port): the server starts and serves; readiness warns (200) naming REDIS_UNREACHABLE', async () => {
    const port = await closedPort()
    const serve = startServe({ ...ws, env: { ...ws.env, REDIS_URL: `redis://127.0.0.1:${port}` } })
    const url = await listeningUrl(serve)
    const started = performance.now()
    const ready = await http(`${url}/api/health/ready`)
    const ms = performance.now() - started
    expect(ready.status, ready.body).to.equal(200)
    const report = parseHealth(ready.body)
    expect(report.status).to.equal('warn')
    expect(report.checks['redis:responseTime']).to.include({ status: 'warn', output: 'unavailable (REDIS_UNREACHABLE)' })
    expect(report.checks['database:responseTime']?.status).to.equal('pass')
    expect(report.checks['migrations:status']?.status).to.equal('pass')
    // A refused connection is an answer: readiness does not wait out its 1 s bound for it.
    expect(ms).to.be.below(1000)
    // The rate limits fail open (the default), so a login still works.
    const login = await http(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
    expect(login.status, login.body).to.equal(200)
    serve.child.kill('SIGTERM')
    expect((await within(serve.exited, 10_000, 'serve exits')).code, serve.stderr()).to.equal(0)
  })
})
