/**
 * No secret leaks (issue 3): no password, token, key or hash appears in any output, audit row, export or
 * `--json` document other than the one creation output. One realistic session of the built CLI in a
 * SQLite workspace; every secret it mints or is given is collected, then looked for everywhere: the stdout
 * and stderr of every run, every file in the workspace and every cell of every table.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { hash as argon2 } from '@node-rs/argon2'
import { expect } from 'chai'
import knexFactory from 'knex'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

/** A bcrypt hash from another system (cost 4). */
const BCRYPT = '$2b$04$Gc6pBiTqMhC54rns0SqUBeIHa3gy/7cT3rMXbo3J/UBlHHXuKvhQm'
const KEY = /gk_development_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}/
/** Columns that hold a secret in its stored form: password and token hashes, an encrypted private key. */
const STORED_SECRET = /hash$|^private_/
/** Databases are dumped row by row instead: their files keep freed pages that once held old hashes. */
const SKIPPED_FILES = /\.sqlite3(-wal|-shm|-journal)?$/

/** A place a secret was seen: `run N stdout`, `file PATH` or `db TABLE.COLUMN`. */
type Place = string

interface Secret {
  readonly what: string
  readonly value: string
  /** Where it may appear; anywhere else is a leak. */
  readonly allowed: readonly Place[]
}

interface Run {
  readonly label: string
  readonly result: CliResult
}

