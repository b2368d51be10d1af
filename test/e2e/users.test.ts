import { writeFileSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

const PASSWORD = 'correct horse battery staple 1'

/** A SQLite workspace with development (open) and production (protected) on one migrated database. */
async function identityWorkspace(): Promise<(args: readonly string[], input?: string, env?: NodeJS.ProcessEnv) => Promise<CliResult>> {
  const root = tempDir()
  const url = `sqlite:${join(root, 'gantry.sqlite3')}`
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: url }, production: { database: url } } }))
  const gantry = (args: readonly string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
    runGantry(args, { cwd: root, input, env: { GANTRY_AUTH_SECRET: 'e2e-secret', ...env } })
  const migrated = await gantry(['migrate', 'latest'])
  expect(migrated.code, migrated.stderr).to.equal(0)
  return gantry
}

interface UserJson {
  id: number
  email: string
  role: string
  status: string
}

describe('gantry users (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('creates the first admin headless with --password-stdin; lists, shows, updates, disables, enables, unlocks', async () => {
    const gantry = await identityWorkspace()
    const created = await gantry(
      ['users', 'create', '--email', ' Root@Example.com', '--name', 'Root', '--role', 'admin', '--password-stdin', '--json'],
      `${PASSWORD}\n`,
    )
    expect(created.code, created.stderr).to.equal(0)
    const body = parseJson<{ user: UserJson & Record<string, unknown>; password?: string }>(created)
    expect(body.user).to.include({ email: 'root@example.com', role: 'admin', status: 'active' })
    expect(body).to.not.have.property('password')
    expect(created.stdout).to.not.match(/argon2|hash/i)

    const generated = await gantry(['users', 'create', '--email', 'bob@example.com', '--generate-password', '--json'])
    expect(generated.code, generated.stderr).to.equal(0)
    const gen = parseJson<{ user: UserJson; password: string }>(generated)
    expect(gen.password).to.be.a('string').with.length.at.least(20)
    expect(gen.user.role).to.equal('viewer')

    const list = await gantry(['users', 'list', '--json', '--limit', '1'])
    expect(list.code, list.stderr).to.equal(0)
    const page = parseJson<{ data: UserJson[]; nextCursor: string | null; total: number }>(list)
    expect(Object.keys(page).sort()).to.deep.equal(['data', 'nextCursor', 'total'])
    expect(page.total, 'every user, beyond the page of one').to.equal(2)
    expect(page.data.map((u) => u.email)).to.deep.equal(['root@example.com'])
    expect(Object.keys(page.data[0] ?? {}).sort()).to.deep.equal([
      'createdAt',
      'email',
      'id',
      'lastLoginAt',
      'lockedUntil',
      'name',
      'role',
      'status',
      'updatedAt',
    ])
    const next = parseJson<{ data: UserJson[]; nextCursor: string | null }>(
      await gantry(['users', 'list', '--json', '--limit', '1', '--cursor', page.nextCursor as string]),
    )
    expect(next).to.deep.include({ nextCursor: null })
    expect(next.data.map((u) => u.email)).to.deep.equal(['bob@example.com'])

    const table = await gantry(['users', 'list', '--role', 'viewer'])
    expect(table.code).to.equal(0)
    expect(table.stdout)
      .to.match(/EMAIL/)
      .and.match(/bob@example\.com/)
      .and.not.match(/root@example\.com/)

    expect(parseJson<UserJson>(await gantry(['users', 'show', 'BOB@example.com', '--json'])).email).to.equal('bob@example.com')
    expect(parseJson<UserJson>(await gantry(['users', 'update', 'bob@example.com', '--role', 'operator', '--json'])).role).to.equal('operator')
    expect(parseJson<UserJson>(await gantry(['users', 'disable', 'bob@example.com', '--json'])).status).to.equal('disabled')
    expect(parseJson<UserJson>(await gantry(['users', 'enable', 'bob@example.com', '--json'])).status).to.equal('active')
    expect((await gantry(['users', 'unlock', 'bob@example.com'])).stdout).to.match(/Unlocked bob@example\.com/)
    const setPw = await gantry(['users', 'set-password', 'bob@example.com', '--password-stdin'], 'another long passphrase')
    expect(setPw.code, setPw.stderr).to.equal(0)
  })

  it('exit codes: duplicate 1, bad email 2, last admin 1, missing password without a TTY 2, delete in production needs --force', async () => {
    const gantry = await identityWorkspace()
    expect((await gantry(['users', 'create', '--email', 'root@example.com', '--role', 'admin', '--password-stdin'], PASSWORD)).code).to.equal(0)

    const dup = await gantry(['users', 'create', '--email', 'ROOT@example.com ', '--password-stdin', '--json'], PASSWORD)
    expect(dup.code).to.equal(1)
    expect(parseJson<{ error: { code: string } }>(dup).error.code).to.equal('USER_EXISTS')
    expect(dup.stderr).to.match(/Error \(USER_EXISTS\)/)

    const bad = await gantry(['users', 'create', '--email', 'not-an-email', '--password-stdin', '--json'], PASSWORD)
    expect(bad.code).to.equal(2)
    expect(parseJson<{ error: { code: string } }>(bad).error.code).to.equal('INVALID_INPUT')

    const weak = await gantry(['users', 'create', '--email', 'weak@example.com', '--password-stdin', '--json'], 'password1234')
    expect(weak.code).to.equal(2)
    expect(parseJson<{ error: { code: string } }>(weak).error.code).to.equal('PASSWORD_POLICY')

    const missing = await gantry(['users', 'create', '--email', 'x@example.com', '--json'])
    expect(missing.code).to.equal(2)
    const missingError = parseJson<{ error: { code: string; message: string } }>(missing).error
    expect(missingError.code).to.equal('MISSING_INPUT')
    expect(missingError.message).to.contain('--password-stdin')

    const last = await gantry(['users', 'delete', 'root@example.com', '--json'])
    expect(last.code).to.equal(1)
    expect(parseJson<{ error: { code: string } }>(last).error.code).to.equal('LAST_ADMIN')

    await gantry(['users', 'create', '--email', 'bob@example.com', '--generate-password'])
    const refused = await gantry(['users', 'delete', 'bob@example.com', '-e', 'production', '--json'])
    expect(refused.code).to.equal(2)
    expect(parseJson<{ error: { code: string } }>(refused).error.code).to.equal('FORCE_REQUIRED')
    expect((await gantry(['users', 'show', 'bob@example.com'])).code).to.equal(0)
    const forced = await gantry(['users', 'delete', 'bob@example.com', '-e', 'production', '--force', '--json'])
    expect(forced.code, forced.stderr).to.equal(0)
    expect(parseJson<{ deleted: UserJson }>(forced).deleted.email).to.equal('bob@example.com')
    expect((await gantry(['users', 'show', 'bob@example.com'])).code).to.equal(1)
  })
})

