/**
 * `gantry health`, `login` and `logout` against a real `gantry serve`, and the deploy workflow `gantry init`
 * writes, its gantry steps run as a script the way GitHub Actions runs them (bash -e: a non-zero exit fails
 * the job). Credentials go to a private XDG_CONFIG_HOME per test.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { expect } from 'chai'
import { parse as parseYaml } from 'yaml'
import { cliEnv, gantryOnPath, parseJson, runBash, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import {
  ADMIN,
  createServeWorkspace,
  killLeftovers,
  listeningUrl,
  postJson,
  startServe,
  stopServe,
  VERSION,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

interface HealthJson {
  status: string
  version: string
  ready: boolean
  url: string
  checks: Record<string, Array<{ status: string; output?: string }>>
}
interface ErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> }
}

/** A URL nothing listens on: a port taken and released. */
async function closedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

/** `gantry ARGS` in the workspace with its own credentials directory; `elapsedMs` measured around it. */
async function run(
  ws: ServeWorkspace,
  config: string,
  args: readonly string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult & { elapsedMs: number }> {
  const started = performance.now()
  const result = await runGantry(args, { cwd: ws.root, env: { ...ws.env, XDG_CONFIG_HOME: config, ...env }, input })
  return { ...result, elapsedMs: performance.now() - started }
}

const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('Error'))

