/**
 * `promtool check metrics` (Prometheus's own linter, Debian's `prometheus` package) on a scrape of the
 * server as `gantry serve` composes it (composeServer: the default process and Node.js metrics, the pool,
 * the live rules), after requests that make every labelled family show: answers of several statuses, a
 * rate-limited one, failed and successful logins. Exit 0 and no output: no lint problem at all. Pending
 * with the reason where promtool is not installed, failing under CI (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { pino } from 'pino'
import request from 'supertest'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { localContext } from '../../../src/core/context.js'
import { workspaceMigrator } from '../../../src/db/migrator/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { ruleNames, type ServerParts } from '../../../src/server/compose.js'
import { DECISION_RESULTS, LOGIN_OUTCOMES } from '../../../src/server/metrics.js'
import { metricSamples } from '../../helpers/metrics-text.js'
import { createTestDatabase, pendingUnlessCi, type TestDatabase } from '../../helpers/services.js'

const EMAIL = 'admin@example.com'
const PASSWORD = 'plenty long passphrase 1'

/** promtool's version line, or why it cannot run. */
function promtoolVersion(): { version?: string; reason?: string } {
  const run = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
  if (run.error)
    return {
      reason: `promtool is not installed (${(run.error as NodeJS.ErrnoException).code ?? run.error.message}): bash scripts/promtool.sh (or apt-get install prometheus)`,
    }
  if (run.status !== 0) return { reason: `promtool --version exited ${run.status}: ${run.stderr.trim()}` }
  return { version: `${run.stdout}${run.stderr}`.split('\n')[0] }
}

describe('GET /metrics under promtool check metrics', function () {
  this.timeout(30_000)
  let testDb: TestDatabase | undefined
  let root: string | undefined
  let runtime: Runtime | undefined
  let parts: ServerParts | undefined
  let server: Server | undefined

  before(async function () {
    const { reason } = promtoolVersion()
    if (reason !== undefined) pendingUnlessCi(this, reason)
    testDb = await createTestDatabase('sqlite')
    root = mkdtempSync(join(tmpdir(), 'gantry-promtool-'))
    // A small default rule (6 at once) so a burst of requests meets a 429.
    const development = { database: testDb.url, rateLimits: { default: { limit: 60, window: '1m', burst: 6 } } }
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development } }))
    writeFileSync(join(root, '.env.development'), `GANTRY_AUTH_SECRET=${randomBytes(48).toString('base64')}\n`, { mode: 0o600 })
    const workspace = loadWorkspace({ cwd: root })
    const environment = resolveEnvironment(workspace, 'development', {})
    runtime = await openRuntime({ workspace, environment, logger: pino({ level: 'silent' }) })
    await workspaceMigrator(await runtime.database(), workspace.migrations, { actor: 'test' }).latest()
    await (await runtime.services()).users.create(localContext('local:test@host'), { email: EMAIL, role: 'admin', password: PASSWORD })
    // What serve() does, without its listen and signal handlers. Imported, not required, as serve.ts and the
    // runtime are: mocha requires this file as CommonJS, and one copy of the error classes must serve both.
    const [{ composeServer }, { createApp }, { createLifecycle }] = await Promise.all([
      import('../../../src/server/compose.js'),
      import('../../../src/server/app.js'),
      import('../../../src/server/listen.js'),
    ])
    parts = await composeServer(runtime, { version: '0.0.0-test' })
    const app = createApp({ ...parts, environment, version: '0.0.0-test', draining: createLifecycle().draining })
    server = app.listen(0, '127.0.0.1')
  })
  after(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await parts?.close()
    await runtime?.close()
    await testDb?.drop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('passes a scrape after traffic of every kind, with no output', async () => {
    const http = server!
    await request(http).get('/api/health').expect(200)
    await request(http).post('/api/v1/auth/login').send({ email: EMAIL, password: 'not the password' }).expect(401)
    const login = await request(http).post('/api/v1/auth/login').send({ email: EMAIL, password: PASSWORD }).expect(200)
    const token = (login.body as { accessToken: string }).accessToken
    await request(http).get('/api/v1/admin/users/nobody@example.com').set('Authorization', `Bearer ${token}`).expect(404)
    await request(http).get('/no/such/route').expect(404)
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await request(http).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`)).status)
    expect(statuses, 'a burst past the default rule').to.include(429)

    const scrape = (await request(http).get('/metrics').expect(200)).text
    const check = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' })
    expect(check.error, 'promtool runs').to.equal(undefined)
    expect({ status: check.status, output: `${check.stdout}${check.stderr}` }, promtoolVersion().version).to.deep.equal({ status: 0, output: '' })

    // What promtool cannot see: the families named in the docs are there, and the labelled counters have
    // every known series (at 0 where nothing happened yet).
    for (const name of ['gantry_db_pool_used_connections', 'gantry_db_pool_free_connections', 'gantry_db_pool_pending_acquires']) {
      expect(metricSamples(scrape, name), name).to.have.length(1)
    }
    expect(metricSamples(scrape, 'gantry_nodejs_active_handles_total')).to.deep.equal([])
    const outcomes = metricSamples(scrape, 'gantry_logins_total').map((s) => s.labels.outcome)
    expect(outcomes).to.have.members([...LOGIN_OUTCOMES])
    const rules = ruleNames(parts!.rateLimits)
    expect(rules).to.include('default')
    expect(metricSamples(scrape, 'gantry_ratelimit_store_errors_total')).to.have.deep.members(rules.map((rule) => ({ labels: { rule }, value: 0 })))
    const decisions = metricSamples(scrape, 'gantry_ratelimit_decisions_total').map((s) => `${s.labels.rule} ${s.labels.result}`)
    expect(decisions).to.include.members(rules.flatMap((rule) => DECISION_RESULTS.map((result) => `${rule} ${result}`)))
  })
})