describe('gantry roles and audit (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('roles create/update/list/delete with their errors; audit list shows every action as local:<user>@<host>', async () => {
    const gantry = await identityWorkspace()
    const role = await gantry(['roles', 'create', 'support', '--permission', 'users:read', '--permission', 'audit:read', '--json'])
    expect(role.code, role.stderr).to.equal(0)
    expect(parseJson<{ permissions: string[] }>(role).permissions).to.deep.equal(['users:read', 'audit:read'])
    const badPermission = await gantry(['roles', 'create', 'x', '--permission', 'users'])
    expect(badPermission.code).to.equal(2)
    const updated = parseJson<{ permissions: string[] }>(
      await gantry(['roles', 'update', 'support', '--grant', 'users:write', '--revoke', 'audit:read', '--json']),
    )
    expect(updated.permissions).to.deep.equal(['users:read', 'users:write'])
    const list = parseJson<{ data: Array<{ name: string; users: number }> }>(await gantry(['roles', 'list', '--json']))
    expect(list.data.map((r) => r.name)).to.deep.equal(['admin', 'operator', 'support', 'viewer'])
    expect((await gantry(['roles', 'list'])).stdout).to.match(/support\s+users:read users:write/)
    expect((await gantry(['roles', 'delete', 'admin', '--json'])).code).to.equal(1)
    expect((await gantry(['roles', 'delete', 'support', '-e', 'production'])).code).to.equal(2)

    await gantry(['users', 'create', '--email', 'help@example.com', '--role', 'support', '--generate-password'])
    const inUse = await gantry(['roles', 'delete', 'support', '--json'])
    expect(parseJson<{ error: { code: string } }>(inUse).error.code).to.equal('ROLE_IN_USE')
    await gantry(['users', 'delete', 'help@example.com'], undefined, { GANTRY_ACTOR: 'job-42' })
    expect((await gantry(['roles', 'delete', 'support'])).code).to.equal(0)

    const audit = await gantry(['audit', 'list', '--json', '--since', '1h'])
    expect(audit.code, audit.stderr).to.equal(0)
    const entries = parseJson<{ data: Array<{ action: string; actor: string }>; nextCursor: string | null }>(audit)
    // The workspace's first `migrate latest` is audited too (migrations.apply), before everything else.
    expect(entries.data.map((e) => e.action)).to.deep.equal([
      'roles.delete',
      'users.delete',
      'users.create',
      'roles.update',
      'roles.create',
      'migrations.apply',
    ])
    const me = `local:${userInfo().username}@${hostname()}`
    expect(entries.data.map((e) => e.actor)).to.deep.equal([me, `${me} (job-42)`, me, me, me, me])
    expect(audit.stdout).to.not.match(/\$argon2|\$2[aby]\$/)
    const filtered = parseJson<{ data: unknown[] }>(await gantry(['audit', 'list', '--json', '--action', 'users.create']))
    expect(filtered.data).to.have.length(1)
    expect((await gantry(['audit', 'list'])).stdout)
      .to.match(/ACTION/)
      .and.match(/roles\.delete/)
    expect((await gantry(['audit', 'list', '--since', 'yesterday'])).code).to.equal(2)
  })
})
