/**
 * Reliability, nothing lost — and nothing leaked (issue 3): one realistic session of the built CLI and of
 * `gantry serve` over the same workspace mints and is given passwords, access and refresh tokens, API
 * keys and the signing secret — users created (CLI and HTTP), logins with near-miss passwords first,
 * refreshes and replays, keys created, rotated, revoked and used, script tokens, password changes, remote
 * CLI login, requests with bad credentials. Every one of them is then looked for everywhere: the stdout
 * and stderr of every CLI run (--json, text and errors), every HTTP answer (errors too), the server's log,
 * every file of the workspace and of the CLI's config folder, and every cell of every table (the audit log
 * among them). A secret may appear only in its creation output; a stored hash only in its hash columns.
 * SQLite always; at full scale a private PostgreSQL server too.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { hash as argon2 } from '@node-rs/argon2'
import { expect } from 'chai'
import { parseJson, runGantry, type CliResult } from '../helpers/cli.js'
import { startPrivateDatabase, stopAllPrivateDatabases } from '../helpers/private-databases.js'
import { atScale, record } from '../helpers/scorecard.js'
import { apiKeySecret, dumpPostgres, dumpSqlite, SecretLedger, workspaceAuthSecret, type Place } from '../helpers/secret-search.js'
import {
  createServeWorkspace,
  http,
  killLeftovers,
  listeningUrl,
  startServe,
  stopServe,
  type HttpAnswer,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

/** Users made during the server part (half through the CLI, half through the API), keys likewise, refreshes. */
const USERS = atScale(50, 4)
const KEYS = atScale(50, 4)
const REFRESHES = atScale(200, 12)
const DATABASES = atScale(['sqlite', 'postgres'] as const, ['sqlite'] as const)

/** A bcrypt hash from another system (cost 4). */
const BCRYPT = '$2b$04$Gc6pBiTqMhC54rns0SqUBeIHa3gy/7cT3rMXbo3J/UBlHHXuKvhQm'

interface Outcome {
  readonly leaks: readonly string[]
  readonly unshown: readonly string[]
  readonly secrets: number
  readonly places: Record<string, number>
}

describe('reliability: no secret leaks (built CLI and gantry serve)', function () {
  // A hang bound: the reduced run took 51 s on a quiet CI run.
  this.timeout(atScale(600_000, 300_000))
  afterEach(() => killLeftovers())
  after(() => stopAllPrivateDatabases())

  it(`shows each secret only in its creation output, on ${DATABASES.join(' and ')} (hashes: only in their hash columns)`, async () => {
    const started = performance.now()
    const outcomes: Record<string, Outcome> = {}
    for (const database of DATABASES) outcomes[database] = await session(database)
    const seconds = (performance.now() - started) / 1000
    const leaks = Object.entries(outcomes).flatMap(([database, o]) => o.leaks.map((leak) => `${database}: ${leak}`))
    const secrets = Object.values(outcomes).reduce((n, o) => n + o.secrets, 0)
    const searched = Object.values(outcomes).reduce((n, o) => n + Object.values(o.places).reduce((a, b) => a + b, 0), 0)
    console.log(
      `      ${secrets} secrets looked for in ${searched} places in ${seconds.toFixed(1)} s: ${JSON.stringify(outcomes, (key, value) => (key === 'leaks' || key === 'unshown' ? value.length : value))}`,
    )

    const met = record({
      id: 'secret-leakage',
      area: 'nothing lost',
      what: 'secrets (passwords, tokens, API keys, the signing secret) seen outside their creation output',
      tried: `${secrets.toLocaleString('en-US')} secrets minted through the CLI and the API (${USERS} users, ${KEYS} API keys, ${REFRESHES} refreshes per database, on ${DATABASES.join(' and ')}), looked for in ${searched.toLocaleString('en-US')} places: CLI outputs, HTTP answers, server logs, files, database cells`,
      value: leaks.length,
      unit: 'hits',
      target: { comparison: '=', value: 0 },
      detail: {
        seconds: Math.round(seconds),
        secrets,
        places: Object.fromEntries(Object.entries(outcomes).map(([database, o]) => [database, o.places])),
        leaks: leaks.slice(0, 10),
      },
    })
    expect(leaks, 'secrets outside their creation output').to.deep.equal([])
    for (const [database, o] of Object.entries(outcomes)) expect(o.unshown, `${database}: secrets missing from their creation output`).to.deep.equal([])
    expect(met).to.equal(true)
  })
})