describe('e2e: gantry health', function () {
  this.timeout(120_000)
  let ready: ServeWorkspace
  let pending: ServeWorkspace
  let readyServe: ServeProcess
  let pendingServe: ServeProcess
  let readyUrl: string
  let pendingUrl: string
  let config: string

  before(async () => {
    ;[ready, pending] = await Promise.all([createServeWorkspace(), createServeWorkspace({ migrated: false })])
    readyServe = startServe(ready)
    pendingServe = startServe(pending)
    ;[readyUrl, pendingUrl] = await Promise.all([listeningUrl(readyServe), listeningUrl(pendingServe)])
    config = tempDir('gantry-config-')
  })
  after(async () => {
    await Promise.all([stopServe(readyServe), stopServe(pendingServe)])
    killLeftovers()
    ready.cleanup()
    pending.cleanup()
  })

  it('a ready server: the checks as a table, exit 0; --json the document plus ready and url', async () => {
    const human = await run(ready, config, ['health', '--url', readyUrl])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.include(`${readyUrl}: ready (pass), Gantry ${VERSION}`)
    expect(human.stdout)
      .to.match(/^CHECK\s+STATUS\s+LATENCY\s+MESSAGE$/m)
      .and.match(/^migrations:status\s+pass\s+[\d.]+ ms/m)
    expect(human.stderr, 'same major version: no warning').to.equal('')

    const json = await run(ready, config, ['health', '--url', readyUrl, '--json'])
    expect(json.code, json.stderr).to.equal(0)
    const doc = parseJson<HealthJson>(json)
    expect([doc.ready, doc.url, doc.status, doc.version]).to.deep.equal([true, readyUrl, 'pass', VERSION])
    expect(Object.keys(doc.checks)).to.include.members(['database:responseTime', 'migrations:status', 'redis:responseTime'])
  })

  it("finds the URL in the environment's server.publicUrl (GANTRY_URL), and says when there is none", async () => {
    const viaEnv = await run(ready, config, ['health'], undefined, { GANTRY_URL: readyUrl })
    expect(viaEnv.code, viaEnv.stderr).to.equal(0)
    const none = await run(ready, config, ['health', '-e', 'staging', '--json'])
    expect(none.code).to.equal(2)
    expect(parseJson<ErrorJson>(none).error.code).to.equal('REMOTE_URL_MISSING')
  })

  it('pending migrations: exit 3 naming the failing check; --json keeps the document in error.details', async () => {
    const human = await run(pending, config, ['health', '--url', pendingUrl])
    expect(human.code).to.equal(3)
    expect(human.stdout).to.match(/^migrations:status\s+fail\s+.*pending migration/m)
    expect(errorLines(human.stderr)).to.have.length(1)
    expect(human.stderr).to.match(/^Error \(NOT_READY\): .*is not ready: migrations:status \(\d+ pending migrations/m)

    const json = await run(pending, config, ['health', '--url', pendingUrl, '--json'])
    expect(json.code).to.equal(3)
    const { error } = parseJson<ErrorJson>(json)
    expect(error.code).to.equal('NOT_READY')
    expect(error.details).to.include({ ready: false, url: pendingUrl, status: 'fail' })
  })

  it('--wait gives up at its deadline with the last reason (--wait 2: exit 3 about 2 s later than without --wait)', async () => {
    // The reference, in the same run: the same check without --wait (the CLI's start-up and one probe).
    const once = await run(pending, config, ['health', '--url', pendingUrl])
    const result = await run(pending, config, ['health', '--url', pendingUrl, '--wait', '2'])
    expect(result.code).to.equal(3)
    expect(result.elapsedMs).to.be.within(2000, once.elapsedMs + 2000 + 1500)
    expect(result.stderr).to.match(/^Error \(NOT_READY\): .*is not ready after 2 s: migrations:status/m)
  })

  it('an unreachable server: exit 3, one error line naming the URL, also under --wait', async () => {
    const url = await closedUrl()
    const once = await run(ready, config, ['health', '--url', url])
    expect(once.code).to.equal(3)
    expect(errorLines(once.stderr)).to.deep.equal([`Error (SERVER_UNREACHABLE): Cannot reach ${url}/api/health/ready (GET): connection refused.`])
    expect(once.stdout).to.equal('')
    const waited = await run(ready, config, ['health', '--url', url, '--wait', '1'])
    expect(waited.code).to.equal(3)
    expect(errorLines(waited.stderr)).to.have.length(1)
    expect(waited.stderr).to.include(`${url} is not ready after 1 s: Cannot reach`)
  })

  it('--wait exits 0 once a server becomes ready (its migrations run a second later)', async () => {
    const later = await createServeWorkspace({ migrated: false })
    const serve = startServe(later)
    try {
      const url = await listeningUrl(serve)
      const started = performance.now()
      const waiting = run(later, config, ['health', '--url', url, '--wait', '20', '--json'])
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const migrated = await later.gantry(['migrate', 'latest'])
      expect(migrated.code, migrated.stderr).to.equal(0)
      const result = await waiting
      expect(result.code, result.stderr).to.equal(0)
      expect(parseJson<HealthJson>(result).ready).to.equal(true)
      expect(performance.now() - started).to.be.below(15_000)
    } finally {
      await stopServe(serve)
      later.cleanup()
    }
  })
})

describe('e2e: gantry login and logout', function () {
  this.timeout(120_000)
  let ws: ServeWorkspace
  let serve: ServeProcess
  let url: string
  let config: string
  const credentialsFile = (): string => join(config, 'gantry', 'credentials.json')
  const stored = (): Record<string, { kind: string; accessToken?: string; refreshToken?: string; apiKey?: string }> =>
    (JSON.parse(readFileSync(credentialsFile(), 'utf8')) as { servers: Record<string, { kind: string }> }).servers
  const login = (password: string = ADMIN.password, extra: string[] = []) =>
    run(ws, config, ['login', '--url', url, '--email', ADMIN.email, '--password-stdin', ...extra], password)

  before(async () => {
    ws = await createServeWorkspace()
    serve = startServe(ws)
    url = await listeningUrl(serve)
  })
  beforeEach(() => (config = tempDir('gantry-config-')))
  after(async () => {
    await stopServe(serve)
    killLeftovers()
    ws.cleanup()
  })

  it('logs in with --password-stdin: remote commands then work; the file is 0600 in a 0700 folder; no token is printed', async () => {
    const human = await login()
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout.trim()).to.equal(`Logged in to ${url} as ${ADMIN.email}.`)
    const json = await login(ADMIN.password, ['--json'])
    expect(json.code, json.stderr).to.equal(0)
    const doc = parseJson<{ url: string; email: string; apiKeyId: null; expiresAt: string }>(json)
    expect([doc.url, doc.email, doc.apiKeyId]).to.deep.equal([url, ADMIN.email, null])
    expect(Date.parse(doc.expiresAt)).to.be.greaterThan(Date.now())

    expect(statSync(credentialsFile()).mode & 0o777).to.equal(0o600)
    expect(statSync(join(config, 'gantry')).mode & 0o777).to.equal(0o700)
    const entry = stored()[url]
    expect(entry?.kind).to.equal('session')
    for (const token of [entry?.accessToken, entry?.refreshToken]) {
      expect(token).to.be.a('string').with.length.above(10)
      for (const output of [human, json]) expect(output.stdout + output.stderr).not.to.include(token)
    }

    const list = await run(ws, config, ['users', 'list', '--url', url, '--json'])
    expect(list.code, list.stderr).to.equal(0)
    expect(parseJson<{ data: Array<{ email: string }> }>(list).data.map((u) => u.email)).to.include(ADMIN.email)
  })

  it('a wrong password: exit 1, one line, nothing stored', async () => {
    const result = await login('not the password at all')
    expect(result.code).to.equal(1)
    expect(errorLines(result.stderr)).to.have.length(1)
    expect(result.stderr).to.match(/^Error \(INVALID_CREDENTIALS\): /)
    expect(existsSync(credentialsFile()) ? stored()[url] : undefined).to.equal(undefined)
  })

  it('logout revokes the session server-side (its refresh token is refused after) and forgets it; again: exit 0 saying so', async () => {
    expect((await login()).code).to.equal(0)
    const refreshToken = stored()[url]?.refreshToken
    const out = await run(ws, config, ['logout', '--url', url, '--json'])
    expect(out.code, out.stderr).to.equal(0)
    expect(parseJson(out)).to.deep.equal({ url, forgotten: true, revoked: true })
    expect(stored()[url]).to.equal(undefined)
    const refresh = await postJson(`${url}/api/v1/auth/refresh`, { refreshToken })
    expect(refresh.status).to.equal(401)

    const again = await run(ws, config, ['logout', '--url', url])
    expect(again.code, again.stderr).to.equal(0)
    expect(again.stdout).to.include(`Not logged in to ${url}`)
    const remote = await run(ws, config, ['users', 'list', '--url', url])
    expect(remote.code).to.equal(2)
    expect(remote.stderr).to.match(/^Error \(NOT_LOGGED_IN\)/)
  })

  it('logout when the server does not answer: forgets here, says the session was not revoked, exit 3', async () => {
    const other = startServe(ws)
    const otherUrl = await listeningUrl(other)
    const login = await run(ws, config, ['login', '--url', otherUrl, '--email', ADMIN.email, '--password-stdin'], ADMIN.password)
    expect(login.code, login.stderr).to.equal(0)
    await stopServe(other)
    const out = await run(ws, config, ['logout', '--url', otherUrl])
    expect(out.code).to.equal(3)
    expect(errorLines(out.stderr)).to.have.length(1)
    expect(out.stderr).to.match(/^Error \(SERVER_UNREACHABLE\): Forgot the login for .* here, but the session was not revoked on the server/m)
    expect(out.stderr).to.include(`gantry tokens revoke --user ${ADMIN.email}`)
    expect(stored()[otherUrl]).to.equal(undefined)
  })

  it('--api-key-stdin checks the key with the server before storing it; GANTRY_API_KEY overrides the store', async () => {
    const created = await ws.gantry(['apikeys', 'create', '--owner', ADMIN.email, '--name', 'ci', '--scope', 'users:read', '--json'])
    expect(created.code, created.stderr).to.equal(0)
    const { key, apiKey } = parseJson<{ key: string; apiKey: { id: string } }>(created)

    const bad = await run(ws, config, ['login', '--url', url, '--api-key-stdin'], `${key.slice(0, -8)}AAAAAAAA`)
    expect(bad.code).to.equal(1)
    expect(existsSync(credentialsFile()) ? stored()[url] : undefined).to.equal(undefined)
    const good = await run(ws, config, ['login', '--url', url, '--api-key-stdin', '--json'], `${key}\n`)
    expect(good.code, good.stderr).to.equal(0)
    expect(parseJson(good)).to.deep.equal({ url, email: ADMIN.email, apiKeyId: apiKey.id, expiresAt: null })
    expect(good.stdout + good.stderr).not.to.include(key)
    expect(stored()[url]).to.deep.equal({ kind: 'apiKey', apiKey: key })
    expect((await run(ws, config, ['logout', '--url', url])).code).to.equal(0)

    // Nothing stored: the variable alone authenticates; a stored session loses to it (the key cannot write).
    const viaEnv = await run(ws, config, ['users', 'list', '--url', url, '--json'], undefined, { GANTRY_API_KEY: key })
    expect(viaEnv.code, viaEnv.stderr).to.equal(0)
    expect((await login()).code).to.equal(0)
    const write = ['users', 'create', '--url', url, '--email', 'x@example.com', '--generate-password', '--json']
    const refused = await run(ws, config, write, undefined, { GANTRY_API_KEY: key })
    expect(refused.code).to.equal(1)
    expect(parseJson<ErrorJson>(refused).error.code).to.equal('FORBIDDEN')
  })

  it('whoami: locally the OS user with every permission; remotely the login or key the server knows, its permissions and expiry', async () => {
    interface WhoamiJson {
      door: string
      actor: string
      credentials: string
      server: string | null
      database: string | null
      user: { email: string; role: string } | null
      apiKeyId: string | null
      permissions: string[]
      expiresAt: string | null
    }
    const local = parseJson<WhoamiJson>(await run(ws, config, ['whoami', '--json'], undefined, { GANTRY_ACTOR: 'job-7' }))
    expect(local).to.deep.include({ door: 'local', credentials: 'os-user', server: null, user: null, permissions: ['*'], expiresAt: null })
    expect(local.actor).to.match(/^local:.+@.+ \(job-7\)$/)
    expect(local.database).to.match(/^sqlite:/)

    // A script token (GANTRY_TOKEN), not a login: this file's logins come from one address, near the login rule's budget.
    const issued = parseJson<{ token: string; expiresAt: string }>(await ws.gantry(['tokens', 'issue', '--user', ADMIN.email, '--json']))
    const session = parseJson<WhoamiJson>(await run(ws, config, ['whoami', '--url', url, '--json'], undefined, { GANTRY_TOKEN: issued.token }))
    expect(session).to.deep.include({ door: 'remote', credentials: 'GANTRY_TOKEN', server: url, apiKeyId: null, database: null })
    expect(session.user).to.deep.include({ email: ADMIN.email, role: 'admin' })
    expect(session.actor).to.match(/^user:\d+$/)
    expect(session.permissions).to.deep.equal(['*'])
    expect(Date.parse(session.expiresAt ?? '')).to.equal(Math.floor(Date.parse(issued.expiresAt) / 1000) * 1000)
    const human = await run(ws, config, ['whoami', '--url', url], undefined, { GANTRY_TOKEN: issued.token })
    expect(human.stdout)
      .to.match(/credentials\s+GANTRY_TOKEN/)
      .and.match(new RegExp(`user\\s+${ADMIN.email} \\(admin\\)`))
    expect(human.stdout + human.stderr).not.to.include(issued.token)

    const created = await ws.gantry(['apikeys', 'create', '--owner', ADMIN.email, '--name', 'whoami', '--scope', 'audit:read', '--expires', '30d', '--json'])
    const { key, apiKey } = parseJson<{ key: string; apiKey: { id: string; expiresAt: string } }>(created)
    const viaKey = parseJson<WhoamiJson>(await run(ws, config, ['whoami', '--url', url, '--json'], undefined, { GANTRY_API_KEY: key }))
    expect(viaKey).to.deep.include({ credentials: 'GANTRY_API_KEY', apiKeyId: apiKey.id, permissions: ['audit:read'], expiresAt: apiKey.expiresAt })
    expect(viaKey.actor).to.equal(`apikey:${apiKey.id}`)
    expect(JSON.stringify(viaKey)).not.to.include(key)
    // The same key stored by `gantry login --api-key-stdin`.
    expect((await run(ws, config, ['login', '--url', url, '--api-key-stdin'], `${key}\n`)).code).to.equal(0)
    const stored = parseJson<WhoamiJson>(await run(ws, config, ['whoami', '--url', url, '--json']))
    expect(stored).to.deep.include({ credentials: 'login-api-key', apiKeyId: apiKey.id })
  })
})

