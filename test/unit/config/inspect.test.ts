import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { diffEnvironments } from '../../../src/config/diff.js'
import { formatEnvLines, readEnvFile } from '../../../src/config/dotenv.js'
import { describeVariables, inspectEnvironment } from '../../../src/config/inspect.js'
import { displayValue, generateSecret, isSecretName, maskSettings } from '../../../src/config/secrets.js'
import { loadWorkspace, type Workspace } from '../../../src/config/workspace.js'

describe('config: secrets, env show and env diff helpers', () => {
  let root: string
  let ws: Workspace
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'gantry-inspect-'))
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { staging: { redis: '${REDIS_URL}' }, qa: {} } }))
    writeFileSync(join(root, '.env'), 'PORT=4000\n')
    writeFileSync(
      join(root, '.env.staging'),
      'DATABASE_URL=postgres://app:s3cret@db/app\nGANTRY_AUTH_SECRET=staging-secret\nREDIS_URL=redis://:rpass@r:6379\nSENTRY_DSN=https://k@sentry/1\n',
    )
    writeFileSync(join(root, '.env.production'), 'DATABASE_URL=postgres://app:oth@er@db/prod?sslpassword=sslpw\nGANTRY_AUTH_SECRET=prod-secret\n')
    ws = loadWorkspace({ cwd: root })
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  it('recognises secret-like names and generates 32-byte base64url secrets', () => {
    for (const name of ['GANTRY_AUTH_SECRET', 'DB_PASSWORD', 'API_TOKEN', 'STRIPE_KEY', 'SMTP_PASS']) expect(isSecretName(name), name).to.equal(true)
    for (const name of ['DATABASE_URL', 'PORT', 'REDIS_URL']) expect(isSecretName(name), name).to.equal(false)
    const secret = generateSecret()
    expect(secret).to.match(/^[A-Za-z0-9_-]{43}$/)
    expect(generateSecret()).not.to.equal(secret)
  })

  it('masks URL passwords and auth.secret, but not ${VAR} references', () => {
    const masked = maskSettings({ database: 'postgres://u:pw@h/db', redis: 'redis://:rp@h:6379', auth: { secret: 'raw', accessTokenTtl: '15m' } })
    expect(masked).to.deep.equal({ database: 'postgres://u:***@h/db', redis: 'redis://:***@h:6379', auth: { secret: '***', accessTokenTtl: '15m' } })
    expect(maskSettings({ auth: { secret: '${GANTRY_AUTH_SECRET}' } })).to.deep.equal({ auth: { secret: '${GANTRY_AUTH_SECRET}' } })
    // The data key that seals secrets at rest, written as a literal: masked like the token secret.
    expect(maskSettings({ encryptionKey: 'c2VjcmV0LWtleQ==' })).to.deep.equal({ encryptionKey: '***' })
    expect(maskSettings({ encryptionKey: '${GANTRY_ENCRYPTION_KEY:-}' })).to.deep.equal({ encryptionKey: '${GANTRY_ENCRYPTION_KEY:-}' })
  })

  it('masks a URL password up to its last @, and secret-named query parameters, in settings and variables alike', () => {
    const table: ReadonlyArray<[url: string, shown: string]> = [
      ['postgres://u:pw@h/db', 'postgres://u:***@h/db'],
      ['mysql://u:p@ss@host/db', 'mysql://u:***@host/db'],
      ['mysql://u:p@s@s@host:3306/db', 'mysql://u:***@host:3306/db'],
      ['postgres://app:ab/cd+ef==@db/app', 'postgres://app:***@db/app'],
      ['mysql://u:p#ss@host/db', 'mysql://u:***@host/db'],
      ['mysql://u:p?ss@host/db', 'mysql://u:***@host/db'],
      ['redis://:pw@h:6379', 'redis://:***@h:6379'],
      ['rediss://default:pw@h:6380/0', 'rediss://default:***@h:6380/0'],
      ['postgres://u:@h/db', 'postgres://u:***@h/db'],
      ['postgres://u@h/db', 'postgres://u@h/db'],
      ['postgres://h:5432/db', 'postgres://h:5432/db'],
      ['postgres://h/db?password=hunter2', 'postgres://h/db?password=***'],
      ['postgres://u@h/db?sslmode=require&sslpassword=hunter2&application_name=app', 'postgres://u@h/db?sslmode=require&sslpassword=***&application_name=app'],
      ['mysql://u@h/db?pass=a&token=b&secret=c&key=d&api_key=e&PASSWORD=f', 'mysql://u@h/db?pass=***&token=***&secret=***&key=***&api_key=***&PASSWORD=***'],
      ['postgres://h/db?password=&sslmode=disable', 'postgres://h/db?password=&sslmode=disable'],
      ['postgres://h/db?sslmode=require#password=x', 'postgres://h/db?sslmode=require#password=x'],
      // Ambiguous (an @ in a query value, a & in a password): both readings masked, more hidden, never less.
      ['postgres://u:pw@h/db?application_name=a@b', 'postgres://u:***@b'],
      ['mysql://u:p@ss@h/db?password=p@ss&charset=utf8mb4', 'mysql://u:***&charset=utf8mb4'],
      ['mysql://u:a&token=b@h/db', 'mysql://u:***'],
      ['sqlite:./.gantry/dev.sqlite3', 'sqlite:./.gantry/dev.sqlite3'],
      ['from redis://:a1@h1 to redis://:b2@h2', 'from redis://:***@h1 to redis://:***@h2'],
      ['${DATABASE_URL:-mysql://u:p@ss@db/app?password=x}', '${DATABASE_URL:-mysql://u:***@db/app?password=***}'],
      ['postgres://h/db?password=a}b', 'postgres://h/db?password=***'],
    ]
    for (const [url, shown] of table) {
      expect(maskSettings({ database: url }).database, url).to.equal(shown)
      expect(displayValue('DATABASE_URL', url), url).to.equal(shown)
    }
  })

  it('masks passwords and secrets inside ${VAR:-default} defaults', () => {
    const masked = maskSettings({
      database: '${DATABASE_URL:-postgres://app:pr0dpw@db/app}',
      redis: 'x ${REDIS_URL:-redis://:rp@h:6379} y',
      auth: { secret: '${GANTRY_AUTH_SECRET:-hunter2default}' },
      other: '${API_TOKEN:-tok123} ${PLAIN:-visible}',
    })
    expect(JSON.stringify(masked)).to.not.match(/pr0dpw|rp@|hunter2default|tok123/)
    expect(masked).to.deep.equal({
      database: '${DATABASE_URL:-postgres://app:***@db/app}',
      redis: 'x ${REDIS_URL:-redis://:***@h:6379} y',
      auth: { secret: '${GANTRY_AUTH_SECRET:-***}' },
      other: '${API_TOKEN:-***} ${PLAIN:-visible}',
    })
  })

  it('tells where each variable comes from, with secret values masked', () => {
    const vars = describeVariables(ws, 'staging', { PORT: '5000' })
    const by = Object.fromEntries(vars.map((v) => [v.name, v]))
    expect(by.PORT).to.deep.include({ source: 'process env', value: '5000' })
    expect(by.DATABASE_URL).to.deep.include({ source: '.env.staging', value: 'postgres://app:***@db/app', secret: false })
    expect(by.GANTRY_AUTH_SECRET).to.deep.include({ source: '.env.staging', value: '***', secret: true })
    expect(describeVariables(ws, 'staging', {}).find((v) => v.name === 'PORT')).to.deep.include({ source: '.env', value: '4000' })
    const qa = Object.fromEntries(describeVariables(ws, 'qa', {}).map((v) => [v.name, v]))
    expect(qa.DATABASE_URL).to.deep.include({ source: 'unset', value: null })
    expect(qa.REDIS_URL).to.deep.include({ source: 'default', value: '' })
    expect(JSON.stringify(vars)).not.to.include('staging-secret').and.not.to.include('s3cret')
  })

  it('inspects an environment with unset variables without throwing', () => {
    const qa = inspectEnvironment(ws, 'qa', {})
    expect(qa.environment).to.equal(undefined)
    expect(qa.problem?.code).to.equal('CONFIG_VAR_UNSET')
    expect(qa.unset).to.have.members(['DATABASE_URL'])
    expect(qa.settings.database).to.equal('${DATABASE_URL}')
    const staging = inspectEnvironment(ws, 'staging', {})
    expect(staging.environment?.database).to.equal('postgres://app:s3cret@db/app')
    expect(staging.problem).to.equal(undefined)
  })

  it('diffs settings path by path and variables without printing secrets', () => {
    const diff = diffEnvironments(ws, 'staging', 'production', {})
    const settings = Object.fromEntries(diff.settings.map((d) => [d.path, d]))
    expect(settings.protected).to.deep.include({ kind: 'differs', a: false, b: true })
    expect(settings['rateLimits.default.limit']).to.deep.include({ kind: 'differs', a: 500, b: 100 })
    expect(settings.redis).to.deep.include({ kind: 'differs', a: '${REDIS_URL}', b: '${REDIS_URL:-}' })
    const vars = Object.fromEntries(diff.variables.map((d) => [d.name, d]))
    expect(vars.SENTRY_DSN).to.deep.include({ kind: 'missing-in-b', secret: false })
    expect(vars.SENTRY_DSN?.b).to.deep.equal({ source: 'unset', value: null })
    expect(vars.GANTRY_AUTH_SECRET).to.deep.include({ kind: 'differs', secret: true })
    expect(vars.GANTRY_AUTH_SECRET?.a.value).to.equal(null)
    expect(vars.DATABASE_URL?.b.value).to.equal('postgres://app:***@db/prod?sslpassword=***')
    expect(vars.PORT).to.equal(undefined)
    const text = JSON.stringify(diff)
    for (const secret of ['staging-secret', 'prod-secret', 's3cret', 'oth', 'er@', 'sslpw', 'rpass']) expect(text).not.to.include(secret)
  })

  it('reports no difference between an environment and itself', () => {
    expect(diffEnvironments(ws, 'staging', 'staging', {})).to.deep.equal({ settings: [], variables: [] })
  })

  it('writes .env lines that dotenv reads back unchanged', () => {
    const entries = [
      ['A', 'plain'],
      ['B', 'has space'],
      ['C', 'it\'s # "quoted"'],
      ['D', ''],
    ] as const
    const file = join(root, '.env.roundtrip')
    writeFileSync(file, formatEnvLines(entries))
    expect(readEnvFile(file)).to.deep.equal(Object.fromEntries(entries))
  })
})
