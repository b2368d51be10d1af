import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { decodeJwt } from 'jose'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

const OPERATOR = ['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write']

/** A migrated SQLite workspace with one operator. */
async function workspace(): Promise<(args: readonly string[], input?: string) => Promise<CliResult>> {
  const root = tempDir()
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'gantry.sqlite3')}` } } }))
  const gantry = (args: readonly string[], input?: string) =>
    runGantry(args, { cwd: root, input, env: { GANTRY_AUTH_SECRET: 'an e2e secret of at least thirty-two bytes' } })
  const migrated = await gantry(['migrate', 'latest'])
  expect(migrated.code, migrated.stderr).to.equal(0)
  const op = await gantry(['users', 'create', '--email', 'op@example.com', '--role', 'operator', '--generate-password'])
  expect(op.code, op.stderr).to.equal(0)
  return gantry
}

interface RoleJson {
  name: string
  permissions: string[]
  builtin: boolean
}

describe('gantry roles update on built-in roles (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it("`roles update operator --grant orders:write` works, is audited and reaches the operator's tokens; built-in permissions stay; admin never changes", async () => {
    const gantry = await workspace()
    const granted = await gantry(['roles', 'update', 'operator', '--grant', 'orders:write', '--json'])
    expect(granted.code, granted.stderr).to.equal(0)
    expect(parseJson<RoleJson>(granted)).to.deep.include({ name: 'operator', builtin: true, permissions: [...OPERATOR, 'orders:write'] })
    const human = await gantry(['roles', 'update', 'operator', '--grant', 'orders:read'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.include('Role operator: *:read ratelimits:write maintenance:write apikeys:write sessions:write orders:write orders:read.')

    const issued = await gantry(['tokens', 'issue', '--user', 'op@example.com', '--json'])
    expect(issued.code, issued.stderr).to.equal(0)
    expect(decodeJwt(parseJson<{ token: string }>(issued).token).permissions).to.include('orders:write')

    const builtin = await gantry(['roles', 'update', 'operator', '--revoke', 'orders:read', '--revoke', 'sessions:write', '--json'])
    expect(builtin.code).to.equal(1)
    const error = parseJson<{ error: { code: string; message: string } }>(builtin).error
    expect(error.code).to.equal('ROLE_BUILTIN')
    expect(error.message).to.include('sessions:write').and.include('built-in permissions')
    const text = await gantry(['roles', 'update', 'viewer', '--revoke', '*:read'])
    expect(text.code).to.equal(1)
    expect(text.stderr)
      .to.match(/Error \(ROLE_BUILTIN\)/)
      .and.include('*:read')

    const star = await gantry(['roles', 'update', 'operator', '--grant', '*', '--json'])
    expect([star.code, parseJson<{ error: { code: string } }>(star).error.code]).to.deep.equal([1, 'ROLE_BUILTIN'])
    const admin = await gantry(['roles', 'update', 'admin', '--grant', 'orders:write', '--json'])
    expect([admin.code, parseJson<{ error: { code: string } }>(admin).error.code]).to.deep.equal([1, 'ROLE_BUILTIN'])

    const revoked = await gantry(['roles', 'update', 'operator', '--revoke', 'orders:write', '--revoke', 'orders:read', '--json'])
    expect(revoked.code, revoked.stderr).to.equal(0)
    expect(parseJson<RoleJson>(revoked).permissions).to.deep.equal(OPERATOR)

    const audit = parseJson<{ data: Array<{ action: string; targetId: string }> }>(await gantry(['audit', 'list', '--action', 'roles.update', '--json']))
    expect(audit.data.map((e) => e.targetId)).to.deep.equal(['operator', 'operator', 'operator'])

    const help = await gantry(['roles', 'update', '--help'])
    expect(help.stdout).to.include('roles update operator --grant orders:write').and.not.include('Built-in roles cannot be changed')
  })
})
