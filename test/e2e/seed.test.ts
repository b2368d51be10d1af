import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, runGantry, tempDir } from '../helpers/cli.js'

const ENV = { GANTRY_AUTH_SECRET: 'e2e-secret' }

describe('gantry seed (built CLI, SQLite)', () => {
  it('make writes a seed from the template; run runs seeds in name order, or one by name; a wrong name is SEED_NOT_FOUND', async function () {
    this.timeout(60_000)
    const root = tempDir()
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: 'sqlite:./dev.sqlite3' } } }))
    mkdirSync(join(root, 'migrations'))
    writeFileSync(
      join(root, 'migrations', '001_notes.js'),
      `exports.up = (knex) => knex.schema.createTable('notes', (t) => { t.increments(); t.string('body') })\nexports.down = (knex) => knex.schema.dropTable('notes')\n`,
    )
    const gantry = (args: string[]) => runGantry(args, { cwd: root, env: ENV })
    expect((await gantry(['migrate', 'latest'])).code).to.equal(0)

    const made = await gantry(['seed', 'make', 'Demo Data', '--js', '--json'])
    expect(made.code, made.stderr).to.equal(0)
    expect(parseJson<{ path: string }>(made).path).to.match(/seeds\/demo_data\.js$/)
    expect((await gantry(['seed', 'make', 'demo_data', '--js'])).code).to.equal(1)

    writeFileSync(join(root, 'seeds', 'demo_data.js'), `exports.seed = async (knex) => { await knex('notes').insert({ body: 'second' }) }\n`)
    writeFileSync(
      join(root, 'seeds', '01_first.ts'),
      `import type { Knex } from 'knex'\nexport async function seed(knex: Knex) { await knex('notes').del(); await knex('notes').insert({ body: 'first' }) }\n`,
    )
    const all = await gantry(['seed', 'run', '--json'])
    expect(all.code, all.stderr).to.equal(0)
    expect(parseJson<{ seeds: Array<{ name: string }> }>(all).seeds.map((s) => s.name)).to.deep.equal(['01_first', 'demo_data'])

    const one = await gantry(['seed', 'run', '01_first.ts', '--json'])
    expect(parseJson<{ seeds: Array<{ name: string }> }>(one).seeds.map((s) => s.name)).to.deep.equal(['01_first'])

    const missing = await gantry(['seed', 'run', 'nope', '--json'])
    expect(missing.code).to.equal(2)
    expect(parseJson<{ error: { code: string } }>(missing).error.code).to.equal('SEED_NOT_FOUND')
  })
})
