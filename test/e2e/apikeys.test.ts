import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

const PASSWORD = 'correct horse battery staple 1'
const KEY = /gk_development_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}/
/** How many keys a text holds. */
const keysIn = (text: string): number => text.match(new RegExp(KEY.source, 'g'))?.length ?? 0

/** A migrated SQLite workspace with an admin and an operator; `env` is added to every run. */
async function workspace(env: NodeJS.ProcessEnv = {}): Promise<{ root: string; gantry: (args: readonly string[]) => Promise<CliResult> }> {
  const root = tempDir()
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'gantry.sqlite3')}` } } }))
  const gantry = (args: readonly string[], input?: string) => runGantry(args, { cwd: root, input, env: { GANTRY_AUTH_SECRET: undefined, ...env } })
  expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
  for (const [email, role] of [
    ['root@example.com', 'admin'],
    ['op@example.com', 'operator'],
  ] as const) {
    const created = await gantry(['users', 'create', '--email', email, '--role', role, '--password-stdin'], PASSWORD)
    expect(created.code, created.stderr).to.equal(0)
  }
  return { root, gantry }
}

describe('gantry apikeys and tokens (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('apikeys create prints the key once; list never shows it; rotate prints a new one; revoke', async () => {
    const { gantry } = await workspace()
    const human = await gantry(['apikeys', 'create', '--name', 'deploy', '--owner', 'op@example.com', '--scope', 'users:read', '--expires', '90d'])
    expect(human.code, human.stderr).to.equal(0)
    expect(keysIn(human.stdout)).to.equal(1)
    expect(human.stdout).to.match(/shown once/)

    const created = await gantry(['apikeys', 'create', '--name', 'ci', '--owner', 'op@example.com', '--json'])
    expect(created.code, created.stderr).to.equal(0)
    expect(keysIn(created.stdout)).to.equal(1)
    expect(created.stderr).to.not.match(/gk_/)
    const body = parseJson<{ key: string; apiKey: { id: string; scopes: string[]; owner: string } }>(created)
    expect(body.key).to.match(KEY)
    expect(body.apiKey.owner).to.equal('op@example.com')
    expect(body.apiKey.scopes).to.include('sessions:write')

    const beyond = await gantry(['apikeys', 'create', '--name', 'x', '--owner', 'op@example.com', '--scope', 'users:write', '--json'])
    expect(beyond.code).to.equal(2)
    expect(parseJson<{ error: { code: string; message: string } }>(beyond).error.message).to.contain('users:write')

    const list = await gantry(['apikeys', 'list', '--json'])
    expect(list.code, list.stderr).to.equal(0)
    expect(list.stdout).to.not.match(/gk_/)
    const page = parseJson<{ data: Array<{ id: string; name: string; revoked: boolean }>; nextCursor: string | null }>(list)
    expect(page.data.map((k) => k.name)).to.deep.equal(['deploy', 'ci'])
    const table = await gantry(['apikeys', 'list', '--owner', 'op@example.com'])
    expect(table.stdout).to.match(/OWNER/).and.contain(body.apiKey.id).and.not.match(/gk_/)

    const rotated = await gantry(['apikeys', 'rotate', body.apiKey.id, '--grace', '1h', '--json'])
    expect(rotated.code, rotated.stderr).to.equal(0)
    const newKey = parseJson<{ key: string }>(rotated).key
    expect(newKey).to.match(KEY).and.not.equal(body.key)

    const revoked = await gantry(['apikeys', 'revoke', body.apiKey.id, '--json'])
    expect(revoked.code, revoked.stderr).to.equal(0)
    expect(parseJson<{ revoked: boolean }>(revoked).revoked).to.equal(true)
    const shown = await gantry(['apikeys', 'show', body.apiKey.id, '--json'])
    expect(shown.code, shown.stderr).to.equal(0)
    expect(parseJson<{ id: string; revoked: boolean; owner: string }>(shown)).to.include({ id: body.apiKey.id, revoked: true, owner: 'op@example.com' })
    const shownTable = await gantry(['apikeys', 'show', body.apiKey.id])
    expect(shownTable.stdout)
      .to.match(/^FIELD\s+VALUE$/m)
      .and.match(/^scopes\s+/m)
      .and.not.match(/gk_/)
    expect((await gantry(['apikeys', 'show', 'nosuchkey123'])).code).to.equal(1)
    const unknown = await gantry(['apikeys', 'revoke', 'nosuchkey123', '--json'])
    expect(unknown.code).to.equal(1)
    expect(parseJson<{ error: { code: string } }>(unknown).error.code).to.equal('APIKEY_NOT_FOUND')

    const audit = await gantry(['audit', 'list', '--json'])
    expect(audit.stdout).to.contain('apikeys.create').and.contain('apikeys.rotate').and.contain('apikeys.revoke').and.not.match(/gk_/)
  })

  it('tokens issue without a secret exits 2 naming GANTRY_AUTH_SECRET; with one in .env.development it prints a token; tokens revoke', async () => {
    const { root, gantry } = await workspace()
    const missing = await gantry(['tokens', 'issue', '--user', 'op@example.com'])
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.contain('AUTH_SECRET_MISSING').and.contain('GANTRY_AUTH_SECRET').and.contain('.env.development')
    expect(missing.stdout).to.equal('')

    writeFileSync(join(root, '.env.development'), `GANTRY_AUTH_SECRET=${'s'.repeat(48)}\n`, { mode: 0o600 })
    const issued = await gantry(['tokens', 'issue', '--user', 'op@example.com', '--ttl', '1h'])
    expect(issued.code, issued.stderr).to.equal(0)
    expect(issued.stdout.trim()).to.match(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    const json = await gantry(['tokens', 'issue', '--user', 'op@example.com', '--json'])
    const token = parseJson<{ token: string; user: string; expiresAt: string }>(json)
    expect(token.user).to.equal('op@example.com')
    expect(token.token).to.match(/^eyJ/)

    const revoked = await gantry(['tokens', 'revoke', '--user', 'op@example.com', '--json'])
    expect(revoked.code, revoked.stderr).to.equal(0)
    expect(parseJson(revoked)).to.deep.equal({ user: 'op@example.com', refreshTokensRevoked: 0 })
    const audit = await gantry(['audit', 'list', '--json'])
    expect(audit.stdout).to.contain('tokens.issue').and.contain('tokens.revoke').and.not.contain(token.token).and.not.contain(issued.stdout.trim())
  })
})
