/**
 * `gantry doctor` as users run it: the built binary in a workspace made by `gantry init --yes`, its own
 * config home (no login of the caller's), the grouped text, the --json document and the exit codes.
 */
import { once } from 'node:events'
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

interface Row {
  id: string
  group: string
  status: string
  message: string
  fix?: string
}
interface Report {
  checks: Row[]
  summary: { ok: number; warn: number; fail: number; skipped: number }
}

/** A loopback URL nothing listens on (a port free a moment ago). */
async function closedUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

describe('e2e: gantry doctor', function () {
  this.timeout(60_000)
  let dir: string
  let env: NodeJS.ProcessEnv
  let secret: string
  const doctor = (args: string[] = [], extra: NodeJS.ProcessEnv = {}) => runGantry(['doctor', ...args], { cwd: dir, env: { ...env, ...extra } })
  const noSecrets = (run: CliResult) =>
    expect(run.stdout + run.stderr)
      .not.to.include(secret)
      .and.not.include('pa55word')

  before(async () => {
    dir = tempDir('gantry-doctor-')
    mkdirSync(join(dir, 'config-home'))
    mkdirSync(join(dir, 'app'))
    // Nothing of the caller's: no login, no server URL, no credentials in variables.
    env = {
      XDG_CONFIG_HOME: join(dir, 'config-home'),
      GANTRY_URL: undefined,
      GANTRY_API_KEY: undefined,
      GANTRY_TOKEN: undefined,
      GANTRY_SQLITE_DRIVER: undefined,
    }
    dir = join(dir, 'app')
    const init = await runGantry(['init', '--yes', '--name', 'doctored'], { cwd: dir, env })
    expect(init.code, init.stderr).to.equal(0)
    const migrate = await runGantry(['migrate', 'latest'], { cwd: dir, env })
    expect(migrate.code, migrate.stderr).to.equal(0)
    secret = readFileSync(join(dir, '.env.development'), 'utf8').match(/GANTRY_AUTH_SECRET=(.*)/)![1]!
    writeFileSync(join(dir, '.env'), 'LOG_FORMAT=pretty\n')
    chmodSync(join(dir, '.env'), 0o644)
  })
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }))

  it('exits 0 with warnings: a .env others can read, environments whose variables are not set here, a server that does not answer', async () => {
    const url = await closedUrl()
    const run = await doctor([], { GANTRY_URL: url })
    expect(run.code, run.stderr).to.equal(0)
    const lines = run.stdout.split('\n')
    for (const title of ['Toolchain', 'Config', 'Secrets files', 'Environments', 'Credentials', 'Server']) expect(lines).to.include(title)
    expect(lines).to.include('  ! .env has mode 0644: other users of this machine can read it.')
    expect(lines).to.include('    Fix: chmod 600 .env')
    expect(lines).to.include('  ✔ .env.development is private (mode 0600).')
    expect(lines.find((l) => l.startsWith('  ✔ development: ready; database sqlite:'))).to.be.a('string')
    expect(lines).to.include('  ! staging: not checked here: Environment variable DATABASE_URL is not set (used by environments.staging.database).')
    expect(lines.find((l) => l.startsWith(`  ! ${url} (GANTRY_URL) does not answer`))).to.be.a('string')
    expect(lines).to.include('    Fix: Start the server (`gantry serve`), or point GANTRY_URL at one that runs.')
    expect(lines.at(-2)).to.equal('4 warnings (11 checks).')
    expect(run.stderr).to.equal('')
    noSecrets(run)
  })

  it('--json: the checks, each with its fix when not ok, and the counts', async () => {
    const run = await doctor(['--json'])
    expect(run.code, run.stderr).to.equal(0)
    const report = parseJson<Report>(run)
    expect(Object.keys(report)).to.deep.equal(['checks', 'summary'])
    expect(report.checks.map((c) => c.id)).to.deep.equal([
      'node',
      'sqlite-driver',
      'argon2',
      'config',
      'secrets:.env',
      'secrets:.env.development',
      'environment:development',
      'environment:staging',
      'environment:production',
      'credentials',
      'server',
    ])
    for (const c of report.checks) {
      expect(Object.keys(c)).to.deep.equal(
        c.status === 'warn' || c.status === 'fail' ? ['id', 'group', 'status', 'message', 'fix'] : ['id', 'group', 'status', 'message'],
      )
    }
    expect(report.checks.find((c) => c.id === 'secrets:.env')).to.deep.include({ group: 'secrets', status: 'warn', fix: 'chmod 600 .env' })
    expect(report.summary).to.deep.equal({ ok: 7, warn: 3, fail: 0, skipped: 1 })
    noSecrets(run)
  })

  it("exits 3 when an environment's database does not answer, without printing its password", async () => {
    writeFileSync(join(dir, '.env.staging'), 'DATABASE_URL=postgres://app:pa55word@127.0.0.1:1/app\n', { mode: 0o600 })
    try {
      const run = await doctor()
      expect(run.code, run.stderr).to.equal(3)
      expect(run.stdout).to.match(/^ {2}✖ staging: database: Cannot connect to PostgreSQL at 127\.0\.0\.1:1/m)
      expect(run.stdout).to.include('    Fix: Check that the database server is running and the host and port in the URL.')
      expect(run.stderr).to.include('Error (NOT_READY): gantry doctor found 1 problem: environment:staging.')
      noSecrets(run)

      const json = await doctor(['--json'])
      expect(json.code).to.equal(3)
      const { error } = parseJson<{ error: { code: string; details: Report } }>(json)
      expect(error.code).to.equal('NOT_READY')
      expect(error.details.checks.find((c) => c.id === 'environment:staging')).to.include({ status: 'fail' })
      expect(error.details.summary.fail).to.equal(1)
      noSecrets(json)
    } finally {
      rmSync(join(dir, '.env.staging'))
    }
  })

  it('exits 3 on an invalid config, skipping the environments but still checking the .env files', async () => {
    const configPath = join(dir, 'gantry.config.json')
    const original = readFileSync(configPath, 'utf8')
    writeFileSync(configPath, '{ "environments": ')
    try {
      const run = await doctor(['--json'])
      expect(run.code).to.equal(3)
      const { checks } = parseJson<{ error: { details: Report } }>(run).error.details
      expect(checks.find((c) => c.id === 'config')).to.include({ status: 'fail' })
      expect(checks.find((c) => c.id === 'config')!.message).to.include('is not valid JSON')
      expect(checks.find((c) => c.id === 'environments')).to.deep.equal({
        id: 'environments',
        group: 'environments',
        status: 'skipped',
        message: 'not checked: the config is invalid.',
      })
      expect(checks.find((c) => c.id === 'secrets:.env')).to.include({ status: 'warn' })
    } finally {
      writeFileSync(configPath, original)
    }
  })
})
