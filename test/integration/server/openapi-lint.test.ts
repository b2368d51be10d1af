/**
 * The served OpenAPI document (GET /api/openapi.json) lints clean under the two linters clients and
 * reviewers reach for: Redocly's recommended rules and Spectral's spectral:oas, every rule at its default
 * severity, no error and no warning. What is ignored lives in test/fixtures/openapi-lint, each entry with
 * its reason. Both linters run offline here: no telemetry, no update check, rulesets from node_modules.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import request from 'supertest'
import { PACKAGE_ROOT } from '../../helpers/cli.js'
import { createTestServer } from '../../helpers/server.js'

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'openapi-lint')
const CONFIG_FILES = ['redocly.yaml', '.redocly.lint-ignore.yaml', '.spectral.yaml']

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a linter from node_modules/.bin in `cwd`; resolves with its exit code and output whatever the code. */
function lint(bin: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      join(PACKAGE_ROOT, 'node_modules', '.bin', bin),
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0
        if (typeof code !== 'number') reject(err ?? new Error(`${bin} did not exit`))
        else resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('GET /api/openapi.json lints clean', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => {
    const s = await createTestServer('sqlite')
    try {
      const res = await request(s.app).get('/api/openapi.json').expect(200)
      dir = mkdtempSync(join(tmpdir(), 'gantry-openapi-lint-'))
      for (const file of CONFIG_FILES) copyFileSync(join(FIXTURES, file), join(dir, file))
      writeFileSync(join(dir, 'openapi.json'), res.text)
    } finally {
      await s.cleanup()
    }
  })
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('Redocly, recommended rules: no error, no warning; only the ignores its ignore file justifies', async () => {
    const run = await lint('redocly', ['lint', '--config', 'redocly.yaml', '--format', 'json', 'openapi.json'], dir, {
      REDOCLY_TELEMETRY: 'off',
      REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
    })
    const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number; ignored: number }; problems: unknown[] }
    expect(report.problems, JSON.stringify(report.problems, null, 1).slice(0, 3000)).to.deep.equal([])
    expect(report.totals).to.deep.equal({ errors: 0, warnings: 0, ignored: 5 })
    expect(run.code, run.stderr).to.equal(0)
  })

  it('Spectral, spectral:oas: no error, no warning, no hint', async () => {
    const run = await lint(
      'spectral',
      ['lint', '--ruleset', '.spectral.yaml', '--format', 'json', '--output', 'spectral.json', '--fail-severity', 'hint', 'openapi.json'],
      dir,
    )
    const results = JSON.parse(readFileSync(join(dir, 'spectral.json'), 'utf8')) as { code: string; message: string; path: string[] }[]
    expect(
      results.map((r) => `${r.code} ${r.path.join('.')}: ${r.message}`),
      run.stderr,
    ).to.deep.equal([])
    expect(run.code, run.stderr).to.equal(0)
  })
})
