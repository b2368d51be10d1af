/**
 * Each environment checked as `env check` does (checkReadiness), against real SQLite files and a database
 * port nothing listens on, summarised as one row.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { loadWorkspace, type Workspace } from '../../../src/config/workspace.js'
import { GantryError } from '../../../src/core/errors.js'
import { environmentChecks, environmentRow } from '../../../src/doctor/environments.js'
import type { Check, Outcome, Readiness } from '../../../src/readiness.js'

const SECRET = 'x'.repeat(48)

describe('doctor: environments', () => {
  let root: string
  let workspace: Workspace
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'gantry-doctor-env-'))
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({
        environments: {
          development: { database: 'sqlite:./dev.sqlite3' },
          qa: { database: '${QA_DATABASE_URL}' },
        },
      }),
    )
    writeFileSync(join(root, '.env.qa'), 'QA_DATABASE_URL=postgres://app:pa55word@127.0.0.1:1/qa\n')
    workspace = loadWorkspace({ cwd: root })
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  it('gives one row per environment: pending migrations fail, unset variables warn, an unreachable database fails', async () => {
    const seen: string[] = []
    const rows = await environmentChecks(workspace, { processEnv: { GANTRY_AUTH_SECRET: SECRET }, progress: (t) => seen.push(t) })
    expect(seen).to.deep.equal([
      'Checking environment development',
      'Checking environment staging',
      'Checking environment production',
      'Checking environment qa',
    ])
    expect(rows.map((r) => [r.id, r.status])).to.deep.equal([
      ['environment:development', 'fail'],
      ['environment:staging', 'warn'],
      ['environment:production', 'warn'],
      ['environment:qa', 'fail'],
    ])
    const [development, staging, , qa] = rows
    expect(development!.message).to.match(/^development: migrations: \d+ pending migrations: run `gantry migrate latest`\.$/)
    expect(development!.fix).to.equal('gantry migrate latest -e development')
    expect(staging!.message).to.equal('staging: not checked here: Environment variable DATABASE_URL is not set (used by environments.staging.database).')
    expect(staging!.fix).to.equal('Set DATABASE_URL in .env.staging (or the shell) to check staging from here.')
    expect(qa!.message).to.match(/^qa: database: Cannot connect to PostgreSQL at 127\.0\.0\.1:1.*\(DB_UNREACHABLE\)\.$/)
    expect(qa!.fix).to.equal('Check that the database server is running and the host and port in the URL.')
    expect(JSON.stringify(rows)).not.to.include('pa55word').and.not.include(SECRET)
  })

  it('warns of a missing token secret with the command that makes one, naming other problems by count', async () => {
    const [development] = await environmentChecks(
      { ...workspace, config: { environments: { development: { database: 'sqlite:./dev.sqlite3' } } } },
      { processEnv: {} },
    )
    // The secret warns, migrations fail: the row is the failure, with the warning counted.
    expect(development!.status).to.equal('fail')
    expect(development!.message).to.match(/ \(and 1 more: `gantry env check -e development`\)\.$/)
  })

  describe('a report as one row', () => {
    const report = (checks: Array<Pick<Check, 'name' | 'status' | 'message'>>): Readiness => ({
      environment: 'staging',
      ready: !checks.some((c) => c.status === 'fail'),
      checks: checks.map((c) => ({ ...c, latencyMs: null })),
    })

    it('ready: names the database and the migrations', () => {
      const row = environmentRow(
        report([
          { name: 'config', status: 'ok', message: 'valid.' },
          { name: 'auth', status: 'ok', message: 'the token secret is set.' },
          { name: 'database', status: 'ok', message: 'postgres://app:***@db/app answers (driver pg).' },
          { name: 'redis', status: 'ok', message: 'memory.' },
          { name: 'migrations', status: 'ok', message: 'up to date (9 applied).' },
        ]),
        new Map(),
      )
      expect(row).to.deep.equal({
        id: 'environment:staging',
        group: 'environments',
        status: 'ok',
        message: 'staging: ready; database postgres://app:***@db/app answers (driver pg); migrations up to date (9 applied).',
      })
    })

    it('a warning: the first of the worst rank, with the fix its outcome knows, else env check', () => {
      const checks = report([
        { name: 'config', status: 'ok', message: 'valid.' },
        { name: 'auth', status: 'warn', message: 'no token secret.' },
        { name: 'database', status: 'ok', message: 'answers.' },
        { name: 'redis', status: 'ok', message: 'memory.' },
        { name: 'migrations', status: 'warn', message: 'lock held.' },
      ])
      const outcomes = new Map<Check['name'], Outcome>([['auth', { status: 'warn', message: 'no token secret.', fix: 'Set GANTRY_AUTH_SECRET.' }]])
      expect(environmentRow(checks, outcomes)).to.include({
        status: 'warn',
        message: 'staging: auth: no token secret (and 1 more: `gantry env check -e staging`).',
        fix: 'Set GANTRY_AUTH_SECRET.',
      })
      expect(environmentRow(checks, new Map()).fix).to.equal('gantry env check -e staging')
    })

    it("a failure caught as an error: the error's hint is the fix", () => {
      const error = new GantryError('REDIS_UNREACHABLE', 'Redis at 127.0.0.1:1 does not answer.')
      const row = environmentRow(
        report([
          { name: 'config', status: 'ok', message: 'valid.' },
          { name: 'redis', status: 'fail', message: 'Redis at 127.0.0.1:1 does not answer (REDIS_UNREACHABLE).' },
        ]),
        new Map([['redis', { status: 'fail', message: '', error }]]),
      )
      expect(row).to.include({ status: 'fail', fix: 'Check that Redis is running and the redis URL, or remove it to use the in-memory store.' })
    })
  })
})
