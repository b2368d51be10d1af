/**
 * `gantry migrate status --json` against `knex migrate:status` on one SQLite database that both see as fully
 * migrated: 20 CommonJS migrations applied by the knex CLI, then adopted by `gantry migrate latest` (which
 * adds Gantry's own tables and the checksums — the steady state of a project using Gantry).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { timeOnce } from '../lib/measure.mjs'
import { gantry } from '../lib/commands.mjs'

const MIGRATIONS = 20

export default {
  name: 'migrate-status',
  description: `\`gantry migrate status --json\` vs \`knex migrate:status\` on the same SQLite database with ${MIGRATIONS} applied migrations (target: median ratio <= 1.0).`,
  target: { ratio: 1.0, comparison: '<=' },
  whenMissed:
    'The difference is start-up. Since issue 20 each command is its own entry of the bundle, so `migrate status` no longer evaluates the ' +
    'other commands and their schemas, and zod ships English messages only (its 40 locales were ~370 KB compiled by every command). What is ' +
    'left, profiled with --cpu-prof: Node itself (as in `node -e 0`), compiling ~1.2 MB of ESM chunks (@oclif/core and its config loader\u2019s ' +
    'packages ~700 KB, zod ~380 KB, Gantry\u2019s config, migrator and CLI code), evaluating @oclif/core (~50 ms: its index loads config, help, ' +
    'parser, errors and ux together, and it needs all of them to run a command), the oclif config load, then the same knex and SQLite driver ' +
    'the knex CLI loads. The knex CLI starts lighter (commander, no schema library). What would reach 1.0: a compile cache for the chunks ' +
    '(module.enableCompileCache is Node 22; Node 20 has none for ESM), or a start that skips oclif for a command it has already resolved.',
  pairs: { full: 20, quick: 10 },
  setup({ root }) {
    // Inside the package (bench/.work is gitignored) so the knex CLI finds a local knex, as in a real project.
    const dir = join(root, 'bench', '.work', 'migrate-status')
    const knexfile = writeWorkspace(root, dir)
    const knex = {
      label: 'knex migrate:status',
      args: [join(root, 'node_modules', 'knex', 'bin', 'cli.js'), 'migrate:status', '--knexfile', knexfile],
      cwd: dir,
      check(stdout) {
        if (!/No Pending Migration files Found/.test(stdout)) throw new Error(`knex migrate:status shows pending work:\n${stdout}`)
      },
    }
    timeOnce({ ...knex, label: 'knex migrate:latest', args: [knex.args[0], 'migrate:latest', '--knexfile', knexfile], check: undefined })
    timeOnce(gantry(root, ['migrate', 'latest', '--json'], { cwd: dir }))
    const subject = gantry(root, ['migrate', 'status', '--json'], { cwd: dir, check: checkGantryStatus })
    return { subject, reference: knex, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
  },
}

/** Fails unless gantry reports every app migration applied and nothing pending. */
function checkGantryStatus(stdout) {
  const status = JSON.parse(stdout)
  const applied = status.migrations.filter((m) => m.set === 'app' && m.state === 'applied').length
  if (status.pending !== 0 || applied !== MIGRATIONS) {
    throw new Error(`gantry migrate status: ${applied} app migrations applied, ${status.pending} pending (expected ${MIGRATIONS}, 0)`)
  }
}

/**
 * A fresh workspace: gantry.config.json and knexfile.cjs over one SQLite file and one migrations folder. The
 * knexfile takes the SQLite client from Gantry's build (knex has none for libsql), so both sides run one driver.
 */
function writeWorkspace(root, dir) {
  rmSync(dir, { recursive: true, force: true })
  const migrations = join(dir, 'migrations')
  mkdirSync(migrations, { recursive: true })
  const database = join(dir, 'bench.sqlite3')
  // CommonJS, so the knex CLI (require) and Gantry load the very same files.
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, type: 'commonjs' }, null, 2)}\n`)
  // What `gantry init` writes to .env.development: the development environment references this secret.
  writeFileSync(join(dir, '.env.development'), 'GANTRY_AUTH_SECRET=bench-workspace-not-a-secret\n', { mode: 0o600 })
  writeFileSync(join(dir, 'gantry.config.json'), `${JSON.stringify({ environments: { development: { database: `sqlite:${database}` } } }, null, 2)}\n`)
  const knexfile = join(dir, 'knexfile.cjs')
  const config = { connection: { filename: database }, useNullAsDefault: true, migrations: { directory: migrations, tableName: 'knex_migrations' } }
  const built = (file) => JSON.stringify(join(root, 'dist', 'src', 'db', file))
  writeFileSync(
    knexfile,
    [
      `const { sqliteClient } = require(${built('sqlite-client.js')})`,
      `const { sqliteDriver } = require(${built('sqlite-driver.js')})`,
      `module.exports = { client: sqliteClient(sqliteDriver()), ...${JSON.stringify(config)} }`,
      ``,
    ].join('\n'),
  )
  for (let i = 1; i <= MIGRATIONS; i++) {
    const n = String(i).padStart(2, '0')
    writeFileSync(join(migrations, `202601010000${n}_create_table_${n}.js`), migrationSource(`table_${n}`))
  }
  return knexfile
}

function migrationSource(table) {
  return [
    `exports.up = (knex) => knex.schema.createTable('${table}', (t) => {`,
    `  t.increments('id')`,
    `  t.string('name').notNullable()`,
    `  t.integer('amount').defaultTo(0)`,
    `  t.timestamps(true, true)`,
    `})`,
    ``,
    `exports.down = (knex) => knex.schema.dropTable('${table}')`,
    ``,
  ].join('\n')
}
