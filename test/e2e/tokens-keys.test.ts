import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { decodeProtectedHeader } from 'jose'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

const SECRET = 's'.repeat(48)

interface SigningKey {
  kid: string
  alg: string
  state: 'current' | 'previous'
  createdAt: string
  retiredAt: string | null
  verifiesUntil: string | null
}

/** A migrated SQLite workspace with one user, development on `algorithm`; `env` is added to every run. */
async function workspace(algorithm: 'HS256' | 'EdDSA'): Promise<(args: readonly string[], env?: NodeJS.ProcessEnv) => Promise<CliResult>> {
  const root = tempDir()
  const development = { database: `sqlite:${join(root, 'gantry.sqlite3')}`, auth: { algorithm } }
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development } }))
  const gantry = (args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string) =>
    runGantry(args, { cwd: root, input, env: { GANTRY_AUTH_SECRET: SECRET, ...env } })
  expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
  const created = await gantry(['users', 'create', '--email', 'ci@example.com', '--role', 'operator', '--password-stdin'], {}, 'correct horse battery staple 1')
  expect(created.code, created.stderr).to.equal(0)
  return gantry
}

describe('gantry tokens keys (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('under EdDSA: rotate and list --json; tokens carry the current kid; key material is never shown', async () => {
    const gantry = await workspace('EdDSA')
    const empty = await gantry(['tokens', 'keys', 'list', '--json'])
    expect(empty.code, empty.stderr).to.equal(0)
    expect(parseJson(empty)).to.deep.equal({ data: [], nextCursor: null })

    const first = await gantry(['tokens', 'keys', 'rotate', '--json'])
    expect(first.code, first.stderr).to.equal(0)
    const k1 = parseJson<{ current: SigningKey; previous: SigningKey | null }>(first)
    expect(k1.previous).to.equal(null)
    expect(k1.current).to.include({ alg: 'EdDSA', state: 'current', retiredAt: null, verifiesUntil: null })
    const issued = parseJson<{ token: string }>(await gantry(['tokens', 'issue', '--user', 'ci@example.com', '--json'])).token
    expect(decodeProtectedHeader(issued)).to.deep.equal({ alg: 'EdDSA', typ: 'at+jwt', kid: k1.current.kid })

    const second = await gantry(['tokens', 'keys', 'rotate', '--json'])
    expect(second.code, second.stderr).to.equal(0)
    const k2 = parseJson<{ current: SigningKey; previous: SigningKey }>(second)
    expect(k2.previous).to.include({ kid: k1.current.kid, state: 'previous' })
    expect(Date.parse(k2.previous.verifiesUntil ?? '') - Date.parse(k2.previous.retiredAt ?? '')).to.be.at.least(86_400_000) // auth.maxTokenTtl: the longest a token of it can live
    const next = parseJson<{ token: string }>(await gantry(['tokens', 'issue', '--user', 'ci@example.com', '--json'])).token
    expect(decodeProtectedHeader(next).kid).to.equal(k2.current.kid)

    const list = await gantry(['tokens', 'keys', 'list', '--json'])
    expect(list.code, list.stderr).to.equal(0)
    expect(parseJson<{ data: SigningKey[] }>(list).data.map((k) => [k.kid, k.state])).to.deep.equal([
      [k2.current.kid, 'current'],
      [k1.current.kid, 'previous'],
    ])
    const table = await gantry(['tokens', 'keys', 'list'])
    expect(table.stdout)
      .to.match(/KID/)
      .and.contain(k2.current.kid)
      .and.match(/previous/)
    const human = await gantry(['tokens', 'keys', 'rotate'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout)
      .to.match(/New signing key \S+\./)
      .and.contain(`Retired ${k2.current.kid}`)

    const audit = await gantry(['audit', 'list', '--json'])
    expect(audit.stdout).to.contain('keys.rotate')
    for (const run of [first, second, list, table, human, audit]) expect(`${run.stdout}${run.stderr}`).to.not.match(/"d"|private|BEGIN/)

    const noSecret = await gantry(['tokens', 'keys', 'rotate', '--json'], { GANTRY_AUTH_SECRET: undefined })
    expect(noSecret.code).to.equal(2)
    const error = parseJson<{ error: { code: string; message: string } }>(noSecret).error
    expect(error.code).to.equal('AUTH_SECRET_MISSING')
    expect(error.message).to.contain('EdDSA')
  })

  it('under HS256 (the default): keys list and rotate are a usage error (exit 2) naming auth.algorithm EdDSA', async () => {
    const gantry = await workspace('HS256')
    const rotate = await gantry(['tokens', 'keys', 'rotate', '--json'])
    expect(rotate.code).to.equal(2)
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(rotate).error
    expect(error.code).to.equal('INVALID_INPUT')
    expect(error.message).to.contain('auth.algorithm EdDSA').and.contain('HS256')
    expect(error.hint).to.contain('gantry.config.json')
    const list = await gantry(['tokens', 'keys', 'list'])
    expect(list.code).to.equal(2)
    expect(list.stdout).to.equal('')
    expect(list.stderr).to.contain('INVALID_INPUT').and.contain('auth.algorithm EdDSA')
  })
})
