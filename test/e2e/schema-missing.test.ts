import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

/**
 * Before `migrate latest`, every command that needs Gantry's tables says they are missing and how to
 * create them: exit 3 (not ready), GANTRY_SCHEMA_MISSING, no SQL and no driver text.
 */
function expectSchemaMissing(result: CliResult, environment: string): void {
  expect(result.code, result.stderr).to.equal(3)
  const [first, ...rest] = result.stderr.trim().split('\n')
  expect(first).to.match(
    new RegExp(
      `^Error \\(GANTRY_SCHEMA_MISSING\\): The database of environment "${environment}" has no table gantry_\\w+: Gantry's migrations have not run there\\.$`,
    ),
  )
  // The next step: on stderr, or in the --json error document (stdout).
  expect(rest.join('\n') + result.stdout).to.include(`gantry migrate latest -e ${environment}`)
  expect(result.stderr).not.to.match(/select|insert|no such table|SQLITE|--verbose/i)
}

describe('e2e: commands before `migrate latest` (built CLI, SQLite)', function () {
  this.timeout(60_000)
  let root: string
  const gantry = (args: readonly string[]) => runGantry(args, { cwd: root, env: { GANTRY_AUTH_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e' } })
  before(() => {
    root = tempDir()
    const database = `sqlite:${join(root, 'gantry.sqlite3')}`
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database }, staging: { database } } }))
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  it('users list: exit 3, GANTRY_SCHEMA_MISSING, Try: gantry migrate latest -e development', async () => {
    const result = await gantry(['users', 'list'])
    expectSchemaMissing(result, 'development')
    expect(result.stderr).to.match(/^Try: Run `gantry migrate latest -e development`/m)
  })

  it('users create -e staging --json: the error document names the code and the hint', async () => {
    const result = await gantry(['users', 'create', '--email', 'root@example.com', '--role', 'admin', '--generate-password', '-e', 'staging', '--json'])
    expectSchemaMissing(result, 'staging')
    const body = parseJson<{ error: { code: string; hint: string; details: { table: string } } }>(result)
    expect(body.error.code).to.equal('GANTRY_SCHEMA_MISSING')
    expect(body.error.hint).to.include('gantry migrate latest -e staging')
    expect(body.error.details.table).to.match(/^gantry_/)
  })

  it('apikeys list: the same; after `migrate latest` it works', async () => {
    expectSchemaMissing(await gantry(['apikeys', 'list']), 'development')
    expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
    const listed = await gantry(['apikeys', 'list', '--json'])
    expect(listed.code, listed.stderr).to.equal(0)
    expect(parseJson<{ data: unknown[] }>(listed).data).to.deep.equal([])
  })
})
