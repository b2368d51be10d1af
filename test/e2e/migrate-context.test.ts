import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parseJson, type CliResult } from '../helpers/cli.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import { migrateWorkspace, type MigrateWorkspace } from '../helpers/migrate-workspace.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { createTestDatabase, pendingUnlessCi, requireDialect, type TestDatabase } from '../helpers/services.js'

/** App migration `name`: creates table `t_NAME`, drops it on the way down. */
const table = (name: string): string => `export async function up(knex) { await knex.schema.createTable('t_${name}', (t) => { t.increments() }) }
export async function down(knex) { await knex.schema.dropTable('t_${name}') }
`
const BROKEN = `export async function up(knex) { await knex.raw('select * from no_such_table') }
export async function down() {}
`
const SEED = `export async function seed(knex) { await knex('t_001_a').insert({}) }\n`

/** The first line a run writes on stderr. */
const firstErrLine = (result: CliResult): string => result.stderr.split('\n')[0] ?? ''

describe('gantry migrate and seed say where they act, and guard a protected environment (built CLI, SQLite)', function () {
  this.timeout(120_000)
  let ws: MigrateWorkspace
  beforeEach(() => {
    // A path from the workspace root, as `gantry init` writes it: the line shows it the same way.
    ws = migrateWorkspace('sqlite:./data.sqlite3')
    mkdirSync(join(ws.root, 'seeds'))
    writeFileSync(join(ws.root, 'seeds', '01_rows.js'), SEED)
  })
  afterEach(() => ws?.cleanup())

  it('every migrate command and seed run starts with `ENV → database` on stderr; stdout and --json carry none of it', async () => {
    ws.addMigration('001_a', table('001_a'))
    const runs: string[][] = [
      ['migrate', 'latest'],
      ['migrate', 'status'],
      ['migrate', 'validate'],
      ['migrate', 'unlock'],
      ['seed', 'run'],
      ['migrate', 'rollback'],
      // It fails (001_a is not partial or failed): the line still comes first, saying where.
      ['migrate', 'resolve', '001_a', '--applied'],
    ]
    for (const args of runs) {
      const human = await ws.gantry(args)
      expect(firstErrLine(human), args.join(' ')).to.equal('development → sqlite:./data.sqlite3')
      expect(human.stdout, args.join(' ')).not.to.contain('→')
    }
    for (const args of [...runs.slice(0, 6), ['migrate', 'latest']]) {
      const json = await ws.gantry([...args, '--json'])
      expect(json.code, `${args.join(' ')}: ${json.stderr}`).to.equal(0)
      parseJson(json)
      expect(json.stdout + json.stderr, args.join(' ')).not.to.contain('→')
    }
    const production = await ws.gantry(['migrate', 'status', '-e', 'production'])
    expect(firstErrLine(production)).to.equal('production → sqlite:./data.sqlite3')
  })

  it('rollback in a protected environment lists what it would undo, in undo order, before refusing without --force (exit 2)', async () => {
    ws.addMigration('001_a', table('001_a'))
    ws.addMigration('002_b', table('002_b'))
    expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(0)
    ws.addMigration('003_c', table('003_c'))
    expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(0)

    const last = await ws.gantry(['migrate', 'rollback', '-e', 'production'])
    expect(last.code).to.equal(2)
    expect(last.stdout).to.equal('To undo, in this order:\n  app/003_c (batch 2)\n')
    expect(last.stderr).to.contain('Error (FORCE_REQUIRED): Rolling back 1 migration in protected environment "production" needs --force.')

    const all = await ws.gantry(['migrate', 'rollback', '-e', 'production', '--all'])
    expect(all.code).to.equal(2)
    expect(all.stdout).to.equal('To undo, in this order:\n  app/003_c (batch 2)\n  app/002_b (batch 1)\n  app/001_a (batch 1)\n')
    expect(all.stderr).to.contain('Rolling back 3 migrations in protected environment "production" needs --force.')
    expect(await ws.query((k) => k.schema.hasTable('t_003_c'))).to.equal(true)

    const json = await ws.gantry(['migrate', 'rollback', '-e', 'production', '--json'])
    expect(json.code).to.equal(2)
    expect(parseJson<{ error: { code: string } }>(json).error.code).to.equal('FORCE_REQUIRED')

    const forced = await ws.gantry(['migrate', 'rollback', '-e', 'production', '--all', '--force'])
    expect(forced.code, forced.stderr).to.equal(0)
    expect(await ws.query((k) => k.schema.hasTable('t_001_a'))).to.equal(false)

    // Nothing left to undo: said so, nothing asked, exit 0 (also under --json, with an empty result).
    const nothing = await ws.gantry(['migrate', 'rollback', '-e', 'production'])
    expect(nothing.code, nothing.stderr).to.equal(0)
    expect(nothing.stdout).to.equal('Nothing to roll back.\n')
    expect(nothing.stderr).not.to.contain('FORCE_REQUIRED')
    expect(parseJson(await ws.gantry(['migrate', 'rollback', '-e', 'production', '--json']))).to.deep.equal({ rolledBack: [] })
  })

  it('rollback, resolve and seed run in a protected environment whose database is down fail with the connection error, before listing or asking', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const down = 'mysql://root@127.0.0.1:1/gantry'
    writeFileSync(join(ws.root, 'gantry.config.json'), JSON.stringify({ environments: { production: { database: down } } }))
    for (const args of [
      ['migrate', 'rollback'],
      ['migrate', 'resolve', '001_a', '--rolled-back'],
      ['seed', 'run'],
    ]) {
      const refused = await ws.gantry([...args, '-e', 'production'])
      expect(refused.code, args.join(' ')).to.equal(3)
      expect(firstErrLine(refused)).to.equal(`production → ${down}`)
      expect(refused.stderr).to.contain('Error (DB_UNREACHABLE)').and.not.contain('FORCE_REQUIRED')
      expect(refused.stdout).to.equal('')
    }
  })

  it('status counts failed and modified migrations apart from pending, in its summary and in --json counts', async () => {
    ws.addMigration('001_a', table('001_a'))
    ws.addMigration('002_b', table('002_b'))
    expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(0)
    ws.addMigration('003_broken', BROKEN)
    expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(1)
    ws.addMigration('004_d', table('004_d'))
    appendFileSync(join(ws.migrations, '001_a.js'), '// edited after it ran\n')

    const human = await ws.gantry(['migrate', 'status'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/003_broken\s+failed/)
    expect(human.stdout.trimEnd().split('\n').at(-1)).to.equal(`1 pending, 1 failed, 1 modified, ${GANTRY_MIGRATIONS.length + 1} applied.`)

    const status = parseJson<{ pending: number; counts: Record<string, number> }>(await ws.gantry(['migrate', 'status', '--json']))
    expect(status.counts).to.deep.equal({ applied: GANTRY_MIGRATIONS.length + 1, pending: 1, modified: 1, missing: 0, partial: 0, failed: 1 })
    // `pending` stays what `migrate latest` would run: the failed one is run again.
    expect(status.pending).to.equal(2)
  })

  it('seed run in a protected environment needs --force (exit 2 FORCE_REQUIRED), and runs with it', async () => {
    ws.addMigration('001_a', table('001_a'))
    expect((await ws.gantry(['migrate', 'latest', '-e', 'production'])).code).to.equal(0)
    const refused = await ws.gantry(['seed', 'run', '-e', 'production'])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.contain('Error (FORCE_REQUIRED): Running the seeds in protected environment "production" needs --force.')
    const one = await ws.gantry(['seed', 'run', '01_rows', '-e', 'production', '--json'])
    expect(parseJson<{ error: { code: string; message: string } }>(one).error).to.deep.include({
      code: 'FORCE_REQUIRED',
      message: 'Running seed 01_rows in protected environment "production" needs --force.',
    })
    expect(await ws.query((k) => k('t_001_a').count({ n: '*' }).first())).to.deep.equal({ n: 0 })

    const forced = await ws.gantry(['seed', 'run', '-e', 'production', '--force'])
    expect(forced.code, forced.stderr).to.equal(0)
    expect(await ws.query((k) => k('t_001_a').count({ n: '*' }).first())).to.deep.equal({ n: 1 })
    // Development is not protected: no --force needed.
    expect((await ws.gantry(['seed', 'run'])).code).to.equal(0)
  })

  it('on a terminal, rollback in a protected environment asks for the typed name after listing what it will undo', async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to answer a prompt on')
    ws.addMigration('001_a', table('001_a'))
    ws.addMigration('002_b', table('002_b'))
    expect((await ws.gantry(['migrate', 'latest'])).code).to.equal(0)
    const prompt = 'Type "production" to confirm:'
    const run = await onTerminal(['migrate', 'rollback', '-e', 'production'], {
      cwd: ws.root,
      env: { GANTRY_AUTH_SECRET: 'e2e-secret' },
      columns: 120,
      answers: [[prompt, 'production\r']],
    })
    expect(run.code, run.screen).to.equal(0)
    const shown = run.screen
    const at = (text: string): number => shown.indexOf(text)
    expect(at('production → sqlite:./data.sqlite3')).to.be.at.least(0)
    expect(at('production → sqlite:./data.sqlite3')).to.be.below(at('To undo, in this order:'))
    expect(at('To undo, in this order:')).to.be.below(at('app/002_b'))
    expect(at('app/002_b')).to.be.below(at('app/001_a'))
    expect(at('app/001_a')).to.be.below(at(`Rolling back 2 migrations in protected environment "production". ${prompt}`))
    expect(await ws.query((k) => k.schema.hasTable('t_001_a'))).to.equal(false)
  })
})

