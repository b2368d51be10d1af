/**
 * A bare workspace for `gantry migrate` runs of the built CLI (only gantry.config.json and migrations/),
 * app migrations that leave a trace of every time they ran, and the tally of how often each migration was
 * applied — so a double apply or a lost one shows, whatever the tracking tables say.
 */
import { type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { openDatabase } from '../../src/db/connect.js'
import { runGantry, spawnGantry, tempDir, type CliResult } from './cli.js'
import { GANTRY_MIGRATIONS } from './gantry-migrations.js'
import { until, within } from './serve-process.js'

const ENV = { GANTRY_AUTH_SECRET: 'e2e-secret' }
/** A migration's name without its extension, as the migrator matches names. */
const bare = (name: string): string => name.replace(/\.(js|ts|mjs|cjs)$/, '')

export interface MigrateWorkspace {
  readonly root: string
  readonly migrations: string
  gantry(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult>
  /** Starts `gantry ARGS` without waiting. */
  spawn(args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess
  /** Runs `work` on a knex of its own over the workspace's database. */
  query<T>(work: (k: Knex) => Promise<T>): Promise<T>
  /** Writes `migrations/NAME.js`. */
  addMigration(name: string, source: string): void
  cleanup(): void
}

/** A workspace whose development and production environments both use `url`. */
export function migrateWorkspace(url: string): MigrateWorkspace {
  const root = tempDir()
  const migrations = join(root, 'migrations')
  mkdirSync(migrations)
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: url }, production: { database: url } } }))
  return {
    root,
    migrations,
    gantry: (args, env = {}) => runGantry(args, { cwd: root, env: { ...ENV, ...env } }),
    spawn: (args, env = {}) => spawnGantry(args, { cwd: root, env: { ...ENV, ...env } }),
    async query(work) {
      const db = await openDatabase(url, root)
      try {
        return await work(db.knex)
      } finally {
        await db.close()
      }
    },
    addMigration: (name, source) => writeFileSync(join(migrations, `${name}.js`), source),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  }
}

export const EFFECTS_NAME = '000_effects'

/** The app migration that makes the `effects` table every other one writes its name into (and writes its own). */
export const EFFECTS_MIGRATION = `export async function up(knex) {
  await knex.schema.createTable('effects', (t) => { t.increments(); t.string('name', 100).notNullable() })
  await knex('effects').insert({ name: '${EFFECTS_NAME}' })
}
export async function down(knex) { await knex.schema.dropTable('effects') }
`

/**
 * An app migration named `name` (safe as a table name): creates table `t_NAME` and inserts its name into
 * `effects`. When the run has BLOCK_MARKER set and `blocking`, it then writes that file and hangs (bounded,
 * until the test kills it or a minute passes), so a test sees it mid-migration without guessing a delay.
 */
export function effectMigration(name: string, options: { blocking?: boolean } = {}): string {
  const block = options.blocking
    ? `  if (process.env.BLOCK_MARKER) { writeFileSync(process.env.BLOCK_MARKER, String(process.pid)); await new Promise((r) => setTimeout(r, 60000)) }\n`
    : ''
  return `${options.blocking ? "import { writeFileSync } from 'node:fs'\n" : ''}export async function up(knex) {
  await knex.schema.createTable('t_${name}', (t) => { t.increments() })
  await knex('effects').insert({ name: '${name}' })
${block}}
export async function down(knex) {
  await knex('effects').where({ name: '${name}' }).delete()
  await knex.schema.dropTable('t_${name}')
}
`
}

/** A `migrate latest` stopped inside a blocking migration: its process, and how to SIGKILL it. */
export interface BlockedRun {
  readonly child: ChildProcess
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>
}

/** Starts `migrate latest` with BLOCK_MARKER and resolves once a blocking migration wrote the marker. */
export async function startBlockedLatest(ws: MigrateWorkspace): Promise<BlockedRun> {
  const marker = join(ws.root, `blocked-${Date.now()}-${Math.random().toString(36).slice(2)}`)
  const child = ws.spawn(['migrate', 'latest'], { BLOCK_MARKER: marker })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let gone = false
  void exited.then(() => (gone = true))
  const run: BlockedRun = {
    child,
    async kill() {
      child.kill('SIGKILL')
      await within(exited, 10_000, 'migrate latest exits after SIGKILL')
    },
  }
  try {
    const state = await until(async () => (existsSync(marker) ? 'blocked' : gone ? 'exited' : undefined), 'the blocking migration running', {
      timeoutMs: 30_000,
      intervalMs: 20,
    })
    if (state === 'exited') throw new Error(`migrate latest exited before reaching the blocking migration:\n${stderr}`)
  } catch (err) {
    await run.kill()
    throw err
  }
  return run
}

