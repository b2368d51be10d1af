import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir } from '../helpers/cli.js'
import { pendingUnlessCi, SERVICE_URLS } from '../helpers/services.js'

type Json = Record<string, unknown>
interface Check {
  name: string
  status: string
  latencyMs: number | null
  message: string
}

describe('e2e: gantry env', function () {
  this.timeout(60_000)
  let dir: string
  const gantry = (args: string[], env: NodeJS.ProcessEnv = {}) => runGantry(args, { cwd: dir, env })

  before(async () => {
    dir = tempDir()
    const init = await runGantry(['init', '--yes', '--name', 'envs'], { cwd: dir })
    expect(init.code, init.stderr).to.equal(0)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('env list shows the three built-in environments, development selected', async () => {
    const list = parseJson<{ data: Array<{ name: string; protected: boolean; current: boolean }> }>(await gantry(['env', 'list', '--json']))
    expect(list.data.map((e) => e.name)).to.deep.equal(['development', 'staging', 'production'])
    expect(list.data.find((e) => e.current)?.name).to.equal('development')
    expect(list.data.find((e) => e.name === 'production')?.protected).to.equal(true)
  })

  it('env list and env diff never print a password written into the config', async () => {
    const configPath = join(dir, 'gantry.config.json')
    const original = readFileSync(configPath, 'utf8')
    const config = JSON.parse(original) as { environments: Record<string, Record<string, unknown>> }
    config.environments.staging!.database = 'mysql://app:s3cretpw@db.example/app'
    config.environments.production!.database = '${DATABASE_URL:-postgres://app:pr0dpw@db/app}'
    writeFileSync(configPath, JSON.stringify(config, null, 2))
    try {
      for (const args of [
        ['env', 'list'],
        ['env', 'list', '--json'],
        ['env', 'diff', 'staging', 'production'],
        ['env', 'diff', 'staging', 'production', '--json'],
      ]) {
        const run = await gantry(args)
        expect(run.code, run.stderr).to.equal(0)
        expect(run.stdout + run.stderr, args.join(' ')).to.not.match(/s3cretpw|pr0dpw/)
      }
    } finally {
      writeFileSync(configPath, original)
    }
  })

  it('env show masks secrets and tells where each variable comes from', async () => {
    const secret = readFileSync(join(dir, '.env.development'), 'utf8').match(/GANTRY_AUTH_SECRET=(.*)/)?.[1] ?? 'none'
    const human = await gantry(['env', 'show'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.include('development').and.include('.env.development').and.not.include(secret)
    const shown = parseJson<{
      resolved: boolean
      settings: { auth: { secret: string } }
      variables: Array<{ name: string; source: string; value: string | null }>
    }>(await gantry(['env', 'show', '--json']))
    expect(shown.resolved).to.equal(true)
    expect(shown.settings.auth.secret).to.equal('***')
    expect(shown.variables.find((v) => v.name === 'GANTRY_AUTH_SECRET')).to.deep.include({ source: '.env.development', value: '***' })
    expect(JSON.stringify(shown)).not.to.include(secret)
  })

  it('env show reports unset variables instead of failing, and masks URL passwords', async () => {
    const unset = await gantry(['env', 'show', 'production', '--json'])
    expect(unset.code, unset.stderr).to.equal(0)
    const body = parseJson<{ resolved: boolean; variables: Array<{ name: string; source: string }> }>(unset)
    expect(body.resolved).to.equal(false)
    expect(body.variables.find((v) => v.name === 'DATABASE_URL')?.source).to.equal('unset')
    // (the test helper's cliEnv drops DATABASE_URL from the child's environment, so the values go in the env file)
    writeFileSync(join(dir, '.env.production'), 'DATABASE_URL=postgres://app:pa55word@db/prod\nGANTRY_AUTH_SECRET=topsecret\n')
    const set = await gantry(['env', 'show', 'production', '--json'])
    expect(parseJson<{ resolved: boolean }>(set).resolved).to.equal(true)
    expect(set.stdout).to.include('postgres://app:***@db/prod').and.not.include('pa55word').and.not.include('topsecret')
  })

  it('env create adds an environment and a 0600 .env file; a second create is refused', async () => {
    const created = await gantry(['env', 'create', 'qa', '--from', 'staging', '--json'])
    expect(created.code, created.stderr).to.equal(0)
    expect(parseJson<Json>(created)).to.deep.include({ name: 'qa', from: 'staging', protected: false })
    expect(statSync(join(dir, '.env.qa')).mode & 0o777).to.equal(0o600)
    const config = JSON.parse(readFileSync(join(dir, 'gantry.config.json'), 'utf8')) as { name: string; environments: Record<string, unknown> }
    expect(config.name).to.equal('envs')
    expect(Object.keys(config.environments)).to.deep.equal(['development', 'staging', 'production', 'qa'])
    const again = await gantry(['env', 'create', 'qa'])
    expect(again.code).to.equal(1)
    expect(again.stderr).to.match(/^Error \(ENV_EXISTS\)/m)
    expect((await gantry(['env', 'create', 'Not_Valid'])).code).to.equal(2)
  })

  it('env diff reports a variable missing in production without printing secrets (exit 0)', async () => {
    writeFileSync(join(dir, '.env.staging'), 'DATABASE_URL=postgres://app:stg-pass@db/stg\nGANTRY_AUTH_SECRET=stg-secret\nSENTRY_DSN=https://k@sentry/1\n')
    writeFileSync(join(dir, '.env.production'), 'DATABASE_URL=postgres://app:prd-pass@db/prd\nGANTRY_AUTH_SECRET=prd-secret\n')
    const result = await gantry(['env', 'diff', 'staging', 'production', '--json'])
    expect(result.code, result.stderr).to.equal(0)
    const diff = parseJson<{ settings: Array<{ path: string }>; variables: Array<{ name: string; kind: string }> }>(result)
    expect(diff.variables.find((v) => v.name === 'SENTRY_DSN')?.kind).to.equal('missing-in-b')
    expect(diff.variables.find((v) => v.name === 'GANTRY_AUTH_SECRET')?.kind).to.equal('differs')
    expect(diff.settings.map((s) => s.path)).to.include.members(['protected', 'rateLimits.default.limit'])
    const human = await gantry(['env', 'diff', 'staging', 'production'])
    for (const out of [result.stdout, human.stdout]) {
      for (const secret of ['stg-secret', 'prd-secret', 'stg-pass', 'prd-pass']) expect(out).not.to.include(secret)
    }
    expect(human.stdout).to.include('SENTRY_DSN')
    expect((await gantry(['env', 'diff', 'staging', 'nope'])).code).to.equal(2)
  })

  it('env check fails on pending migrations (exit 3, as the server’s readiness does) and passes once they ran', async () => {
    const pending = await gantry(['env', 'check', '--json'])
    expect(pending.code, pending.stderr).to.equal(3)
    const failed = parseJson<{ error: { code: string; details: { checks: Check[] } } }>(pending).error
    expect(failed.code).to.equal('NOT_READY')
    expect(failed.details.checks.find((c) => c.name === 'migrations')).to.deep.include({ status: 'fail' })
    expect(failed.details.checks.find((c) => c.name === 'migrations')?.message).to.match(/pending migrations?: run `gantry migrate latest`/)
    const migrated = await gantry(['migrate', 'latest'])
    expect(migrated.code, migrated.stderr).to.equal(0)
    const result = await gantry(['env', 'check', '--json'])
    expect(result.code, result.stderr).to.equal(0)
    const body = parseJson<{ ready: boolean; checks: Check[] }>(result)
    expect(body.ready).to.equal(true)
    expect(body.checks.map((c) => c.name)).to.deep.equal(['config', 'auth', 'database', 'redis', 'migrations'])
    expect(body.checks.find((c) => c.name === 'auth')).to.deep.include({ status: 'ok' })
    expect(body.checks.find((c) => c.name === 'database')?.latencyMs).to.be.a('number')
    // libsql unless the run names another (docs/sqlite-driver.md): the check says which driver answered.
    // …and how the connection travels: a SQLite database is a local file, never encrypted in transit.
    expect(body.checks.find((c) => c.name === 'database')?.message).to.include(`(driver ${process.env.GANTRY_SQLITE_DRIVER ?? 'libsql'}; a local file)`)
    expect(body.checks.find((c) => c.name === 'redis')?.message).to.match(/^memory/)
    expect(body.checks.every((c) => c.status === 'ok')).to.equal(true)
  })

  it('env check: a missing or short token secret fails a protected environment (exit 3) and warns elsewhere (exit 0)', async () => {
    // Production on the database the test above migrated, with no secret anywhere.
    writeFileSync(join(dir, '.env.production'), `DATABASE_URL=sqlite:${join(dir, '.gantry', 'development.sqlite3')}\n`)
    const missing = await gantry(['env', 'check', '-e', 'production', '--json'])
    expect(missing.code, missing.stderr).to.equal(3)
    const auth = parseJson<{ error: { details: { checks: Check[] } } }>(missing).error.details.checks.find((c) => c.name === 'auth')
    expect(auth).to.deep.include({ status: 'fail' })
    expect(auth?.message).to.include('GANTRY_AUTH_SECRET')
    const short = await gantry(['env', 'check', '-e', 'production', '--json'], { GANTRY_AUTH_SECRET: 'short' })
    expect(short.code).to.equal(3)
    const strong = await gantry(['env', 'check', '-e', 'production', '--json'], { GANTRY_AUTH_SECRET: 'x'.repeat(32) })
    expect(strong.code, strong.stdout).to.equal(0)
    const weakDev = await gantry(['env', 'check', '--json'], { GANTRY_AUTH_SECRET: 'short' })
    expect(weakDev.code, weakDev.stderr).to.equal(0)
    expect(parseJson<{ checks: Check[] }>(weakDev).checks.find((c) => c.name === 'auth')).to.deep.include({ status: 'warn' })
  })

  it('env check fails the database check, naming the choices, when GANTRY_SQLITE_DRIVER names no driver', async () => {
    const result = await gantry(['env', 'check', '--json'], { GANTRY_SQLITE_DRIVER: 'sqlite4' })
    expect(result.code, result.stderr).to.equal(3)
    const database = parseJson<{ error: { details: { checks: Check[] } } }>(result).error.details.checks.find((c) => c.name === 'database')
    expect(database?.status).to.equal('fail')
    expect(database?.message).to.include('GANTRY_SQLITE_DRIVER="sqlite4" is not a SQLite driver: use libsql or better-sqlite3')
  })

  it('env check pings Redis when one is configured', async function () {
    const result = await gantry(['env', 'check', '--json'], { REDIS_URL: SERVICE_URLS.redis })
    const body = parseJson<{ checks?: Check[]; error?: { details: { checks: Check[] } } }>(result)
    const redis = (body.checks ?? body.error?.details.checks ?? []).find((c) => c.name === 'redis')
    if (redis?.status === 'fail') pendingUnlessCi(this, `redis unreachable (${redis.message})`)
    expect(redis?.status).to.equal('ok')
    expect(redis?.latencyMs).to.be.a('number')
  })

  it('env check exits 3 with a one-line error when the database is unreachable; --json keeps the checks', async () => {
    writeFileSync(join(dir, '.env.staging'), 'DATABASE_URL=postgres://postgres@127.0.0.1:1/x\nGANTRY_AUTH_SECRET=s\n')
    const human = await gantry(['env', 'check', '-e', 'staging'])
    expect(human.code).to.equal(3)
    const errors = human.stderr.split('\n').filter((l) => l.startsWith('Error ('))
    expect(errors).to.have.length(1)
    expect(errors[0]).to.match(/^Error \(NOT_READY\): staging is not ready: database: .*127\.0\.0\.1:1/)
    expect(human.stderr, 'no stack trace').not.to.match(/^\s+at /m)
    const json = await gantry(['env', 'check', '-e', 'staging', '--json'])
    expect(json.code).to.equal(3)
    const body = parseJson<{ error: { code: string; details: { checks: Check[] } } }>(json)
    expect(body.error.code).to.equal('NOT_READY')
    expect(body.error.details.checks.find((c) => c.name === 'database')?.status).to.equal('fail')
    expect(body.error.details.checks.find((c) => c.name === 'migrations')?.status).to.equal('skipped')
  })

  it('env check exits 3 when Redis is unreachable', async () => {
    const result = await gantry(['env', 'check', '--json'], { REDIS_URL: 'redis://127.0.0.1:1' })
    expect(result.code).to.equal(3)
    const checks = parseJson<{ error: { details: { checks: Check[] } } }>(result).error.details.checks
    expect(checks.find((c) => c.name === 'redis')?.status).to.equal('fail')
  })
})