/** One session over a fresh workspace on `database`; what was found. */
async function session(database: 'sqlite' | 'postgres'): Promise<Outcome> {
  const privateDb = database === 'postgres' ? await (await startPrivateDatabase('postgres')).createDatabase() : undefined
  const ws = await createServeWorkspace({ databaseUrl: privateDb?.url, migrated: false })
  try {
    const ledger = new SecretLedger()
    const xdg = join(dirname(ws.root), 'config')
    const s = new Session(ws, ledger, xdg)
    ledger.cli('gantry init app --yes --json', ws.init!)
    const root = { email: 'root@example.com', password: await cliPart(s, ledger, ws.root) }
    const serverPlaces = await serverPart(s, ledger, root)

    // Every cell of every table, the audit log among them; then every file of the workspace and the CLI's config.
    const cells = privateDb ? await dumpPostgres(privateDb.url) : await dumpSqlite(join(ws.root, '.gantry', 'development.sqlite3'))
    ledger.database(cells)
    ledger.files(dirname(ws.root), ws.root)
    // Gantry hashes each password it sets with argon2id: one hash per user it gave a password to, none of them a secret in clear.
    expect(
      ledger.secrets.filter((secret) => secret.what === 'stored gantry_users.password_hash').length,
      'argon2id hashes of the passwords set by gantry',
    ).to.equal(s.passwordsSet.size)
    // An API key's stored hash is the sha256 of its secret (the rotated one kept for the grace period), never the secret.
    const stored = cells.filter((c) => c.table === 'gantry_api_keys' && /secret_hash$/.test(c.column)).map((c) => c.value)
    for (const key of s.storedKeys)
      expect(stored, 'the sha256 of the key secret is stored').to.include(createHash('sha256').update(apiKeySecret(key)).digest('hex'))

    expect(ledger.secrets.length).to.be.greaterThan(20)
    const { leaks, unshown } = ledger.search()
    const count = (prefix: string) => new Set(ledger.texts.filter((t) => t.place.startsWith(prefix)).map((t) => t.place)).size
    return {
      leaks,
      unshown,
      secrets: ledger.secrets.length,
      places: { cliOutputs: count('run '), httpAnswers: count('http '), serverLogs: serverPlaces, files: count('file '), databaseCells: cells.length },
    }
  } finally {
    ws.cleanup()
    await privateDb?.drop()
  }
}

/** The CLI runs and HTTP requests of a session, each recorded in the ledger. */
class Session {
  /** Users whose current password gantry hashed (argon2id). */
  readonly passwordsSet = new Set<string>()
  /** API keys whose secret's hash is stored: current ones, and those rotated away within their grace period. */
  readonly storedKeys = new Set<string>()
  origin = ''

  constructor(
    readonly ws: ServeWorkspace,
    private readonly ledger: SecretLedger,
    /** The CLI's config folder (XDG_CONFIG_HOME): where a remote login keeps its credentials. */
    readonly xdg: string,
  ) {}

  /** Runs gantry in the workspace (auth secret from .env.development, as `init` wrote it); returns the run's result and place. */
  async gantry(args: readonly string[], options: { input?: string; code?: number } = {}): Promise<{ result: CliResult; stdout: Place }> {
    const result = await runGantry(args, {
      cwd: this.ws.root,
      input: options.input,
      env: { ...this.ws.env, GANTRY_AUTH_SECRET: undefined, XDG_CONFIG_HOME: this.xdg },
    })
    expect(result.code, `gantry ${args.join(' ')}\n${result.stderr}`).to.equal(options.code ?? 0)
    return { result, stdout: this.ledger.cli(`gantry ${args.join(' ')}`, result) }
  }

  /** One HTTP request to the server, from loopback address `from` (each its own client to the login rules). */
  async api(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; status: number; from?: string },
  ): Promise<{ answer: HttpAnswer; place: Place; json: Record<string, unknown> }> {
    const answer = await http(`${this.origin}${path}`, {
      method,
      headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      localAddress: options.from,
    })
    const place = this.ledger.http(`${method} ${path}`, answer)
    expect(answer.status, `${method} ${path}: ${answer.body.slice(0, 300)}`).to.equal(options.status)
    return { answer, place, json: answer.body === '' ? {} : (JSON.parse(answer.body) as Record<string, unknown>) }
  }
}

