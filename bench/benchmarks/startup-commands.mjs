/**
 * One ordinary command of each topic against `node -e 0` (issue 20: <= 2.5x): the whole run of `users
 * list`, `ratelimit list`, `env check` and `audit list` with --json, on one migrated SQLite workspace, so
 * each figure is start-up (oclif, the command's own chunk, the config) plus a small query.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gantry, nodeFloor } from '../lib/commands.mjs'
import { timeOnce } from '../lib/measure.mjs'

const COMMANDS = [
  ['users', 'list'],
  ['ratelimit', 'list'],
  ['env', 'check'],
  ['audit', 'list'],
]

const whenMissed =
  'Profiled (--cpu-prof, 2 cores): Node itself (~45 ms of bootstrap that `node -e 0` pays too); compiling the ESM chunks the command imports ' +
  '(~1.3 MB: @oclif/core and the packages its config loader needs ~700 KB, zod ~380 KB, Gantry\u2019s own code); evaluating @oclif/core ' +
  '(~50 ms: its index loads config, help, parser, errors and ux together, and a command needs them all); the oclif config load (package.json, ' +
  'manifest); then the command: the workspace config (zod, dotenv), the SQLite driver (libsql: its native binary and a process report to tell ' +
  'glibc from musl) and knex, one query. An admin command also evaluates every area\u2019s code and schemas: the operation table is one module, ' +
  'and so is the service container every door builds (src/core/services.ts). The bundle entry per command took `--help` from 4.6x to 2.4x ' +
  'but commands only from ~4.9x to ~4.5x (docs/benchmarks.md, "Start-up, step by step"): what a command needs is most of what it loads. ' +
  'What would reach 2.5x: a compile cache for the chunks (module.enableCompileCache is Node 22; Node 20 has none for ESM), and the operation ' +
  'table and service container split by area so a command loads only its own.'

export default COMMANDS.map((argv) => ({
  name: `startup-${argv.join('-')}`,
  group: 'startup-commands',
  description: `\`gantry ${argv.join(' ')} --json\` on a migrated SQLite workspace, as a ratio to \`node -e 0\` (issue 20 target: <= 2.5x).`,
  target: { ratio: 2.5, comparison: '<=' },
  whenMissed,
  pairs: { full: 20, quick: 8 },
  setup({ root }) {
    const dir = join(root, 'bench', '.work', `startup-${argv.join('-')}`)
    writeWorkspace(dir)
    timeOnce(gantry(root, ['migrate', 'latest', '--json'], { cwd: dir }))
    const subject = gantry(root, [...argv, '--json'], {
      cwd: dir,
      check(stdout) {
        JSON.parse(stdout)
      },
    })
    return { subject, reference: nodeFloor, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
  },
}))

/** A fresh development workspace on SQLite, as `gantry init` leaves it (its token secret in .env.development). */
function writeWorkspace(dir) {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, '.env.development'), `GANTRY_AUTH_SECRET=${'bench-workspace-not-a-secret-'.repeat(2)}\n`, { mode: 0o600 })
  writeFileSync(
    join(dir, 'gantry.config.json'),
    `${JSON.stringify({ environments: { development: { database: `sqlite:${join(dir, 'bench.sqlite3')}` } } }, null, 2)}\n`,
  )
}