describe('e2e: no secret leaks (built CLI, SQLite)', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => (dir = tempDir()))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('shows each password, key, token and hash only in its creation output (hashes: only in their hash columns)', async () => {
    const root = join(dir, 'shop')
    const runs: Run[] = []
    const secrets: Secret[] = []
    /** Runs gantry in the workspace (auth secret from .env.development, as `init` wrote it); returns the run's place. */
    const gantry = async (args: readonly string[], options: { input?: string; code?: number; cwd?: string } = {}): Promise<{ result: CliResult; stdout: Place }> => {
      const result = await runGantry(args, { cwd: options.cwd ?? root, input: options.input, env: { GANTRY_AUTH_SECRET: undefined } })
      expect(result.code, `gantry ${args.join(' ')}\n${result.stderr}`).to.equal(options.code ?? 0)
      runs.push({ label: `gantry ${args.join(' ')}`, result })
      return { result, stdout: `run ${runs.length} stdout` }
    }
    const password = (): string => `pw-${randomBytes(12).toString('hex')}`
    const shownOnce = (text: string, label: string): string => {
      const found = new RegExp(`^${label} \\(shown once\\): (\\S+)$`, 'm').exec(text)?.[1]
      expect(found, `"${label} (shown once)" in:\n${text}`).to.be.a('string')
      return found as string
    }
    const apiKey = (what: string, key: string, place: Place): void => {
      expect(key).to.match(KEY)
      secrets.push({ what, value: key, allowed: [place] }, { what: `${what} (secret part)`, value: secretPart(key), allowed: [place] })
    }
    const token = (what: string, jwt: string, place: Place): void => {
      expect(jwt).to.match(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
      secrets.push({ what, value: jwt, allowed: [place] }, { what: `${what} (signature)`, value: jwt.split('.')[2] as string, allowed: [place] })
    }

    // A workspace as a collaborator makes one: init writes a generated auth secret into .env.development.
    await gantry(['init', 'shop', '--yes', '--json'], { cwd: dir })
    const authSecret = /^GANTRY_AUTH_SECRET=(.+)$/m.exec(readFileSync(join(root, '.env.development'), 'utf8'))?.[1] ?? ''
    expect(authSecret).to.have.length.at.least(32)
    secrets.push({ what: 'GANTRY_AUTH_SECRET', value: authSecret, allowed: ['file .env.development'] })
    await gantry(['migrate', 'latest', '--json'])

    // Passwords given on stdin are in no output at all.
    const rootPassword = password()
    await gantry(['users', 'create', '--email', 'root@example.com', '--name', 'Root', '--role', 'admin', '--password-stdin', '--json'], { input: `${rootPassword}\n` })
    const opsPassword = password()
    await gantry(['users', 'create', '--email', 'ops@example.com', '--role', 'operator', '--password-stdin'], { input: opsPassword })
    secrets.push({ what: 'password (stdin, --json)', value: rootPassword, allowed: [] }, { what: 'password (stdin)', value: opsPassword, allowed: [] })
    // Refused passwords are not echoed in the error either.
    const refusedPassword = password()
    await gantry(['users', 'create', '--email', 'ROOT@example.com', '--password-stdin', '--json'], { input: refusedPassword, code: 1 })
    await gantry(['users', 'create', '--email', 'short@example.com', '--password-stdin'], { input: 'pw-short', code: 2 })
    secrets.push({ what: 'password of a duplicate user', value: refusedPassword, allowed: [] }, { what: 'password under the policy', value: 'pw-short', allowed: [] })

    const generated = await gantry(['users', 'create', '--email', 'gen@example.com', '--generate-password', '--json'])
    secrets.push({ what: 'generated password (--json)', value: parseJson<{ password: string }>(generated.result).password, allowed: [generated.stdout] })
    const generatedText = await gantry(['users', 'create', '--email', 'gen2@example.com', '--generate-password'])
    secrets.push({ what: 'generated password', value: shownOnce(generatedText.result.stdout, 'Password'), allowed: [generatedText.stdout] })

    const newPassword = password()
    await gantry(['users', 'set-password', 'gen@example.com', '--password-stdin'], { input: newPassword })
    secrets.push({ what: 'set-password (stdin)', value: newPassword, allowed: [] })
    const reset = await gantry(['users', 'set-password', 'gen2@example.com', '--generate-password', '--json'])
    secrets.push({ what: 'set-password --generate-password', value: parseJson<{ password: string }>(reset.result).password, allowed: [reset.stdout] })

    const created = await gantry(['apikeys', 'create', '--name', 'ci', '--owner', 'ops@example.com', '--scope', 'users:read', '--json'])
    const createdBody = parseJson<{ key: string; apiKey: { id: string } }>(created.result)
    apiKey('API key (--json)', createdBody.key, created.stdout)
    const createdText = await gantry(['apikeys', 'create', '--name', 'deploy', '--owner', 'root@example.com'])
    apiKey('API key', shownOnce(createdText.result.stdout, 'Key'), createdText.stdout)
    const rotated = await gantry(['apikeys', 'rotate', createdBody.apiKey.id, '--grace', '1h', '--json'])
    const rotatedKey = parseJson<{ key: string }>(rotated.result).key
    apiKey('rotated API key', rotatedKey, rotated.stdout)

    const issued = await gantry(['tokens', 'issue', '--user', 'ops@example.com', '--json'])
    token('access token (--json)', parseJson<{ token: string }>(issued.result).token, issued.stdout)
    const issuedText = await gantry(['tokens', 'issue', '--user', 'root@example.com', '--ttl', '1h'])
    token('access token', issuedText.result.stdout.trim(), issuedText.stdout)

    // Hashes from another system: argon2 (PHC) and bcrypt go to gantry_users.password_hash and nowhere else;
    // a malformed one is reported by line, never echoed.
    const argon = await argon2(password(), { algorithm: 2, memoryCost: 1024, timeCost: 1 })
    const malformed = `$2b$10$${randomBytes(15).toString('base64').replace(/[+/=]/g, 'x')}`
    writeFileSync(
      join(root, 'users.csv'),
      ['email,name,role,password_hash', `argon@example.com,Argon,viewer,"${argon}"`, `bcrypt@example.com,Bcrypt,operator,${BCRYPT}`, `bad@example.com,Bad,viewer,${malformed}`].join('\n'),
    )
    const fromFile: Place[] = ['file users.csv', 'db gantry_users.password_hash']
    secrets.push({ what: 'imported argon2 hash', value: argon, allowed: fromFile }, { what: 'imported bcrypt hash', value: BCRYPT, allowed: fromFile })
    secrets.push({ what: 'malformed imported hash', value: malformed, allowed: ['file users.csv'] })
    const plain = password()
    writeFileSync(join(root, 'plain.csv'), `email,password\nplain@example.com,${plain}\n`)
    await gantry(['users', 'import', 'plain.csv', '--json'], { code: 2 })
    secrets.push({ what: 'plain-text password in an import file', value: plain, allowed: ['file plain.csv'] })
    const dry = await gantry(['users', 'import', 'users.csv', '--dry-run', '--json'], { code: 1 })
    expect(parseJson<{ imported: number; skipped: Array<{ line: number }> }>(dry.result)).to.deep.include({ imported: 2, skipped: [{ line: 4, email: 'bad@example.com', reason: 'password_hash: not an argon2 (PHC) or bcrypt ($2a$/$2b$/$2y$) hash' }] })
    await gantry(['users', 'import', 'users.csv'], { code: 1 })

    // Everything that shows users, keys, the audit and the environment.
    await gantry(['users', 'export', 'users-export.csv'])
    await gantry(['users', 'export', 'users-export.jsonl'])
    await gantry(['users', 'export', '--format', 'jsonl'])
    await gantry(['users', 'export', '--format', 'csv'])
    const list = await gantry(['users', 'list', '--json', '--limit', '100'])
    expect(parseJson<{ data: unknown[] }>(list.result).data).to.have.length(6)
    await gantry(['users', 'list'])
    for (const email of ['root@example.com', 'gen@example.com', 'argon@example.com', 'bcrypt@example.com']) await gantry(['users', 'show', email, '--json'])
    await gantry(['users', 'show', 'bcrypt@example.com'])
    await gantry(['apikeys', 'list', '--json'])
    await gantry(['apikeys', 'list'])
    const audit = await gantry(['audit', 'list', '--json', '--limit', '500'])
    const actions = parseJson<{ data: Array<{ action: string }> }>(audit.result).data.map((e) => e.action)
    expect(actions).to.include.members(['users.create', 'users.set-password', 'apikeys.create', 'apikeys.rotate', 'tokens.issue', 'users.import'])
    await gantry(['audit', 'list', '--limit', '500'])
    await gantry(['env', 'show', '--json'])
    await gantry(['env', 'show'])
    await gantry(['env', 'list', '--json'])
    await gantry(['migrate', 'status', '--json'])

    // Every cell of every table. Stored secrets are secrets too: each may sit in such a column of its own table,
    // and nowhere else (gantry_users.password_hash; gantry_api_keys.secret_hash, previous_secret_hash).
    const cells = await dumpDatabase(join(root, '.gantry', 'development.sqlite3'))
    const known = new Set(secrets.map((s) => s.value))
    for (const cell of cells) {
      if (!STORED_SECRET.test(cell.column) || cell.value === '' || known.has(cell.value)) continue
      known.add(cell.value)
      const columns = [...new Set(cells.filter((c) => c.table === cell.table && STORED_SECRET.test(c.column)).map((c) => `db ${c.table}.${c.column}`))]
      secrets.push({ what: `stored ${cell.table}.${cell.column}`, value: cell.value, allowed: columns })
    }
    expect(secrets.filter((s) => s.what === 'stored gantry_users.password_hash').length, 'argon2id hashes of the 4 passwords set by gantry').to.equal(4)

    // An API key's stored hash is not its secret: it is the secret's sha256 (the rotated one kept for the grace period).
    const keys = cells.filter((c) => c.table === 'gantry_api_keys' && /secret_hash$/.test(c.column)).map((c) => c.value)
    for (const key of [rotatedKey, createdBody.key]) {
      expect(keys, 'the sha256 of the key secret is stored').to.include(createHash('sha256').update(secretPart(key)).digest('hex'))
      expect(keys.some((stored) => stored.includes(secretPart(key)))).to.equal(false)
    }

    // Look for every secret everywhere.
    const places: Array<{ place: Place; label: string; text: string }> = [
      ...runs.flatMap((run, i) => [
        { place: `run ${i + 1} stdout`, label: `${run.label} (stdout)`, text: run.result.stdout },
        { place: `run ${i + 1} stderr`, label: `${run.label} (stderr)`, text: run.result.stderr },
      ]),
      ...filesUnder(dir).map((file) => ({ place: `file ${relative(root, file)}`, label: relative(dir, file), text: readFileSync(file, 'utf8') })),
      ...cells.map((c) => ({ place: `db ${c.table}.${c.column}`, label: `${c.table}.${c.column}`, text: c.value })),
    ]
    const leaks: string[] = []
    for (const secret of secrets) {
      const seen = places.filter((p) => p.text.includes(secret.value))
      for (const p of seen) if (!secret.allowed.includes(p.place)) leaks.push(`${secret.what} in ${p.label}`)
      // A secret shown once is shown: each allowed output holds it (files and columns may be empty of it).
      for (const place of secret.allowed) if (place.startsWith('run ')) expect(seen.map((p) => p.place), secret.what).to.include(place)
    }
    expect(leaks, 'secrets outside their creation output').to.deep.equal([])
    expect(secrets.length).to.be.greaterThan(20)
  })
})

/** The secret part of an API key: `gk_<env>_<id>_<secret><check>`, the check being the last 6 characters. */
function secretPart(key: string): string {
  return (key.split('_')[3] ?? '').slice(0, -6)
}

/** Every file under `root`, databases aside. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !SKIPPED_FILES.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
}

/** Every non-null cell of every table, as text (better-sqlite3 through knex, read-only). */
async function dumpDatabase(file: string): Promise<Array<{ table: string; column: string; value: string }>> {
  const db = knexFactory({ client: 'better-sqlite3', connection: { filename: file, options: { readonly: true } }, useNullAsDefault: true })
  try {
    const tables = (await db.raw("SELECT name FROM sqlite_master WHERE type = 'table'")) as Array<{ name: string }>
    const dump = []
    for (const { name: table } of tables) {
      for (const row of (await db.select('*').from(table)) as Array<Record<string, unknown>>) {
        for (const [column, value] of Object.entries(row)) {
          if (value !== null) dump.push({ table, column, value: Buffer.isBuffer(value) ? value.toString('utf8') : String(value) })
        }
      }
    }
    return dump
  } finally {
    await db.destroy()
  }
}