const password = (): string => `pw-${randomBytes(12).toString('hex')}`

/** `text`'s "LABEL (shown once): VALUE" line. */
function shownOnce(text: string, label: string): string {
  const found = new RegExp(`^${label} \\(shown once\\): (\\S+)$`, 'm').exec(text)?.[1]
  expect(found, `"${label} (shown once)" in:\n${text}`).to.be.a('string')
  return found as string
}

/** The CLI alone: users, passwords, keys, tokens, imports and exports, lists, the audit, the environment. Returns the admin's password. */
async function cliPart(s: Session, ledger: SecretLedger, root: string): Promise<string> {
  const authSecret = workspaceAuthSecret(root)
  expect(authSecret).to.have.length.at.least(32)
  ledger.add('GANTRY_AUTH_SECRET', authSecret, ['file .env.development'])
  await s.gantry(['migrate', 'latest', '--json'])

  // Passwords given on stdin are in no output at all.
  const rootPassword = password()
  await s.gantry(['users', 'create', '--email', 'root@example.com', '--name', 'Root', '--role', 'admin', '--password-stdin', '--json'], {
    input: `${rootPassword}\n`,
  })
  const opsPassword = password()
  await s.gantry(['users', 'create', '--email', 'ops@example.com', '--role', 'operator', '--password-stdin'], { input: opsPassword })
  ledger.add('password (stdin, --json)', rootPassword)
  ledger.add('password (stdin)', opsPassword)
  s.passwordsSet.add('root@example.com').add('ops@example.com')
  // Refused passwords are not echoed in the error either.
  const refusedPassword = password()
  await s.gantry(['users', 'create', '--email', 'ROOT@example.com', '--password-stdin', '--json'], { input: refusedPassword, code: 1 })
  await s.gantry(['users', 'create', '--email', 'short@example.com', '--password-stdin'], { input: 'pw-short', code: 2 })
  ledger.add('password of a duplicate user', refusedPassword)
  ledger.add('password under the policy', 'pw-short')

  const generated = await s.gantry(['users', 'create', '--email', 'gen@example.com', '--generate-password', '--json'])
  ledger.add('generated password (--json)', parseJson<{ password: string }>(generated.result).password, [generated.stdout])
  const generatedText = await s.gantry(['users', 'create', '--email', 'gen2@example.com', '--generate-password'])
  ledger.add('generated password', shownOnce(generatedText.result.stdout, 'Password'), [generatedText.stdout])
  s.passwordsSet.add('gen@example.com').add('gen2@example.com')

  const newPassword = password()
  await s.gantry(['users', 'set-password', 'gen@example.com', '--password-stdin'], { input: newPassword })
  ledger.add('set-password (stdin)', newPassword)
  const reset = await s.gantry(['users', 'set-password', 'gen2@example.com', '--generate-password', '--json'])
  ledger.add('set-password --generate-password', parseJson<{ password: string }>(reset.result).password, [reset.stdout])

  const created = await s.gantry(['apikeys', 'create', '--name', 'ci', '--owner', 'ops@example.com', '--scope', 'users:read', '--json'])
  const createdBody = parseJson<{ key: string; apiKey: { id: string } }>(created.result)
  ledger.apiKey('API key (--json)', createdBody.key, created.stdout)
  s.storedKeys.add(createdBody.key)
  const createdText = await s.gantry(['apikeys', 'create', '--name', 'deploy', '--owner', 'root@example.com'])
  ledger.apiKey('API key', shownOnce(createdText.result.stdout, 'Key'), createdText.stdout)
  s.storedKeys.add(shownOnce(createdText.result.stdout, 'Key'))
  const rotated = await s.gantry(['apikeys', 'rotate', createdBody.apiKey.id, '--grace', '1h', '--json'])
  const rotatedKey = parseJson<{ key: string }>(rotated.result).key
  ledger.apiKey('rotated API key', rotatedKey, rotated.stdout)
  s.storedKeys.add(rotatedKey)

  const issued = await s.gantry(['tokens', 'issue', '--user', 'ops@example.com', '--json'])
  ledger.accessToken('access token (--json)', parseJson<{ token: string }>(issued.result).token, issued.stdout)
  const issuedText = await s.gantry(['tokens', 'issue', '--user', 'root@example.com', '--ttl', '1h'])
  ledger.accessToken('access token', issuedText.result.stdout.trim(), issuedText.stdout)

  // Hashes from another system: argon2 (PHC) and bcrypt go to gantry_users.password_hash and nowhere else;
  // a malformed one is reported by line, never echoed.
  const argon = await argon2(password(), { algorithm: 2, memoryCost: 1024, timeCost: 1 })
  const malformed = `$2b$10$${randomBytes(15).toString('base64').replace(/[+/=]/g, 'x')}`
  writeFileSync(
    join(root, 'users.csv'),
    [
      'email,name,role,password_hash',
      `argon@example.com,Argon,viewer,"${argon}"`,
      `bcrypt@example.com,Bcrypt,operator,${BCRYPT}`,
      `bad@example.com,Bad,viewer,${malformed}`,
    ].join('\n'),
  )
  const fromFile: Place[] = ['file users.csv', 'db gantry_users.password_hash']
  ledger.add('imported argon2 hash', argon, fromFile)
  ledger.add('imported bcrypt hash', BCRYPT, fromFile)
  ledger.add('malformed imported hash', malformed, ['file users.csv'])
  const plain = password()
  writeFileSync(join(root, 'plain.csv'), `email,password\nplain@example.com,${plain}\n`)
  await s.gantry(['users', 'import', 'plain.csv', '--json'], { code: 2 })
  ledger.add('plain-text password in an import file', plain, ['file plain.csv'])
  const dry = await s.gantry(['users', 'import', 'users.csv', '--dry-run', '--json'], { code: 1 })
  expect(parseJson<{ imported: number; skipped: Array<{ line: number }> }>(dry.result)).to.deep.include({
    imported: 2,
    skipped: [{ line: 4, email: 'bad@example.com', reason: 'password_hash: not an argon2 (PHC) or bcrypt ($2a$/$2b$/$2y$) hash' }],
  })
  await s.gantry(['users', 'import', 'users.csv'], { code: 1 })

  // Everything that shows users, keys, the audit and the environment: reads only, so run side by side.
  const [list, audit] = await Promise.all([s.gantry(['users', 'list', '--json', '--limit', '100']), s.gantry(['audit', 'list', '--json', '--limit', '500'])])
  expect(parseJson<{ data: unknown[] }>(list.result).data).to.have.length(6)
  const actions = parseJson<{ data: Array<{ action: string }> }>(audit.result).data.map((e) => e.action)
  expect(actions).to.include.members(['users.create', 'users.set-password', 'apikeys.create', 'apikeys.rotate', 'tokens.issue', 'users.import'])
  const reads = [
    ['users', 'export', 'users-export.csv'],
    ['users', 'export', 'users-export.jsonl'],
    ['users', 'export', '--format', 'jsonl'],
    ['users', 'export', '--format', 'csv'],
    ['users', 'list'],
    ...['root@example.com', 'gen@example.com', 'argon@example.com', 'bcrypt@example.com'].map((email) => ['users', 'show', email, '--json']),
    ['users', 'show', 'bcrypt@example.com'],
    ['apikeys', 'list', '--json'],
    ['apikeys', 'list'],
    ['audit', 'list', '--limit', '500'],
    ['env', 'show', '--json'],
    ['env', 'show'],
    ['env', 'list', '--json'],
    ['migrate', 'status', '--json'],
  ]
  for (let i = 0; i < reads.length; i += 4) await Promise.all(reads.slice(i, i + 4).map((args) => s.gantry(args)))
  return rootPassword
}

