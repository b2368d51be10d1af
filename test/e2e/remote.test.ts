/**
 * Every admin command, both ways: one table of commands run against the workspace's database (local) and
 * through a real `gantry serve` with --remote, in the same workspace, each mode cleaning up what it made, so
 * the two runs start from the same state. Their --json documents (ids, timestamps, secrets and actors
 * normalised), their exit codes and their human output must be the same.
 */
import { createServer } from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import {
  ADMIN,
  createServeWorkspace,
  killLeftovers,
  listeningUrl,
  postJson,
  startServe,
  stopServe,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

type Mode = 'local' | 'remote'
type Json = Record<string, unknown>

/** What one mode's run remembers for later steps (ids made on the way). */
interface Made {
  keyId?: string
  adaId?: number
  /** Who this mode's runs are audited as (maintenance's `by`). */
  actor?: string
}

interface Step {
  readonly args: (made: Made, dir: string) => string[]
  /** Expected exit code (default 0) and, for a failure, the error code. */
  readonly code?: number
  readonly error?: string
  /** Also run without --json and compare the human output. */
  readonly human?: boolean
  readonly keep?: (json: Json, made: Made) => void
}

const ADA = 'ada@example.com'
const VIEWER = { email: 'viewer@example.com', password: 'viewer password long enough' } as const

/** The table: everything an operator does, in an order that leaves the state as it found it. */
const STEPS: readonly Step[] = [
  {
    args: () => ['users', 'create', '--email', ADA, '--name', 'Ada', '--role', 'operator', '--generate-password'],
    keep: (j, m) => (m.adaId = (j.user as { id: number }).id),
  },
  { args: () => ['users', 'create', '--email', ADA, '--generate-password'], code: 1, error: 'USER_EXISTS' },
  { args: () => ['users', 'create', '--email', 'not-an-email', '--generate-password'], code: 2, error: 'INVALID_INPUT' },
  { args: () => ['users', 'list', '--limit', '10'], human: true },
  { args: () => ['users', 'list', '--search', 'ada', '--role', 'operator'] },
  { args: () => ['users', 'show', ADA], human: true },
  { args: () => ['users', 'show', 'nobody@example.com'], code: 1, error: 'USER_NOT_FOUND' },
  { args: () => ['users', 'update', ADA, '--name', 'Ada Lovelace'] },
  { args: () => ['users', 'disable', ADA] },
  { args: () => ['users', 'enable', ADA] },
  { args: () => ['users', 'set-password', ADA, '--generate-password'] },
  { args: () => ['users', 'unlock', ADA] },
  { args: () => ['roles', 'create', 'support', '--permission', 'users:read', '--description', 'Helpdesk'] },
  { args: () => ['roles', 'update', 'support', '--grant', 'audit:read'] },
  { args: () => ['roles', 'list'], human: true },
  { args: () => ['roles', 'delete', 'support'] },
  { args: () => ['roles', 'delete', 'admin'], code: 1 },
  { args: () => ['apikeys', 'create', '--owner', ADA, '--name', 'ci', '--scope', 'users:read'], keep: (j, m) => (m.keyId = (j.apiKey as { id: string }).id) },
  { args: () => ['apikeys', 'list', '--owner', ADA] },
  { args: (m) => ['apikeys', 'show', String(m.keyId)], human: true },
  { args: (m) => ['apikeys', 'rotate', String(m.keyId), '--grace', '0s'] },
  { args: (m) => ['apikeys', 'revoke', String(m.keyId)] },
  { args: () => ['tokens', 'issue', '--user', ADA, '--ttl', '5m'] },
  { args: () => ['tokens', 'revoke', '--user', ADA] },
  { args: () => ['maintenance', 'on', '--retry-after', '30', '--message', 'Back soon'], keep: (j, m) => (m.actor = String(j.by)) },
  { args: () => ['maintenance', 'status'], human: true },
  { args: () => ['maintenance', 'off'] },
  { args: () => ['ratelimit', 'set', 'things', '--match', 'GET /api/things', '--limit', '100', '--window', '1m', '--burst', '10'] },
  { args: () => ['ratelimit', 'set', 'things', '--limit', '0'], code: 2 },
  { args: () => ['ratelimit', 'override', 'ip:203.0.113.7', '--rule', 'things', '--limit', '5', '--window', '1m', '--reason', 'test'] },
  { args: () => ['ratelimit', 'list'] },
  { args: (_m, dir) => ['ratelimit', 'export', join(dir, 'rules.json')] },
  { args: (_m, dir) => ['ratelimit', 'apply', join(dir, 'rules.json'), '--dry-run'], human: true },
  { args: () => ['ratelimit', 'test', '--path', '/api/things', '--ip', '203.0.113.7'], human: true },
  { args: () => ['ratelimit', 'override', 'ip:203.0.113.7', '--rule', 'things', '--remove'] },
  { args: () => ['ratelimit', 'remove', 'things'] },
  { args: (_m, dir) => ['users', 'export', join(dir, 'users.csv')] },
  { args: (_m, dir) => ['users', 'import', join(dir, 'import.csv')], code: 1 },
  { args: () => ['users', 'delete', 'imported@example.com', '--force'] },
  { args: (m) => ['audit', 'list', '--actor', String(m.actor), '--action', 'users.update'] },
  { args: () => ['users', 'delete', ADA, '--force'] },
]

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g
/** Fields that differ between any two runs: made anew each time, or secrets. */
const VOLATILE = new Set([
  'id',
  'createdAt',
  'updatedAt',
  'lastLoginAt',
  'lastUsedAt',
  'revokedAt',
  'graceEndsAt',
  'expiresAt',
  'since',
  'at',
  'jti',
  'token',
  'key',
  'password',
  'version',
  'counts',
  'file',
  'targetId',
])
/** Fields that differ by the door, by design: who acted (local:… or user:…) and from where (no address locally). */
const BY_DOOR = new Set(['actor', 'by', 'ip'])
/** Who acted, in words: `local:os-user@host` or `user:ID`. */
const ACTOR = /\b(local:[^\s)]+|user:\d+)/g

