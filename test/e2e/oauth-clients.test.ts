import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

const PASSWORD = 'correct horse battery staple 1'
const SECRET = /gcs_development_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}/
/** How many client secrets a text holds. */
const secretsIn = (text: string): number => text.match(new RegExp(SECRET.source, 'g'))?.length ?? 0

interface ClientJson {
  id: string
  name: string
  owner: string
  scopes: string[]
  revoked: boolean
  expiresAt: string | null
  graceEndsAt: string | null
}

/** A migrated SQLite workspace with an admin and an operator. */
async function workspace(): Promise<(args: readonly string[]) => Promise<CliResult>> {
  const root = tempDir()
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'gantry.sqlite3')}` } } }))
  const gantry = (args: readonly string[], input?: string) => runGantry(args, { cwd: root, input, env: { GANTRY_AUTH_SECRET: undefined } })
  expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
  for (const [email, role] of [
    ['root@example.com', 'admin'],
    ['op@example.com', 'operator'],
  ] as const) {
    const created = await gantry(['users', 'create', '--email', email, '--role', role, '--password-stdin'], PASSWORD)
    expect(created.code, created.stderr).to.equal(0)
  }
  return gantry
}

describe('gantry oauth clients (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('create prints the client id and its secret once; list and show never show it; rotate prints a new one; revoke', async () => {
    const gantry = await workspace()
    const human = await gantry(['oauth', 'clients', 'create', 'deploy', '--owner', 'op@example.com', '--scope', 'users:read', '--expires', '90d'])
    expect(human.code, human.stderr).to.equal(0)
    expect(secretsIn(human.stdout)).to.equal(1)
    expect(human.stdout)
      .to.match(/Client id: [0-9A-Za-z]{12}$/m)
      .and.match(/shown once/)

    const created = await gantry(['oauth', 'clients', 'create', 'ci', '--owner', 'op@example.com', '--json'])
    expect(created.code, created.stderr).to.equal(0)
    expect(secretsIn(created.stdout)).to.equal(1)
    expect(created.stderr).to.not.match(/gcs_/)
    const body = parseJson<{ clientSecret: string; client: ClientJson }>(created)
    expect(body.clientSecret).to.match(SECRET).and.contain(`_${body.client.id}_`)
    expect(body.client).to.include({ name: 'ci', owner: 'op@example.com', revoked: false, expiresAt: null })
    expect(body.client.scopes).to.include('sessions:write')

    const list = await gantry(['oauth', 'clients', 'list', '--json'])
    expect(list.code, list.stderr).to.equal(0)
    expect(list.stdout).to.not.match(/gcs_/)
    const page = parseJson<{ data: ClientJson[]; nextCursor: string | null }>(list)
    expect(page.data.map((c) => c.name)).to.deep.equal(['deploy', 'ci'])
    expect(page.nextCursor).to.equal(null)
    const table = await gantry(['oauth', 'clients', 'list', '--owner', 'op@example.com'])
    expect(table.stdout)
      .to.match(/CLIENT ID/)
      .and.match(/OWNER/)
      .and.contain(body.client.id)
      .and.not.match(/gcs_/)

    const rotated = await gantry(['oauth', 'clients', 'rotate', body.client.id, '--grace', '1h', '--json'])
    expect(rotated.code, rotated.stderr).to.equal(0)
    const next = parseJson<{ clientSecret: string; client: ClientJson }>(rotated)
    expect(next.clientSecret).to.match(SECRET).and.not.equal(body.clientSecret)
    expect(next.client.id).to.equal(body.client.id)
    expect(next.client.graceEndsAt).to.be.a('string')
    const rotatedHuman = await gantry(['oauth', 'clients', 'rotate', body.client.id])
    expect(rotatedHuman.code, rotatedHuman.stderr).to.equal(0)
    expect(secretsIn(rotatedHuman.stdout)).to.equal(1)

    const revoked = await gantry(['oauth', 'clients', 'revoke', body.client.id, '--json'])
    expect(revoked.code, revoked.stderr).to.equal(0)
    expect(parseJson<ClientJson>(revoked).revoked).to.equal(true)
    const again = await gantry(['oauth', 'clients', 'rotate', body.client.id, '--json'])
    expect(again.code).to.equal(1)
    expect(parseJson<{ error: { code: string } }>(again).error.code).to.equal('OAUTH_CLIENT_REVOKED')

    const shown = await gantry(['oauth', 'clients', 'show', body.client.id, '--json'])
    expect(shown.code, shown.stderr).to.equal(0)
    expect(parseJson<ClientJson>(shown)).to.include({ id: body.client.id, revoked: true, owner: 'op@example.com' })
    const shownTable = await gantry(['oauth', 'clients', 'show', body.client.id])
    expect(shownTable.stdout)
      .to.match(/^FIELD\s+VALUE$/m)
      .and.match(/^scopes\s+/m)
      .and.not.match(/gcs_/)
    expect((await gantry(['oauth', 'clients', 'show', 'nosuchclient'])).code).to.equal(1)
    const unknown = await gantry(['oauth', 'clients', 'revoke', 'nosuchclient', '--json'])
    expect(unknown.code).to.equal(1)
    expect(parseJson<{ error: { code: string } }>(unknown).error.code).to.equal('OAUTH_CLIENT_NOT_FOUND')

    const audit = await gantry(['audit', 'list', '--json'])
    expect(audit.stdout).to.contain('oauth.clients.create').and.contain('oauth.clients.rotate').and.contain('oauth.clients.revoke').and.not.match(/gcs_/)
  })

  it('a scope beyond the owner’s, and a local create naming no owner, exit 2 with a one-line error', async () => {
    const gantry = await workspace()
    const beyond = await gantry(['oauth', 'clients', 'create', 'x', '--owner', 'op@example.com', '--scope', 'users:write'])
    expect(beyond.code).to.equal(2)
    expect(beyond.stdout).to.equal('')
    const [line, ...rest] = beyond.stderr.trim().split('\n')
    expect(line).to.match(/^Error \(INVALID_INPUT\): Scope users:write is beyond the permissions of op@example.com/)
    expect(rest.every((l) => l.startsWith('Try: '))).to.equal(true)
    const beyondJson = await gantry(['oauth', 'clients', 'create', 'x', '--owner', 'op@example.com', '--scope', 'users:write', '--json'])
    expect(beyondJson.code).to.equal(2)
    expect(parseJson<{ error: { code: string; message: string } }>(beyondJson).error.message).to.contain('users:write').and.not.contain('\n')

    const ownerless = await gantry(['oauth', 'clients', 'create', 'y', '--scope', 'users:read'])
    expect(ownerless.code).to.equal(2)
    expect(ownerless.stdout).to.equal('')
    expect(ownerless.stderr)
      .to.match(/^Error \(INVALID_INPUT\): Name the user the OAuth client acts for \(owner\)\.$/m)
      .and.contain('--owner')
    const ownerlessJson = await gantry(['oauth', 'clients', 'create', 'y', '--json'])
    expect(ownerlessJson.code).to.equal(2)
    const error = parseJson<{ error: { code: string; message: string; hint?: string } }>(ownerlessJson).error
    expect(error.code).to.equal('INVALID_INPUT')
    expect(error.message).to.contain('owner').and.not.contain('\n')
    expect(error.hint).to.contain('--owner')

    const list = await gantry(['oauth', 'clients', 'list'])
    expect(list.code, list.stderr).to.equal(0)
    expect(list.stdout).to.contain('No OAuth clients yet')
  })
})