/**
 * `gantry serve` over the same workspace: users, logins (near misses first), refreshes, keys, tokens,
 * password changes and bad credentials through the API and the CLI, a remote CLI login. Returns how many
 * log texts were added (stdout, stderr).
 */
async function serverPart(s: Session, ledger: SecretLedger, admin: { email: string; password: string }): Promise<number> {
  const serve = startServe(s.ws)
  s.origin = new URL(await listeningUrl(serve)).origin
  // Each client its own loopback address: the login rules count per address, and this is many clients.
  let clients = 0
  const client = () => `127.0.${1 + Math.floor(clients / 250)}.${1 + (clients++ % 250)}`
  const login = async (email: string, pass: string, status = 200) => {
    const { place, json } = await s.api('POST', '/api/v1/auth/login', { body: { email, password: pass }, status, from: client() })
    if (status === 200) {
      ledger.accessToken(`access token of ${email} (login)`, json.accessToken as string, place)
      ledger.add(`refresh token of ${email} (login)`, json.refreshToken as string, [place])
    }
    return json as { accessToken: string; refreshToken: string }
  }
  const root = await login(admin.email, admin.password)
  const asRoot = { authorization: `Bearer ${root.accessToken}` }

  // Users, half through the CLI and half through the API; one in four gets a generated password.
  const users: Array<{ email: string; password: string; tokens?: { accessToken: string; refreshToken: string } }> = []
  for (let i = 0; i < USERS; i++) {
    const email = `user${i}@example.com`
    const generate = i % 4 === 3
    let pass: string
    if (i % 2 === 0) {
      pass = generate ? '' : password()
      const run = await s.gantry(
        [
          'users',
          'create',
          '--email',
          email,
          '--role',
          i % 3 === 0 ? 'operator' : 'viewer',
          ...(generate ? ['--generate-password', '--json'] : ['--password-stdin']),
        ],
        { input: generate ? undefined : pass },
      )
      if (generate) pass = parseJson<{ password: string }>(run.result).password
      ledger.add(`password of ${email} (CLI${generate ? ', generated' : ''})`, pass, generate ? [run.stdout] : [])
    } else {
      const given = password()
      const { place, json } = await s.api('POST', '/api/v1/admin/users', {
        body: { email, role: 'viewer', ...(generate ? { generatePassword: true } : { password: given }) },
        headers: asRoot,
        status: 201,
      })
      pass = generate ? (json.password as string) : given
      ledger.add(`password of ${email} (API${generate ? ', generated' : ''})`, pass, generate ? [place] : [])
    }
    s.passwordsSet.add(email)
    users.push({ email, password: pass })
  }

  // Near misses before the right password: each refused, none echoed or logged.
  for (const user of users) {
    const last = user.password.at(-1)!
    for (const nearMiss of [`${user.password}x`, user.password.slice(0, -1) + (last === 'a' ? 'b' : 'a')]) {
      ledger.add(`near-miss password of ${user.email}`, nearMiss)
      await login(user.email, nearMiss, 401)
    }
    user.tokens = await login(user.email, user.password)
    await s.api('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${user.tokens.accessToken}` }, status: 200 })
  }

  // Refreshes, round the users; every tenth replays the token just rotated (refused, nothing revoked within the grace).
  for (let i = 0; i < REFRESHES; i++) {
    const user = users[i % users.length]!
    const { place, json } = await s.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: user.tokens!.refreshToken }, status: 200 })
    if (i % 10 === 9) await s.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: user.tokens!.refreshToken }, status: 401 })
    ledger.accessToken(`access token of ${user.email} (refresh ${i})`, json.accessToken as string, place)
    ledger.add(`refresh token of ${user.email} (refresh ${i})`, json.refreshToken as string, [place])
    user.tokens = json as { accessToken: string; refreshToken: string }
  }

  // API keys, half through the CLI and half through the API; some rotated, some revoked; each used.
  for (let i = 0; i < KEYS; i++) {
    const owner = i % 3 === 0 ? admin.email : users[i % users.length]!.email
    let key: string
    let id: string
    if (i % 2 === 0) {
      const run = await s.gantry(['apikeys', 'create', '--name', `key-${i}`, '--owner', owner, '--json'])
      ;({
        key,
        apiKey: { id },
      } = parseJson<{ key: string; apiKey: { id: string } }>(run.result))
      ledger.apiKey(`API key ${i} (CLI)`, key, run.stdout)
    } else {
      const { place, json } = await s.api('POST', '/api/v1/admin/api-keys', { body: { name: `key-${i}`, owner }, headers: asRoot, status: 201 })
      key = json.key as string
      id = (json.apiKey as { id: string }).id
      ledger.apiKey(`API key ${i} (API)`, key, place)
    }
    await s.api('GET', '/api/v1/auth/me', { headers: { 'x-api-key': key }, status: 200 })
    if (i % 5 === 1) {
      const { place, json } = await s.api('POST', `/api/v1/admin/api-keys/${id}/rotate`, { body: { grace: '1h' }, headers: asRoot, status: 200 })
      ledger.apiKey(`API key ${i}, rotated (API)`, json.key as string, place)
      s.storedKeys.add(key) // the old secret works for the grace period: its hash is kept
      key = json.key as string
    } else if (i % 5 === 2) {
      const run = await s.gantry(['apikeys', 'rotate', id, '--grace', '0s', '--json'])
      const next = parseJson<{ key: string }>(run.result).key
      ledger.apiKey(`API key ${i}, rotated (CLI)`, next, run.stdout)
      // The old key, refused now: the refusal does not echo it.
      await s.api('GET', '/api/v1/auth/me', { headers: { 'x-api-key': key }, status: 401 })
      key = next
    } else if (i % 5 === 3) {
      await s.api('POST', `/api/v1/admin/api-keys/${id}/revoke`, { headers: asRoot, status: 200 })
      await s.api('GET', '/api/v1/admin/users', { headers: { authorization: `Bearer ${key}` }, status: 401 })
      continue
    }
    s.storedKeys.add(key)
    await s.api('GET', '/api/v1/auth/me', { headers: { authorization: `Bearer ${key}` }, status: 200 })
  }

  // Script tokens and password changes through the API; the old password refused afterwards.
  for (const [i, user] of users.slice(0, Math.max(2, Math.ceil(users.length / 5))).entries()) {
    const { place, json } = await s.api('POST', `/api/v1/admin/users/${encodeURIComponent(user.email)}/tokens`, {
      body: { ttl: '1h' },
      headers: asRoot,
      status: 201,
    })
    ledger.accessToken(`script token of ${user.email} (API)`, json.token as string, place)
    const generate = i % 2 === 1
    const given = password()
    const changed = await s.api('POST', `/api/v1/admin/users/${encodeURIComponent(user.email)}/password`, {
      body: generate ? { generatePassword: true } : { password: given },
      headers: asRoot,
      status: 200,
    })
    ledger.add(
      `new password of ${user.email} (API${generate ? ', generated' : ''})`,
      generate ? (changed.json.password as string) : given,
      generate ? [changed.place] : [],
    )
    await login(user.email, user.password, 401)
  }

  // Bad credentials, each close to a real one: the refusals show none of the real ones.
  const victim = users[0]!.tokens!
  for (const bad of [victim.accessToken.slice(0, -3), `${victim.accessToken}x`, victim.refreshToken, `${root.accessToken.split('.').slice(0, 2).join('.')}.`]) {
    await s.api('GET', '/api/v1/admin/users', { headers: { authorization: `Bearer ${bad}` }, status: 401 })
  }
  await s.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: `${victim.refreshToken.slice(0, -1)}0` }, status: 401 })
  await s.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: victim.accessToken }, status: 401 })

  // The CLI as a remote client: a refused login (near miss), a login, admin commands through the API, a logout.
  const nearMiss = `${admin.password}!`
  ledger.add('near-miss password of root (remote login)', nearMiss)
  await s.gantry(['login', '--url', s.origin, '--email', admin.email, '--password-stdin', '--json'], { input: nearMiss, code: 1 })
  await s.gantry(['login', '--url', s.origin, '--email', admin.email, '--password-stdin', '--json'], { input: admin.password })
  const credentialsFile = join(s.xdg, 'gantry', 'credentials.json')
  const stored = readFileSync(credentialsFile, 'utf8')
  for (const [what, pattern] of [
    ['access token', /eyJ[\w-]+\.[\w-]+\.[\w-]+/g],
    ['refresh token', /grt_[0-9A-Za-z]{32}/g],
  ] as const) {
    for (const [value] of stored.matchAll(pattern)) ledger.add(`${what} of the remote login`, value, ['file ../config/gantry/credentials.json'])
  }
  await s.gantry(['users', 'list', '--url', s.origin, '--json'])
  const remoteKey = await s.gantry(['apikeys', 'create', '--name', 'remote', '--owner', admin.email, '--url', s.origin, '--json'])
  ledger.apiKey('API key (remote CLI)', parseJson<{ key: string }>(remoteKey.result).key, remoteKey.stdout)
  s.storedKeys.add(parseJson<{ key: string }>(remoteKey.result).key)
  await s.gantry(['audit', 'list', '--url', s.origin, '--limit', '200'])
  await s.gantry(['logout', '--url', s.origin])
  await s.api('GET', '/api/v1/admin/audit?limit=200', { headers: asRoot, status: 200 })

  // The server's log, whole, once it has stopped.
  await stopServe(serve)
  ledger.text('log stdout', 'the server log (stdout)', serve.logs.map((line) => JSON.stringify(line)).join('\n'))
  ledger.text('log stderr', 'the server log (stderr)', serve.stderr())
  return serve.logs.length
}
