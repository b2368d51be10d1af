/**
 * examples/express-app as a user runs it: a workspace made with the built CLI, `gantry serve` doing the
 * logins, and the example started with its one command (`node examples/express-app/server.mjs` in the
 * workspace), each a real process on a port of its own. The example's routes enforce what the CLI manages:
 * roles (a custom `clerk` role with the app's own permissions), API-key scopes, and a rate-limit rule that
 * a live `gantry ratelimit set` changes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { expect } from 'chai'
import { cliEnv, PACKAGE_ROOT, parseJson, type CliResult } from '../helpers/cli.js'
import {
  createServeWorkspace,
  http,
  killLeftovers,
  listeningUrl,
  postJson,
  startServe,
  stopServe,
  until,
  within,
  type HttpAnswer,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

const EXAMPLE = join(PACKAGE_ROOT, 'examples', 'express-app', 'server.mjs')
const PASSWORD = 'correct horse battery staple 1'
const USERS = { viewer: 'viewer@example.com', clerk: 'clerk@example.com', support: 'support@example.com' } as const

interface Problem {
  type: string
  title: string
  status: number
}

/** The example app as a child process (stdout: its JSON lines; the first says where it listens). */
interface ExampleApp {
  readonly child: ChildProcess
  readonly url: Promise<string>
  readonly exited: Promise<number | null>
  output(): string
}

