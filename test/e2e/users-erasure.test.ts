/**
 * `gantry users delete --erase` and `gantry users export --user` through the built CLI (issue 23), on a
 * SQLite workspace: the erased person's email and name are in no cell of the database file afterwards, nor in
 * `audit list --json`; the subject export is one person's data, written 0600, and a bad invocation is exit 2.
 */
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { sightings } from '../helpers/cell-search.js'
import { dumpSqlite } from '../helpers/secret-search.js'

const PASSWORD = 'correct horse battery staple 1'
const EMAIL = 'erin.erased@example.com'
const NAME = 'Erin Quintessa Vane'

describe('gantry users delete --erase and users export --user (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('erases every trace of the person; exports one person’s data and nobody else’s', async () => {
    const root = tempDir()
    const file = join(root, 'gantry.sqlite3')
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${file}` } } }))
    const gantry = (args: readonly string[], input?: string): Promise<CliResult> =>
      runGantry(args, { cwd: root, input, env: { GANTRY_AUTH_SECRET: 'e2e-secret' } })
    const ok = async (args: readonly string[], input?: string): Promise<CliResult> => {
      const r = await gantry(args, input)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0)
      return r
    }
    await ok(['migrate', 'latest'])
    await ok(['users', 'create', '--email', 'root@example.com', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`)
    await ok(['users', 'create', '--email', EMAIL, '--name', NAME, '--role', 'operator', '--password-stdin'], `${PASSWORD}\n`)
    await ok(['users', 'update', EMAIL, '--name', `${NAME} Jr`])
    await ok(['apikeys', 'create', '--owner', EMAIL, '--name', 'ci'])

    const exported = join(root, 'erin.json')
    const subject = parseJson<{ exported: number; file: string }>(await ok(['users', 'export', '--user', EMAIL, exported, '--json']))
    expect(subject).to.deep.equal({ exported: 1, file: exported })
    expect(statSync(exported).mode & 0o777).to.equal(0o600)
    const onStdout = await ok(['users', 'export', '--user', EMAIL])
    const data = JSON.parse(onStdout.stdout) as { user: { email: string }; apiKeys: unknown[]; audit: unknown[] }
    expect(data.user.email).to.equal(EMAIL)
    expect(data.apiKeys).to.have.length(1)
    expect(onStdout.stdout).to.not.include('root@example.com')
    const both = await gantry(['users', 'export', '--user', EMAIL, '--role', 'admin'])
    expect(both.code).to.equal(2)

    const erased = parseJson<{ deleted: { email: string }; erased: { pseudonym: string; auditEntries: number } }>(
      await ok(['users', 'delete', EMAIL, '--erase', '--yes', '--json']),
    )
    expect(erased.erased.pseudonym).to.match(/^erased-/)
    expect(sightings(await cells(file), [EMAIL, NAME])).to.deep.equal([])
    const audit = await ok(['audit', 'list', '--limit', '100', '--json'])
    expect(sightings([audit.stdout], [EMAIL, NAME])).to.deep.equal([])
    expect(audit.stdout).to.include('users.erased').and.include(erased.erased.pseudonym)
    const gone = await gantry(['users', 'export', '--user', EMAIL])
    expect(gone.code).to.equal(1)
  })
})

async function cells(file: string): Promise<string[]> {
  return (await dumpSqlite(file)).map((c) => `${c.table}.${c.column}: ${c.value}`)
}
