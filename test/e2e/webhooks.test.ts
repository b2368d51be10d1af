import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { expect } from 'chai'
import { Webhook } from 'standardwebhooks'
import type { Endpoint, EndpointList, EndpointWithSecret, TestResult } from '../../src/core/webhooks/webhooks.schema.js'
import { BIN, cliEnv, PACKAGE_ROOT, parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { postJson, until } from '../helpers/serve-process.js'

/** The data key of the workspace: base64 of 32 bytes, as `openssl rand -base64 32` prints one. */
const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64')

/** A migrated SQLite workspace; `envFile` is written as .env.development, and each run has no inherited secrets. */
async function workspace(envFile: string): Promise<((args: readonly string[]) => Promise<CliResult>) & { root: string }> {
  const root = tempDir()
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'gantry.sqlite3')}` } } }))
  writeFileSync(join(root, '.env.development'), envFile, { mode: 0o600 })
  const gantry = (args: readonly string[]) => runGantry(args, { cwd: root, env: { GANTRY_AUTH_SECRET: undefined, GANTRY_ENCRYPTION_KEY: undefined } })
  const migrated = await gantry(['migrate', 'latest'])
  expect(migrated.code, migrated.stderr).to.equal(0)
  return Object.assign(gantry, { root })
}

interface Received {
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

/** A receiver on 127.0.0.1 that records every request: /ok answers 204, anything else 500 with a body. */
async function receiver(): Promise<{ url: (path: string) => string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      if (req.url === '/ok') res.writeHead(204).end()
      else res.writeHead(500, { 'content-type': 'text/plain' }).end('boom: receiver down')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('gantry webhooks (built CLI, SQLite, a receiver on 127.0.0.1)', function () {
  this.timeout(60_000)
  let gantry: (args: readonly string[]) => Promise<CliResult>
  let hooks: Awaited<ReturnType<typeof receiver>>
  let created: EndpointWithSecret
  let failingId: string

  before(async () => {
    hooks = await receiver()
    gantry = await workspace(`GANTRY_ENCRYPTION_KEY=${ENCRYPTION_KEY}\n`)
  })
  after(() => hooks?.close())

  it('create prints the secret once; list shows the endpoints and no secret', async () => {
    const json = await gantry(['webhooks', 'create', hooks.url('/ok'), '--events', 'users.*', '--json'])
    expect(json.code, json.stderr).to.equal(0)
    created = parseJson<EndpointWithSecret>(json)
    expect(created.secret).to.match(/^whsec_/)
    expect(created.endpoint).to.include({ url: hooks.url('/ok'), enabled: true })
    expect(created.endpoint.id).to.match(/^ep_[0-9A-Za-z]{22}$/)
    expect(created.endpoint.eventTypes).to.deep.equal(['users.*'])
    expect(json.stderr).to.not.contain('whsec_')

    const human = await gantry(['webhooks', 'create', hooks.url('/fail'), '--events', 'users.*,roles.created', '--description', 'always 500'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/^Secret \(shown once\): whsec_\S+$/m)
    failingId = /Created webhook endpoint (ep_[0-9A-Za-z]{22})/.exec(human.stdout)?.[1] ?? ''
    expect(failingId, human.stdout).to.not.equal('')

    const list = await gantry(['webhooks', 'list', '--json'])
    expect(list.code, list.stderr).to.equal(0)
    expect(list.stdout).to.not.contain('whsec_').and.not.contain(created.secret.slice('whsec_'.length))
    const { data } = parseJson<EndpointList>(list)
    expect(data.map((e) => [e.id, e.eventTypes])).to.deep.equal([
      [created.endpoint.id, ['users.*']],
      [failingId, ['users.*', 'roles.created']],
    ])
    const table = await gantry(['webhooks', 'list'])
    expect(table.code, table.stderr).to.equal(0)
    expect(table.stdout)
      .to.match(/^ID\s+URL\s+EVENTS\s+STATE\s+FAILING SINCE$/m)
      .and.contain(created.endpoint.id)
      .and.not.contain('whsec_')
  })

  it('test sends one webhook.test event that Standard Webhooks verifies with the secret', async () => {
    const sent = hooks.received.length
    const tested = await gantry(['webhooks', 'test', created.endpoint.id, '--json'])
    expect(tested.code, tested.stderr).to.equal(0)
    const result = parseJson<TestResult>(tested)
    expect(result).to.include({ ok: true, statusCode: 204, error: null })
    const got = hooks.received.slice(sent)
    expect(got).to.have.length(1)
    const [request] = got
    expect(request!.headers).to.include.keys('webhook-id', 'webhook-timestamp', 'webhook-signature')
    expect(request!.headers['webhook-id']).to.equal(result.messageId)
    const payload = new Webhook(created.secret).verify(request!.body, request!.headers as Record<string, string>) as { type: string }
    expect(payload.type).to.equal('webhook.test')

    const human = await gantry(['webhooks', 'test', created.endpoint.id])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/^Delivered: HTTP 204 in \d+ ms$/m)
  })

  it('test against a receiver that answers 500 prints the answer and exits 1', async () => {
    const tested = await gantry(['webhooks', 'test', failingId, '--json'])
    expect(tested.code, tested.stderr).to.equal(1)
    const result = parseJson<TestResult>(tested)
    expect(result).to.include({ ok: false, statusCode: 500 })
    expect(result.responseExcerpt).to.contain('boom')

    const human = await gantry(['webhooks', 'test', failingId])
    expect(human.code, human.stderr).to.equal(1)
    expect(human.stdout)
      .to.match(/^Failed: HTTP 500 in \d+ ms$/m)
      .and.match(/^Response: boom: receiver down$/m)
  })

  it('update replaces the event types; disable switches the endpoint off', async () => {
    const updated = await gantry(['webhooks', 'update', created.endpoint.id, '--events', 'roles.created', '--json'])
    expect(updated.code, updated.stderr).to.equal(0)
    expect(parseJson<Endpoint>(updated).eventTypes).to.deep.equal(['roles.created'])

    const disabled = await gantry(['webhooks', 'disable', created.endpoint.id])
    expect(disabled.code, disabled.stderr).to.equal(0)
    const shown = await gantry(['webhooks', 'show', created.endpoint.id, '--json'])
    expect(shown.code, shown.stderr).to.equal(0)
    const endpoint = parseJson<Endpoint>(shown)
    expect(endpoint).to.include({ id: created.endpoint.id, enabled: false })
    expect(endpoint.eventTypes).to.deep.equal(['roles.created'])
    expect(shown.stdout).to.not.contain('whsec_')
  })

  it('delete removes the endpoint (no --force outside a protected environment); show then exits 1', async () => {
    const deleted = await gantry(['webhooks', 'delete', created.endpoint.id])
    expect(deleted.code, deleted.stderr).to.equal(0)
    const shown = await gantry(['webhooks', 'show', created.endpoint.id])
    expect(shown.code).to.equal(1)
    expect(shown.stderr).to.contain('WEBHOOK_NOT_FOUND')
  })

  it('a malformed event type is an invocation error: exit 2', async () => {
    const bad = await gantry(['webhooks', 'create', 'http://x', '--events', 'Bad Type'])
    expect(bad.code, bad.stderr).to.equal(2)
    expect(bad.stdout).to.equal('')
  })
})

describe('gantry webhooks without GANTRY_ENCRYPTION_KEY (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('create exits 2 naming ENCRYPTION_KEY_MISSING', async () => {
    const gantry = await workspace('')
    const refused = await gantry(['webhooks', 'create', 'https://hooks.example.com/gantry', '--events', 'users.*'])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.contain('ENCRYPTION_KEY_MISSING').and.contain('GANTRY_ENCRYPTION_KEY')
    expect(refused.stdout).to.equal('')
  })
})

describe('examples/webhook-receiver, as its header says to run it', function () {
  this.timeout(60_000)
  let child: ChildProcess | undefined
  after(() => void child?.kill())

  it('verifies what `gantry webhooks test` sends and logs the event; a request with a wrong signature gets 400', async () => {
    const gantry = await workspace(`GANTRY_AUTH_SECRET=${'s'.repeat(48)}\nGANTRY_ENCRYPTION_KEY=${ENCRYPTION_KEY}\n`)
    const created = parseJson<EndpointWithSecret>(await gantry(['webhooks', 'create', 'http://127.0.0.1:9/placeholder', '--events', 'users.*', '--json']))
    child = spawn(process.execPath, [join(PACKAGE_ROOT, 'examples', 'webhook-receiver', 'server.mjs')], {
      cwd: PACKAGE_ROOT,
      env: cliEnv({ WEBHOOK_SECRET: created.secret, PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const lines = (): Array<Record<string, unknown>> =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk
        const listening = lines().find((l) => l.msg === 'listening')
        if (listening) resolve(String(listening.url))
      })
      child!.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      child!.once('close', (code) => reject(new Error(`the receiver exited (${code}):\n${output}`)))
    })
    expect((await gantry(['webhooks', 'update', created.endpoint.id, '--endpoint-url', url, '--json'])).code).to.equal(0)
    const tested = parseJson<TestResult>(await gantry(['webhooks', 'test', created.endpoint.id, '--json']))
    expect(tested).to.include({ ok: true, statusCode: 204 })
    const event = await until(async () => lines().find((l) => l.msg === 'event'), 'the receiver logged the event')
    expect(event).to.include({ id: tested.messageId, type: 'webhook.test', environment: 'development' })

    const forged = await postJson(
      url,
      { type: 'users.deleted' },
      { 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
    )
    expect(forged.status).to.equal(400)
    expect(lines().filter((l) => l.msg === 'event')).to.have.length(1)
  })
})

describe('gantry worker (built CLI, SQLite)', function () {
  this.timeout(60_000)
  let hooks: Awaited<ReturnType<typeof receiver>>
  let worker: ChildProcess | undefined
  before(async () => {
    hooks = await receiver()
  })
  after(async () => {
    worker?.kill('SIGKILL')
    await hooks.close()
  })

  it('delivers what is queued without the HTTP server, ignores HTTP(S)_PROXY, and on SIGTERM stops after the jobs in hand (exit 0)', async () => {
    const gantry = await workspace(`GANTRY_AUTH_SECRET=${'s'.repeat(48)}\nGANTRY_ENCRYPTION_KEY=${ENCRYPTION_KEY}\n`)
    const created = parseJson<EndpointWithSecret>(await gantry(['webhooks', 'create', hooks.url('/ok'), '--events', 'users.*', '--json']))
    expect((await gantry(['users', 'create', '--email', 'ada@example.com', '--generate-password', '--json'])).code).to.equal(0)
    expect(hooks.received).to.have.length(0) // queued: no worker runs yet
    worker = spawn(process.execPath, [BIN, 'worker'], {
      cwd: gantry.root,
      // A proxy that would refuse every connection: deliveries never go through one.
      env: cliEnv({ HTTP_PROXY: 'http://127.0.0.1:1', HTTPS_PROXY: 'http://127.0.0.1:1', GANTRY_AUTH_SECRET: undefined, GANTRY_ENCRYPTION_KEY: undefined }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    worker.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    worker.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => worker!.once('close', (code) => resolve(code)))
    const got = await until(async () => hooks.received.find((r) => r.path === '/ok'), 'the worker delivered the queued event', { timeoutMs: 20_000 })
    const event = JSON.parse(got.body) as { type: string; data: { after: { email: string } } }
    expect(event.type).to.equal('users.created')
    expect(event.data.after.email).to.equal('ada@example.com')
    new Webhook(created.secret).verify(got.body, got.headers as Record<string, string>)
    worker.kill('SIGTERM')
    expect(await exited, output).to.equal(0)
    expect(output).to.include('worker stopped')
  })
})
