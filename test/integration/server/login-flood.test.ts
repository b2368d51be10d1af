/**
 * A login flood must not starve health checks or other routes (issue 4). Every login with a wrong password
 * for an existing account costs one argon2id hash on libuv's small thread pool (an unknown account costs
 * only a timer: the login floor), where an authenticated
 * request's token check also runs; the hash gate (src/core/gate.ts, around each password verify) lets only a few hashes run and a
 * bounded number wait, and refuses the rest at once. The flood here spreads over many accounts and client
 * addresses (through a trusted proxy), so the per-account and per-address login rules refuse none of it:
 * only the gate stands between it and the thread pool.
 */
import { Agent, request as httpRequest, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { expect } from 'chai'
import { createTestServer, type TestServer } from '../../helpers/server.js'

/** Logins in the flood, and the client addresses they come from (10 each: half the per-address burst). */
const FLOOD = 1000
const ADDRESSES = 100
/** What the gate admits at once: 4 hashing, 64 waiting (src/core/users/login.ts). */
const ADMITTED_AT_ONCE = 4 + 64

interface Answer {
  readonly status: number
  readonly contentType: string
  readonly retryAfter: string | undefined
  readonly body: string
  readonly ms: number
}

function send(
  port: number,
  agent: Agent | false,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, agent, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          retryAfter: res.headers['retry-after'],
          body,
          ms: performance.now() - started,
        }),
      )
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end(options.body)
  })
}

/** The answer on a raw socket the server closes after answering (`connection: close`; bodies carry a length). */
function readAnswer(socket: Socket): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('error', reject)
    socket.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n')
      const header = (name: string): string | undefined =>
        lines
          .find((line) => line.toLowerCase().startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim()
      resolve({
        status: Number(statusLine.split(' ')[1]),
        contentType: String(header('content-type')),
        retryAfter: header('retry-after'),
        body: text.slice(split + 4),
        ms: performance.now() - started,
      })
    })
  })
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