export interface LatestRun extends CliResult {
  /** Run with --json (a CI job), or for a terminal (an operator). */
  readonly json: boolean
  /** The migrations this run says it applied (`set/name`), or undefined when it printed no result. */
  readonly applied: readonly string[] | undefined
  /** Whether it said it waited for another run's lock (only a run without --json says so). */
  readonly waited: boolean | undefined
}

/**
 * Starts `n` runs of `migrate latest` at once and waits for all of them: every other one with --json, the
 * rest as at a terminal, whose note on stderr tells whether it had to wait for the lock.
 */
export function concurrentLatest(ws: MigrateWorkspace, n: number): Promise<LatestRun[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const json = i % 2 === 0
      const result = await ws.gantry(['migrate', 'latest', ...(json ? ['--json'] : [])])
      const waited = json ? undefined : result.stderr.includes('Waiting for the migration lock')
      return { ...result, json, applied: json ? appliedByJson(result) : appliedByLines(result), waited }
    }),
  )
}

function appliedByJson(result: CliResult): string[] | undefined {
  try {
    const parsed = JSON.parse(result.stdout) as { applied?: Array<{ set: string; name: string }> }
    return parsed.applied?.map((a) => `${a.set}/${bare(a.name)}`)
  } catch {
    return undefined
  }
}

/** A terminal run lists each migration it applied as `✔ set/name (N ms)`, or says it was up to date. */
function appliedByLines(result: CliResult): string[] | undefined {
  if (result.code !== 0) return undefined
  const applied = [...result.stdout.matchAll(/^✔ (gantry|app)\/(\S+) \(\d+ ms\)$/gm)].map((m) => `${m[1]}/${bare(m[2] ?? '')}`)
  return applied.length > 0 || result.stdout.includes('Already up to date') ? applied : undefined
}

/** How many times each migration shows as applied, by each kind of evidence. */
export interface Applications {
  /** Rows in its tracking table (gantry_migrations or knex_migrations). */
  readonly tracked: number
  /** Run records in gantry_migration_runs that applied it: 'done' up, or resolved as applied by hand. */
  readonly recorded: number
  /** Rows it wrote into `effects` (app migrations only; undefined for Gantry's own). */
  readonly effects: number | undefined
}

/**
 * For each of Gantry's migrations and each app migration in `appNames`: how often it was applied. Names
 * found in the tables but not expected are returned too (with what they show), so nothing slips past.
 */
export async function applications(ws: MigrateWorkspace, appNames: readonly string[]): Promise<Map<string, Applications>> {
  return ws.query(async (k) => {
    const names = async (table: string): Promise<string[]> =>
      (await k.schema.hasTable(table)) ? ((await k(table).select('name')) as Array<{ name: string }>).map((r) => bare(r.name)) : []
    const tally = (list: readonly string[]): Map<string, number> => list.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>())
    const tracked = tally([...(await names('gantry_migrations')).map((n) => `gantry/${n}`), ...(await names('knex_migrations')).map((n) => `app/${n}`)])
    const runs = (await k.schema.hasTable('gantry_migration_runs'))
      ? ((await k('gantry_migration_runs')
          .where({ direction: 'up', status: 'done' })
          .orWhere({ direction: 'resolve', status: 'resolved-applied' })
          .select('migration_set', 'name')) as Array<{ migration_set: string; name: string }>)
      : []
    const recorded = tally(runs.map((r) => `${r.migration_set}/${bare(r.name)}`))
    const effects = tally((await names('effects')).map((n) => `app/${n}`))
    const keys = new Set([
      ...GANTRY_MIGRATIONS.map((n) => `gantry/${n}`),
      ...appNames.map((n) => `app/${n}`),
      ...tracked.keys(),
      ...recorded.keys(),
      ...effects.keys(),
    ])
    return new Map(
      [...keys].map((key) => [
        key,
        { tracked: tracked.get(key) ?? 0, recorded: recorded.get(key) ?? 0, effects: key.startsWith('app/') ? (effects.get(key) ?? 0) : undefined },
      ]),
    )
  })
}

/** Which migrations some evidence shows applied more than once, and which some evidence shows never applied. */
export function notOnce(apps: ReadonlyMap<string, Applications>, alsoCounted: ReadonlyMap<string, number> = new Map()): { twice: string[]; never: string[] } {
  const twice: string[] = []
  const never: string[] = []
  for (const [key, a] of apps) {
    const seen = [a.tracked, a.recorded, ...(a.effects === undefined ? [] : [a.effects]), ...(alsoCounted.has(key) ? [alsoCounted.get(key) ?? 0] : [])]
    if (seen.some((n) => n > 1)) twice.push(key)
    if (seen.some((n) => n === 0)) never.push(key)
  }
  return { twice, never }
}