function startExample(ws: ServeWorkspace): ExampleApp {
  const child = spawn(process.execPath, [EXAMPLE], { cwd: ws.root, env: cliEnv({ ...ws.env, PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      const line = output.split('\n').find((l) => l.includes('"listening"'))
      if (line) resolve((JSON.parse(line) as { url: string }).url)
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    void exited.then((code) => reject(new Error(`the example exited (${code}) before listening:\n${output}`)))
  })
  return { child, url, exited, output: () => output }
}

const ok = (r: CliResult): CliResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
  return r
}

/** A problem+json answer with `status`. */
function problem(answer: HttpAnswer, status: number): Problem {
  expect(answer.status, answer.body).to.equal(status)
  expect(answer.headers['content-type']).to.match(/^application\/problem\+json/)
  const body = JSON.parse(answer.body) as Problem
  expect(body.status).to.equal(status)
  expect(body.title).to.be.a('string')
  return body
}

const bearer = (credential: string): Record<string, string> => ({ authorization: `Bearer ${credential}` })

describe('e2e: examples/express-app protected by Gantry', function () {
  this.timeout(60_000)
  let ws: ServeWorkspace
  let serve: ServeProcess
  let example: ExampleApp
  let app: string
  let gantryServer: string
  const tokens: Record<keyof typeof USERS, string> = { viewer: '', clerk: '', support: '' }
  let apiKey: string

  before(async () => {
    ws = await createServeWorkspace()
    // The app's own permissions, granted by a custom role; the key owner's role must hold the key's scope.
    ok(await ws.gantry(['roles', 'create', 'clerk', '--permission', 'orders:read', '--permission', 'orders:write', '--permission', 'reports:read']))
    ok(await ws.gantry(['roles', 'create', 'support', '--permission', 'users:read']))
    await Promise.all(
      Object.entries(USERS).map(async ([role, email]) =>
        ok(await ws.gantry(['users', 'create', '--email', email, '--role', role, '--password-stdin'], PASSWORD)),
      ),
    )
    ok(await ws.gantry(['ratelimit', 'set', 'search', '--match', 'GET /search', '--limit', '5', '--window', '1m', '--burst', '5']))
    apiKey = parseJson<{ key: string }>(
      ok(await ws.gantry(['apikeys', 'create', '--name', 'reporting', '--owner', USERS.clerk, '--scope', 'reports:read', '--json'])),
    ).key

    serve = startServe(ws)
    example = startExample(ws)
    const [gantryUrl, exampleUrl] = await Promise.all([listeningUrl(serve), within(example.url, 20_000, 'the example did not listen')])
    app = exampleUrl
    gantryServer = gantryUrl
    for (const [who, email] of Object.entries(USERS) as Array<[keyof typeof USERS, string]>) {
      const login = await postJson(`${gantryUrl}/api/v1/auth/login`, { email, password: PASSWORD })
      expect(login.status, login.body).to.equal(200)
      tokens[who] = (JSON.parse(login.body) as { accessToken: string }).accessToken
    }
  })

  after(async () => {
    if (example && example.child.exitCode === null) {
      example.child.kill('SIGTERM')
      expect(await within(example.exited, 10_000, 'the example did not exit after SIGTERM')).to.equal(0)
    }
    if (serve) expect((await stopServe(serve)).code).to.equal(0)
    killLeftovers()
    ws?.cleanup()
  })

  it('GET /orders needs orders:read: 401 without credentials, 403 problem+json for a role without it, 200 for clerk (and viewer, whose *:read covers it)', async () => {
    problem(await http(`${app}/orders`), 401)
    const refused = problem(await http(`${app}/orders`, { headers: bearer(tokens.support) }), 403)
    expect(JSON.stringify(refused)).to.contain('orders:read')
    for (const who of ['clerk', 'viewer'] as const) {
      const answer = await http(`${app}/orders`, { headers: bearer(tokens[who]) })
      expect(answer.status, `${who}: ${answer.body}`).to.equal(200)
      expect((JSON.parse(answer.body) as { data: unknown[] }).data).to.have.length.above(0)
    }
  })

  it('POST /orders needs orders:write: 403 problem+json for viewer, 201 for clerk', async () => {
    const order = JSON.stringify({ item: 'filter papers', quantity: 3 })
    const post = (who: keyof typeof USERS): Promise<HttpAnswer> =>
      http(`${app}/orders`, { method: 'POST', headers: { ...bearer(tokens[who]), 'content-type': 'application/json' }, body: order })
    expect(JSON.stringify(problem(await post('viewer'), 403))).to.contain('orders:write')
    const created = await post('clerk')
    expect(created.status, created.body).to.equal(201)
    expect(JSON.parse(created.body)).to.include({ item: 'filter papers', quantity: 3 })
  })

  it('a machine client (client-credentials grant at gantry serve) acts in the app for exactly its scopes: GET /orders 200, POST /orders 403', async () => {
    const created = parseJson<{ clientSecret: string; client: { id: string } }>(
      ok(await ws.gantry(['oauth', 'clients', 'create', 'fulfilment', '--owner', USERS.clerk, '--scope', 'orders:read', '--json'])),
    )
    const basic = Buffer.from(`${created.client.id}:${created.clientSecret}`).toString('base64')
    const issued = await http(`${gantryServer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    })
    expect(issued.status, issued.body).to.equal(200)
    const token = (JSON.parse(issued.body) as { access_token: string }).access_token
    const read = await http(`${app}/orders`, { headers: bearer(token) })
    expect(read.status, read.body).to.equal(200)
    // Its owner (clerk) may write orders; the client was given orders:read only.
    const write = await http(`${app}/orders`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'filter papers', quantity: 1 }),
    })
    expect(JSON.stringify(problem(write, 403))).to.contain('orders:write')
  })

  it('GET /reports takes API keys only: 200 with a key scoped reports:read (Bearer or X-API-Key), 401 with a JWT, 401 without', async () => {
    for (const headers of [bearer(apiKey), { 'x-api-key': apiKey }]) {
      const answer = await http(`${app}/reports`, { headers })
      expect(answer.status, answer.body).to.equal(200)
      expect(JSON.parse(answer.body)).to.have.keys('orders', 'units')
    }
    problem(await http(`${app}/reports`, { headers: bearer(tokens.clerk) }), 401)
    problem(await http(`${app}/reports`), 401)
  })

  it('GET /search: 5 answers, then 429 with Retry-After and RateLimit; a live `ratelimit set --limit 50` is in force within 1 s', async () => {
    for (let i = 0; i < 5; i++) {
      const answer = await http(`${app}/search?q=oat`)
      expect(answer.status, `request ${i + 1}: ${answer.body}`).to.equal(200)
      expect(answer.headers['ratelimit-policy']).to.be.a('string')
    }
    const refused = await http(`${app}/search?q=oat`)
    problem(refused, 429)
    expect(Number(refused.headers['retry-after'])).to.be.above(0)
    expect(refused.headers.ratelimit).to.be.a('string')
    expect(refused.headers['ratelimit-policy'])
      .to.be.a('string')
      .and.match(/"search";q=5;/)

    // The budget already spent stays spent (GCRA keeps its state), so what shows the new rule is its quota.
    ok(await ws.gantry(['ratelimit', 'set', 'search', '--limit', '50']))
    const changedAt = performance.now()
    const seenAt = await until(
      async () => (/"search";q=50;/.test(String((await http(`${app}/search`)).headers['ratelimit-policy'])) ? performance.now() : undefined),
      'RateLimit-Policy with q=50',
      { timeoutMs: 3000, intervalMs: 25 },
    )
    expect(seenAt - changedAt, 'from the CLI exit to the first answer under the new rule').to.be.at.most(1000)
  })

  it('GET /health/ready: 200 health+json with the app check; /metrics is Prometheus text', async () => {
    const ready = await http(`${app}/health/ready`)
    expect(ready.status, ready.body).to.equal(200)
    expect(ready.headers['content-type']).to.match(/^application\/health\+json/)
    expect(ready.body).to.contain('orders')
    const metrics = await http(`${app}/metrics`)
    expect(metrics.status).to.equal(200)
    expect(metrics.headers['content-type']).to.match(/^text\/plain/)
    expect(metrics.body).to.match(/^# (HELP|TYPE) /m)
  })
})
