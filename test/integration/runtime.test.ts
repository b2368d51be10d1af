import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import { localContext } from '../../src/core/context.js'
import { workspaceMigrator } from '../../src/db/migrator/index.js'
import { openRuntime, type Runtime } from '../../src/runtime.js'

describe('runtime: an environment configures the service layer', function () {
  let root: string
  let runtime: Runtime
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-runtime-'))
    const auth = { passwordMinLength: 20, lockout: { maxFailures: 2, minutes: 1 }, loginFloor: '700ms' }
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: 'sqlite:./db.sqlite3', auth } } }))
    const workspace = loadWorkspace({ cwd: root })
    runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'development', {}) })
    await workspaceMigrator(await runtime.database(), workspace.migrations, { actor: 'test' }).latest()
  })
  afterEach(async () => {
    await runtime.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('applies auth.passwordMinLength, auth.lockout and auth.loginFloor from the config', async () => {
    const { users } = await runtime.services()
    const ctx = localContext('test')
    let refused: { code?: string } | undefined
    await users.create(ctx, { email: 'short@example.com', role: 'viewer', password: 'fifteen-chars-x' }).catch((err: { code?: string }) => (refused = err))
    expect(refused?.code).to.equal('PASSWORD_POLICY')
    await users.create(ctx, { email: 'ok@example.com', role: 'viewer', password: 'twenty-characters-ok' })
    const attempt = () => users.verifyCredentials('ok@example.com', 'wrong-password-wrong!', ctx).catch((err: { code?: string }) => err.code)
    expect(await attempt()).to.equal('INVALID_CREDENTIALS')
    const started = performance.now()
    expect(await attempt()).to.equal('INVALID_CREDENTIALS')
    // Measured from the argon2id hashes here, the floor would be some 50-150 ms.
    expect(performance.now() - started).to.be.at.least(700)
    expect((await users.get(ctx, 'ok@example.com')).lockedUntil).to.be.a('string') // locked after 2 failures, as configured
  })
})