describe('the target line on a database server (built CLI)', function () {
  this.timeout(60_000)
  let db: TestDatabase | undefined
  let ws: MigrateWorkspace | undefined
  afterEach(async () => {
    ws?.cleanup()
    await db?.drop()
  })

  it('MariaDB: the URL as configured (root without a password)', async function () {
    await requireDialect(this, 'mysql')
    db = await createTestDatabase('mysql')
    ws = migrateWorkspace(db.url)
    const status = await ws.gantry(['migrate', 'status'])
    expect(status.code, status.stderr).to.equal(0)
    expect(firstErrLine(status)).to.equal(`development → ${db.url}`)
  })

  it('PostgreSQL: a password in the URL is masked (the server trusts the user, so the run succeeds with it)', async function () {
    await requireDialect(this, 'postgres')
    db = await createTestDatabase('postgres')
    const url = new URL(db.url)
    url.password = 'pw-in-the-url'
    ws = migrateWorkspace(url.toString())
    const latest = await ws.gantry(['migrate', 'latest'])
    expect(latest.code, latest.stderr).to.equal(0)
    expect(firstErrLine(latest)).to.equal(`development → ${db.url.replace('//postgres@', '//postgres:***@')}`)
    expect(latest.stdout + latest.stderr).not.to.contain('pw-in-the-url')
  })
})
