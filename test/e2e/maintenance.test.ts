import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

interface State {
  enabled: boolean
  retryAfter: number
  message: string | null
  since: string | null
  by: string | null
}
interface AuditPage {
  data: Array<{ action: string; actor: string; before: State | null; after: State | null }>
}

type Gantry = (args: readonly string[]) => Promise<CliResult>

/** A SQLite workspace (development open, production protected, one database), not migrated yet. */
function workspace(): { root: string; gantry: Gantry } {
  const root = tempDir()
  mkdirSync(join(root, 'migrations'))
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  const url = `sqlite:${join(root, 'gantry.sqlite3')}`
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: url }, production: { database: url } } }))
  return { root, gantry: (args) => runGantry(args, { cwd: root, env: { GANTRY_AUTH_SECRET: 'e2e-secret' } }) }
}

const ok = (r: CliResult): CliResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
  return r
}
const state = async (gantry: Gantry): Promise<State> => parseJson<State>(ok(await gantry(['maintenance', 'status', '--json'])))

describe('gantry maintenance (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('on / status / off with --json and in words; audited as the local actor', async () => {
    const { gantry } = workspace()
    ok(await gantry(['migrate', 'latest']))
    expect(await state(gantry)).to.deep.equal({ enabled: false, retryAfter: 120, message: null, since: null, by: null })

    const on = parseJson<State>(ok(await gantry(['maintenance', 'on', '--retry-after', '30', '--message', 'Back at 14:10 UTC', '--json'])))
    expect(on).to.deep.include({ enabled: true, retryAfter: 30, message: 'Back at 14:10 UTC' })
    expect(on.by).to.match(/^local:.+@.+/)
    expect(await state(gantry)).to.deep.equal(on)
    const words = ok(await gantry(['maintenance', 'status']))
    expect(words.stdout.trim().split('\n')).to.have.length(1)
    expect(words.stdout).to.match(/^Maintenance mode is on since .+ answering 503 with Retry-After 30 s and "Back at 14:10 UTC"\.\n$/)

    expect(ok(await gantry(['maintenance', 'off'])).stdout).to.equal('Maintenance mode is off.\n')
    expect((await state(gantry)).enabled).to.equal(false)
    expect(ok(await gantry(['maintenance', 'on'])).stdout).to.match(/^Maintenance mode is on: .*Retry-After 120 s\)\.\n$/)
    expect(parseJson<State>(ok(await gantry(['maintenance', 'off', '--json']))).enabled).to.equal(false)

    const log = parseJson<AuditPage>(ok(await gantry(['audit', 'list', '--json']))).data.filter((e) => e.action.startsWith('maintenance.'))
    expect(log.map((e) => e.action)).to.deep.equal(['maintenance.off', 'maintenance.on', 'maintenance.off', 'maintenance.on'])
    expect(new Set(log.map((e) => e.actor)).size).to.equal(1)
    expect(log[3]?.after).to.deep.equal(on)
  })

  it('refuses bad input (exit 2), and needs --force to turn it on in a protected environment (exit 2 FORCE_REQUIRED)', async () => {
    const { gantry } = workspace()
    ok(await gantry(['migrate', 'latest']))
    for (const args of [
      ['--retry-after', '0'],
      ['--retry-after', '86401'],
      ['--message', 'x'.repeat(501)],
    ]) {
      const bad = await gantry(['maintenance', 'on', ...args, '--json'])
      expect(bad.code, args[0]).to.equal(2)
      expect(parseJson<{ error: { code: string } }>(bad).error.code).to.equal('INVALID_INPUT')
    }

    const refused = await gantry(['maintenance', 'on', '-e', 'production', '--json'])
    expect(refused.code).to.equal(2)
    expect(parseJson<{ error: { code: string; message: string } }>(refused).error).to.deep.include({ code: 'FORCE_REQUIRED' })
    expect(refused.stderr).to.match(
      /Error \(FORCE_REQUIRED\): Turning maintenance mode on in protected environment "production" \(sqlite:[^)]*\) needs --force/,
    )
    expect((await state(gantry)).enabled).to.equal(false)

    expect(parseJson<State>(ok(await gantry(['maintenance', 'on', '-e', 'production', '--force', '--json']))).enabled).to.equal(true)
    // Reading and ending it are not destructive.
    expect(parseJson<State>(ok(await gantry(['maintenance', 'status', '-e', 'production', '--json']))).enabled).to.equal(true)
    expect(parseJson<State>(ok(await gantry(['maintenance', 'off', '-e', 'production', '--json']))).enabled).to.equal(false)
  })

  describe('migrate latest --maintenance', () => {
    /** An app migration that writes the maintenance state it runs under to seen-NAME.json (outside the transaction), then fails when told to. */
    const recording = (name: string, fail: boolean): string => `import { writeFileSync } from 'node:fs'
export async function up(knex) {
  const row = (await knex.schema.hasTable('gantry_settings')) ? await knex('gantry_settings').where({ key: 'maintenance' }).first() : undefined
  writeFileSync(new URL('../seen-${name}.json', import.meta.url), row && row.value ? row.value : 'null')
  ${fail ? "throw new Error('this migration fails on purpose')" : ''}
}
export async function down() {}
`
    const seen = (root: string, name: string): State | null => JSON.parse(readFileSync(join(root, `seen-${name}.json`), 'utf8')) as State | null

    it('on a fresh database: leaves it off (saying so), and nothing is audited', async () => {
      const { root, gantry } = workspace()
      writeFileSync(join(root, 'migrations', '20260101000000_seen.js'), recording('fresh', false))
      const run = ok(await gantry(['migrate', 'latest', '--maintenance']))
      expect(run.stderr).to.match(/Maintenance mode stays off: this database has no Gantry tables yet/)
      expect(seen(root, 'fresh')).to.equal(null)
      expect(await state(gantry)).to.deep.include({ enabled: false, since: null })
      const log = parseJson<AuditPage>(ok(await gantry(['audit', 'list', '--json']))).data
      expect(log.filter((e) => e.action.startsWith('maintenance.'))).to.deep.equal([])
    })

    it('is on while the app migrations run and off afterwards, also when one fails', async () => {
      const { root, gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      writeFileSync(join(root, 'migrations', '20260101000000_seen.js'), recording('ok', false))
      const run = ok(await gantry(['migrate', 'latest', '--maintenance', '--json']))
      expect(seen(root, 'ok')).to.deep.include({ enabled: true, retryAfter: 120 })
      expect(parseJson<{ applied: Array<{ name: string }> }>(run).applied.map((m) => m.name)).to.deep.equal(['20260101000000_seen'])
      expect((await state(gantry)).enabled).to.equal(false)

      writeFileSync(join(root, 'migrations', '20260102000000_fails.js'), recording('fails', true))
      const failed = await gantry(['migrate', 'latest', '--maintenance'])
      expect(failed.code).to.equal(1)
      expect(seen(root, 'fails')).to.deep.include({ enabled: true })
      expect(failed.stderr)
        .to.match(/Maintenance mode is on until the migration ends/)
        .and.match(/MIGRATION_FAILED/)
        .and.match(/Maintenance mode is off/)
      expect((await state(gantry)).enabled).to.equal(false)

      const log = parseJson<AuditPage>(ok(await gantry(['audit', 'list', '--json']))).data.filter((e) => e.action.startsWith('maintenance.'))
      expect(log.map((e) => e.action)).to.deep.equal(['maintenance.off', 'maintenance.on', 'maintenance.off', 'maintenance.on'])
      expect(log.every((e) => e.actor.startsWith('local:'))).to.equal(true)
    })

    it("leaves an operator's maintenance on after the migration (saying so), also when one fails; audits nothing of its own", async () => {
      const { root, gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      const operator = parseJson<State>(ok(await gantry(['maintenance', 'on', '--retry-after', '600', '--message', 'Operator window', '--json'])))
      writeFileSync(join(root, 'migrations', '20260101000000_seen.js'), recording('kept', false))
      const run = ok(await gantry(['migrate', 'latest', '--maintenance']))
      expect(seen(root, 'kept')).to.deep.equal(operator)
      expect(run.stderr).to.include(
        `Maintenance mode is on already (since ${operator.since}, by ${operator.by}); it stays on after the migration: \`gantry maintenance off\` ends it.`,
      )
      expect(run.stderr).to.not.match(/Maintenance mode is off/)
      expect(run.stdout).to.match(/✔ app\/20260101000000_seen/)
      expect(await state(gantry)).to.deep.equal(operator)

      writeFileSync(join(root, 'migrations', '20260102000000_fails.js'), recording('kept-fails', true))
      const failed = await gantry(['migrate', 'latest', '--maintenance', '--json'])
      expect(failed.code).to.equal(1)
      expect(parseJson<{ error: { code: string } }>(failed).error.code).to.equal('MIGRATION_FAILED')
      expect(seen(root, 'kept-fails')).to.deep.equal(operator)
      expect(await state(gantry)).to.deep.equal(operator)

      const log = parseJson<AuditPage>(ok(await gantry(['audit', 'list', '--json']))).data.filter((e) => e.action.startsWith('maintenance.'))
      expect(log.map((e) => e.action)).to.deep.equal(['maintenance.on'])
      expect(log[0]?.after).to.deep.equal(operator)
    })

    it('is refused together with --dry-run (exit 2)', async () => {
      const { gantry } = workspace()
      const both = await gantry(['migrate', 'latest', '--maintenance', '--dry-run', '--json'])
      expect(both.code).to.equal(2)
      expect(both.stderr + both.stdout).to.match(/--dry-run|--maintenance/)
    })
  })
})