describe('a login flood (wrong passwords, many accounts and addresses)', function () {
  this.timeout(60_000)
  let s: TestServer
  let server: Server
  let port: number
  let adminToken: string
  const probes = new Agent({ keepAlive: true, maxSockets: 2 })

  before(async () => {
    s = await createTestServer('sqlite', { environment: { server: { trustProxy: 'loopback' } } })
    server = s.app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    port = (server.address() as AddressInfo).port
    adminToken = await s.token('admin')
    // The flood's accounts exist (else no hash is spent), 5 logins each: the per-account burst. One real
    // argon2id hash shared by all: the flood only needs each verify to cost what a real one costs.
    const db = await s.runtime.database()
    const hash = (await db.knex('gantry_users').where({ email: 'admin@example.com' }).first('password_hash')) as { password_hash: string } | undefined
    const now = Date.now()
    const rows = Array.from({ length: FLOOD / 5 }, (_, i) => ({
      email: `flood-${i}@example.com`,
      name: '',
      role: 'viewer',
      status: 'active',
      password_hash: hash?.password_hash,
      created_at: now,
      updated_at: now,
    }))
    for (let i = 0; i < rows.length; i += 50) await db.knex('gantry_users').insert(rows.slice(i, i + 50))
  })
  after(async () => {
    probes.destroy()
    await new Promise((resolve) => server.close(resolve))
    await s.cleanup()
  })

  const loginBody = (i: number, email: string): { headers: Record<string, string>; body: string } => ({
    headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${(i % ADDRESSES) + 1}` },
    body: JSON.stringify({ email, password: 'not the password, long enough' }),
  })
  const login = (i: number, agent: Agent | false, email: string): Promise<Answer> =>
    send(port, agent, { method: 'POST', path: '/api/v1/auth/login', ...loginBody(i, email) })

  /**
   * The flood, arriving at once whatever this machine's speed: every login's connection is opened and its
   * request written but for the last byte of its body, then all the last bytes go out together. Sent one by
   * one, the logins would trickle in as fast as this process opens connections, and on a quick machine the
   * hashes would keep up with them: the gate would never fill and the test would prove nothing.
   */
  async function flood(): Promise<Answer[]> {
    const held = await Promise.all(
      Array.from({ length: FLOOD }, async (_, i) => {
        const { headers, body } = loginBody(i, `flood-${i % (FLOOD / 5)}@example.com`)
        const head = [`POST /api/v1/auth/login HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close', `content-length: ${Buffer.byteLength(body)}`]
        for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`)
        const socket = connect(port, '127.0.0.1')
        const answer = readAnswer(socket)
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject)
          socket.write(`${head.join('\r\n')}\r\n\r\n${body.slice(0, -1)}`, () => resolve())
        })
        return { socket, last: body.slice(-1), answer }
      }),
    )
    for (const { socket, last } of held) socket.write(last)
    return Promise.all(held.map(({ answer }) => answer))
  }

  const health = (): Promise<Answer> => send(port, probes, { path: '/api/health' })
  const adminList = (): Promise<Answer> => send(port, probes, { path: '/api/v1/admin/users?limit=20', headers: { authorization: `Bearer ${adminToken}` } })

  it('health and an authenticated admin GET keep answering promptly; logins beyond the gate get 429 problem+json at once', async () => {
    // Baselines, in this run on this machine: the probes on an idle server, and one login (one hash).
    for (let i = 0; i < 5; i++) {
      expect((await health()).status).to.equal(200)
      expect((await adminList()).status).to.equal(200)
    }
    const idle = { health: [] as number[], admin: [] as number[], login: [] as number[] }
    for (let i = 0; i < 10; i++) {
      idle.health.push((await health()).ms)
      idle.admin.push((await adminList()).ms)
    }
    for (let i = 0; i < 5; i++) {
      const one = await login(i, probes, 'viewer@example.com') // its own account: the flood's keep their whole burst
      expect(one.status).to.equal(401)
      idle.login.push(one.ms)
    }
    const hashMs = median(idle.login)
    // Generous: a probe may wait behind the few hashes the gate lets run, plus the flood's parsing and
    // answering on the same event loop (and whatever else this machine runs). Without the gate an
    // authenticated request's token check would wait behind every hash of the flood (~FLOOD/4 hash times).
    const bound = (baselineMs: number): number => 30 * hashMs + 30 * baselineMs

    let settled = false
    const logins = flood().finally(() => (settled = true))
    const during = { health: [] as Answer[], admin: [] as Answer[] }
    while (!settled) {
      during.health.push(await health())
      during.admin.push(await adminList())
    }
    const answers = await logins

    // The probes answered, and promptly, all through the flood.
    expect(during.admin.length, 'probes made while the flood lasted').to.be.at.least(3)
    for (const answer of [...during.health, ...during.admin]) expect(answer.status).to.equal(200)
    const worst = { health: Math.max(...during.health.map((a) => a.ms)), admin: Math.max(...during.admin.map((a) => a.ms)) }
    const report =
      `hash ${hashMs.toFixed(0)} ms; idle health ${median(idle.health).toFixed(1)} ms, admin ${median(idle.admin).toFixed(1)} ms; ` +
      `during the flood: health worst ${worst.health.toFixed(0)} ms, admin worst ${worst.admin.toFixed(0)} ms (${during.admin.length} probes)`
    expect(worst.health, report).to.be.below(bound(median(idle.health)))
    expect(worst.admin, report).to.be.below(bound(median(idle.admin)))

    // Every login was answered: a wrong password (401) or the gate's refusal (429), never anything else.
    const refused = answers.filter((l) => l.status === 429)
    const checked = answers.filter((l) => l.status === 401)
    expect(refused.length + checked.length, JSON.stringify(answers.filter((l) => l.status !== 401 && l.status !== 429).slice(0, 3))).to.equal(FLOOD)
    // At least what the gate admits at once got its password checked; the excess was refused, not queued.
    expect(checked.length).to.be.at.least(ADMITTED_AT_ONCE)
    expect(refused.length, `${checked.length} checked`).to.be.greaterThan(0)
    for (const answer of refused) {
      expect(answer.contentType).to.match(/^application\/problem\+json/)
      expect(answer.retryAfter).to.equal('1')
      expect(JSON.parse(answer.body)).to.include({ status: 429, code: 'RATE_LIMITED', detail: 'The server is busy with other logins; try again in a second.' })
    }
    console.log(`      flood of ${FLOOD}: ${checked.length} checked, ${refused.length} refused by the gate; ${report}`)
  })
})