describe('e2e: the deploy workflow of gantry init', function () {
  this.timeout(120_000)
  let ws: ServeWorkspace
  let serve: ServeProcess | undefined
  let bin: string
  const secret = 'e2e-production-secret-0123456789-abcdefghijklmnop'

  /** The workflow's `run:` lines that call gantry, in order, as they are written. */
  const gantrySteps = (): string[] => {
    const workflow = parseYaml(readFileSync(join(ws.root, '.github', 'workflows', 'deploy.yml'), 'utf8')) as {
      jobs: { deploy: { steps: Array<{ run?: string }> } }
    }
    return workflow.jobs.deploy.steps.flatMap((s) => (s.run ?? '').split('\n')).filter((line) => /^gantry /.test(line.trim()))
  }
  /** Runs `lines` as GitHub Actions runs a step (bash -e), with `gantry` on PATH as node_modules/.bin puts it. */
  const runScript = (lines: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    runBash(lines.join('\n'), { cwd: ws.root, env: cliEnv({ ...env, PATH: `${bin}:${process.env.PATH ?? ''}` }) })

  before(async () => {
    const database = join(tempDir('gantry-prod-'), 'production.sqlite3')
    const base = await createServeWorkspace({ migrated: false })
    // The production environment as init writes it; its log level raised to info for the 'listening' line.
    const configPath = join(base.root, 'gantry.config.json')
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { environments: { production: Record<string, unknown> } }
    config.environments.production.log = { level: 'info' }
    writeFileSync(configPath, JSON.stringify(config, null, 2))
    ws = { ...base, env: { DATABASE_URL: `sqlite:${database}`, GANTRY_AUTH_SECRET: secret } }
    bin = gantryOnPath(join(ws.root, 'node_modules', '.bin'))
  })
  afterEach(async () => {
    if (serve) await stopServe(serve)
    serve = undefined
  })
  after(() => {
    killLeftovers()
    ws.cleanup()
  })

  it('migrates production as a release step, then passes the health gate of a server that was waiting for them', async () => {
    const steps = gantrySteps()
    expect(steps).to.deep.equal(['gantry migrate latest -e production --json', 'gantry health -e production --wait 120'])
    serve = startServe(ws, ['-e', 'production', '--host', '127.0.0.1'])
    const url = await listeningUrl(serve)
    const before = await runGantry(['health', '-e', 'production', '--json'], { cwd: ws.root, env: { ...ws.env, GANTRY_URL: url } })
    expect(before.code, 'not ready before the release step').to.equal(3)

    const result = await runScript(steps, { ...ws.env, GANTRY_ENV: 'production', GANTRY_URL: url })
    expect(result.code, result.stderr).to.equal(0)
    expect(JSON.parse(result.stdout.slice(0, result.stdout.indexOf('\n}') + 2)) as object).to.have.property('applied')
    expect(result.stdout).to.include(`${url}: ready (pass)`)
  })

  it('fails the job with exit 3 when the gate is not passed (no server answering)', async () => {
    const health = gantrySteps()
      .filter((l) => l.includes(' health '))
      .map((l) => l.replace('--wait 120', '--wait 1'))
    const result = await runScript([...health, 'echo after-the-gate'], { ...ws.env, GANTRY_ENV: 'production', GANTRY_URL: await closedUrl() })
    expect(result.code).to.equal(3)
    expect(result.stdout).not.to.include('after-the-gate')
    expect(result.stderr).to.match(/^Error \(NOT_READY\): .* is not ready after 1 s: Cannot reach/m)
  })
})