/** A --json document with what differs by nature (ids, times, secrets, actors, the mode's own folder) replaced by a marker. */
function normalise(value: unknown, made: Made, dir: string): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, made, dir))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, BY_DOOR.has(k) || (VOLATILE.has(k) && v !== null) ? `<${k}>` : normalise(v, made, dir)]),
    )
  }
  return typeof value === 'string' ? normaliseText(value, made, dir) : value
}

function normaliseText(text: string, made: Made, dir: string): string {
  let out = text.replaceAll(dir, '<dir>').replace(ISO, '<time>')
  if (made.keyId) out = out.replaceAll(made.keyId, '<keyId>')
  return out
}

/** Human output: the run's ids and actors replaced too; columns line up on their widest cell, so runs of spaces count as one gap. */
function normaliseHuman(text: string, made: Made, dir: string): string {
  const out = normaliseText(text, made, dir).replace(ACTOR, '<actor>').replace(/ {2,}/g, '  ')
  return made.adaId === undefined ? out : out.replace(new RegExp(`(^|  )${made.adaId}(?=  |$)`, 'gm'), '$1<adaId>')
}

interface Outcome {
  readonly code: number
  readonly json: unknown
  readonly human?: string
}

describe('e2e: admin commands, local and --remote alike', function () {
  // A bound on a hang, not a timing: the set-up runs ~130 CLI processes one after another (75 s alone, more
  // beside the other test worker on 2 cores; one loaded CI run needed over 120 s).
  this.timeout(300_000)
  let ws: ServeWorkspace
  let serve: ServeProcess
  let url: string
  let config: string
  const runs: Record<Mode, Outcome[]> = { local: [], remote: [] }
  const dirs: Record<Mode, string> = { local: tempDir('gantry-local-'), remote: tempDir('gantry-remote-') }

  const gantry = (args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> =>
    runGantry(args, {
      cwd: ws.root,
      env: { ...ws.env, XDG_CONFIG_HOME: config, GANTRY_URL: url, GANTRY_TOKEN: undefined, GANTRY_API_KEY: undefined, ...env },
      input,
    })
  const ok = (r: CliResult): CliResult => {
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
    return r
  }

  before(async function () {
    ws = await createServeWorkspace()
    config = tempDir('gantry-xdg-')
    ok(await ws.gantry(['users', 'create', '--email', VIEWER.email, '--role', 'viewer', '--password-stdin'], VIEWER.password))
    serve = startServe(ws)
    url = await listeningUrl(serve)
    ok(await gantry(['login', '--email', ADMIN.email, '--password-stdin'], {}, ADMIN.password))
    for (const mode of ['local', 'remote'] as const) {
      writeFileSync(join(dirs[mode], 'import.csv'), 'email,name,role\nimported@example.com,Imported,viewer\nnot-an-email,Bad,viewer\n')
      const made: Made = {}
      for (const step of STEPS) {
        const args = [...step.args(made, dirs[mode]), ...(mode === 'remote' ? ['--remote'] : [])]
        const result = await gantry([...args, '--json'])
        const json = parseJson<Json>(result)
        if (result.code === 0) step.keep?.(json, made)
        const human = step.human ? (await gantry(args)).stdout : undefined
        runs[mode].push({
          code: result.code,
          json: normalise(json, made, dirs[mode]),
          human: human === undefined ? undefined : normaliseHuman(human, made, dirs[mode]),
        })
      }
    }
  })

  after(async () => {
    if (serve) await stopServe(serve)
    killLeftovers()
    ws?.cleanup()
  })

  STEPS.forEach((step, i) => {
    it(`gantry ${step.args({ keyId: 'KEYID' }, '<dir>').join(' ')}`, () => {
      const local = runs.local[i]
      const remote = runs.remote[i]
      expect(local?.code, JSON.stringify(local?.json)).to.equal(step.code ?? 0)
      if (step.error) expect((local?.json as { error?: { code?: string } }).error?.code).to.equal(step.error)
      expect(remote).to.deep.equal(local)
    })
  })

  it('exports the same file both ways, and imports it the same way', () => {
    const file = (mode: Mode): string => normaliseText(readFileSync(join(dirs[mode], 'users.csv'), 'utf8'), {}, dirs[mode]).replace(/^\d+,/gm, '<id>,')
    expect(file('remote')).to.equal(file('local'))
    expect(file('local')).to.match(/^id,email,name,role,status,createdAt,lastLoginAt\r\n/)
  })

  it('audits local runs as local:… and remote runs as the logged-in user', async () => {
    const page = parseJson<{ data: Array<{ actor: string; action: string }> }>(ok(await gantry(['audit', 'list', '--action', 'roles.create', '--json'])))
    const admin = parseJson<{ id: number }>(ok(await gantry(['users', 'show', ADMIN.email, '--json'])))
    expect(page.data.map((e) => e.actor.replace(/^local:.+@.+$/, 'local'))).to.deep.equal([`user:${admin.id}`, 'local'])
  })

  it('a viewer is refused remotely: exit 1 FORBIDDEN, nothing changed', async () => {
    const login = await postJson(`${url}/api/v1/auth/login`, VIEWER)
    const { accessToken } = JSON.parse(login.body) as { accessToken: string }
    const refused = await gantry(['users', 'create', '--email', 'new@example.com', '--generate-password', '--remote', '--json'], { GANTRY_TOKEN: accessToken })
    expect(refused.code, refused.stderr).to.equal(1)
    expect(parseJson<{ error: { code: string } }>(refused).error.code).to.equal('FORBIDDEN')
    expect(ok(await gantry(['users', 'list', '--remote', '--json'], { GANTRY_TOKEN: accessToken })).stdout).to.not.include('new@example.com')
  })

  it('a server that is down: exit 3 SERVER_UNREACHABLE, the URL in one line', async () => {
    const down = await closedPortUrl()
    const result = await gantry(['users', 'list', '--url', down], { GANTRY_TOKEN: 'any' })
    expect(result.code).to.equal(3)
    expect(result.stdout).to.equal('')
    const lines = result.stderr.trim().split('\n')
    expect(lines[0]).to.match(/^Error \(SERVER_UNREACHABLE\): /)
    expect(lines[0]).to.include(down)
  })

  it('remote runs never open the database: production without DATABASE_URL; protected still needs --force', async () => {
    const listed = parseJson<{ data: Array<{ email: string }> }>(ok(await gantry(['users', 'list', '-e', 'production', '--url', url, '--json'])))
    expect(listed.data.map((u) => u.email)).to.include(ADMIN.email)
    const unforced = await gantry(['roles', 'delete', 'viewer', '-e', 'production', '--url', url, '--json'])
    expect([unforced.code, parseJson<{ error: { code: string } }>(unforced).error.code]).to.deep.equal([2, 'FORCE_REQUIRED'])
    const local = await gantry(['users', 'list', '-e', 'production', '--json'])
    expect([local.code, parseJson<{ error: { code: string } }>(local).error.code]).to.deep.equal([2, 'CONFIG_VAR_UNSET'])
  })

  it('an environment with `remote: true` goes through the server; --no-remote stays local', async () => {
    const configPath = join(ws.root, 'gantry.config.json')
    const original = readFileSync(configPath, 'utf8')
    const parsed = JSON.parse(original) as { environments: Record<string, Record<string, unknown>> }
    parsed.environments.development = {
      ...parsed.environments.development,
      remote: true,
      server: { ...(parsed.environments.development?.server as object), publicUrl: url },
    }
    writeFileSync(configPath, JSON.stringify(parsed))
    try {
      ok(await gantry(['maintenance', 'on', '--json']))
      ok(await gantry(['maintenance', 'off', '--no-remote', '--json']))
      const page = parseJson<{ data: Array<{ actor: string; action: string }> }>(ok(await gantry(['audit', 'list', '--limit', '2', '--no-remote', '--json'])))
      expect(page.data.map((e) => [e.action, e.actor.replace(/^local:.+$/, 'local').replace(/^user:\d+$/, 'user')])).to.deep.equal([
        ['maintenance.off', 'local'],
        ['maintenance.on', 'user'],
      ])
    } finally {
      writeFileSync(configPath, original)
    }
  })
})

/** http://127.0.0.1:PORT where nothing listens (a port just released). */
async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
