/**
 * Reliability: concurrent `gantry migrate latest` runs of the built CLI (docs/migrations.md: any number of
 * concurrent runs apply each migration once and all exit 0). Rounds of RUNS runs at once on SQLite, a
 * private MariaDB and a private PostgreSQL: on a fresh database each round (every migration pending, Gantry's
 * own included), and on one existing database that gains new app migrations before each round (some
 * applied, some pending). Every app migration writes its name into a table, so a double apply shows even
 * if the tracking tables were to hide it. Runs alternate between --json (CI jobs) and terminal output (an
 * operator), whose "Waiting for the migration lock" note shows that the runs really met at the lock.
 */
import { expect } from 'chai'
import type { Dialect } from '../../src/db/url.js'
import { dialectDatabases } from '../helpers/dialect-databases.js'
import { GANTRY_MIGRATIONS } from '../helpers/gantry-migrations.js'
import {
  applications,
  concurrentLatest,
  EFFECTS_MIGRATION,
  EFFECTS_NAME,
  effectMigration,
  migrateWorkspace,
  notOnce,
  type LatestRun,
  type MigrateWorkspace,
} from '../helpers/migrate-workspace.js'
import { atScale, record } from '../helpers/scorecard.js'
import { DIALECTS, type TestDatabase } from '../helpers/services.js'

const RUNS = 5
const ROUNDS = atScale(20, 1)
/** App migrations each round brings: on a fresh database besides the effects table, on the existing one new ones. */
const NEW_PER_ROUND = 2
const MODES = ['fresh', 'existing'] as const

interface Tally {
  runs: number
  /** Runs at a terminal, and those of them that found the lock held and waited: the runs did overlap. */
  terminalRuns: number
  waited: number
  failedRuns: number
  twice: number
  never: number
  rounds: number
  slowestRoundMs: number
  /** The first few problems, for the report. */
  readonly problems: string[]
  readonly wallMs: Record<string, number>
}

const appName = (n: number): string => `${String(n).padStart(3, '0')}_m${n}`

/** Runs RUNS at once and adds to `tally` what the round shows; `pending` are the `set/name` keys pending before it. */
async function round(ws: MigrateWorkspace, appNames: readonly string[], pending: ReadonlySet<string>, tally: Tally, label: string): Promise<void> {
  const started = performance.now()
  const runs = await concurrentLatest(ws, RUNS)
  tally.slowestRoundMs = Math.max(tally.slowestRoundMs, performance.now() - started)
  tally.rounds++
  tally.runs += runs.length
  tally.terminalRuns += runs.filter((r) => !r.json).length
  tally.waited += runs.filter((r) => r.waited).length
  const failed = runs.filter((r) => r.code !== 0 || r.applied === undefined)
  tally.failedRuns += failed.length
  for (const r of failed) note(tally, `${label}: a run exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`)
  const { twice, never } = notOnce(await applications(ws, appNames), byRuns(runs, pending))
  tally.twice += twice.length
  tally.never += never.length
  if (twice.length) note(tally, `${label}: applied more than once: ${twice.join(', ')}`)
  if (never.length) note(tally, `${label}: not applied: ${never.join(', ')}`)
}

/**
 * How often the runs' own output says each migration was applied, counting the earlier application of one
 * that was not pending (so a run re-applying an applied migration counts it twice).
 */
function byRuns(runs: readonly LatestRun[], pending: ReadonlySet<string>): Map<string, number> {
  const times = new Map<string, number>([...pending].map((key) => [key, 0]))
  for (const key of runs.flatMap((r) => r.applied ?? [])) times.set(key, (times.get(key) ?? (pending.has(key) ? 0 : 1)) + 1)
  return times
}

function note(tally: Tally, problem: string): void {
  if (tally.problems.length < 10) tally.problems.push(problem)
}

const app = (names: readonly string[]): string[] => names.map((n) => `app/${n}`)

/** ROUNDS fresh databases, each with everything pending. */
async function freshRounds(create: () => Promise<TestDatabase>, dialect: Dialect, tally: Tally): Promise<void> {
  const names = [EFFECTS_NAME, ...Array.from({ length: NEW_PER_ROUND }, (_, i) => appName(i + 1))]
  for (let r = 0; r < ROUNDS; r++) {
    const db = await create()
    const ws = migrateWorkspace(db.url)
    try {
      ws.addMigration(EFFECTS_NAME, EFFECTS_MIGRATION)
      for (const name of names.slice(1)) ws.addMigration(name, effectMigration(name))
      await round(ws, names, new Set([...GANTRY_MIGRATIONS.map((n) => `gantry/${n}`), ...app(names)]), tally, `${dialect} fresh round ${r + 1}`)
    } finally {
      ws.cleanup()
      await db.drop()
    }
  }
}

/** One database, migrated once before the first round; each round adds NEW_PER_ROUND pending migrations. */
async function existingRounds(create: () => Promise<TestDatabase>, dialect: Dialect, tally: Tally): Promise<void> {
  const db = await create()
  const ws = migrateWorkspace(db.url)
  try {
    const names = [EFFECTS_NAME, appName(1)]
    ws.addMigration(EFFECTS_NAME, EFFECTS_MIGRATION)
    ws.addMigration(appName(1), effectMigration(appName(1)))
    const setup = await ws.gantry(['migrate', 'latest'])
    expect(setup.code, setup.stderr).to.equal(0)
    for (let r = 0; r < ROUNDS; r++) {
      const added = Array.from({ length: NEW_PER_ROUND }, (_, i) => appName(names.length + i))
      for (const name of added) ws.addMigration(name, effectMigration(name))
      names.push(...added)
      await round(ws, names, new Set(app(added)), tally, `${dialect} existing round ${r + 1}`)
    }
  } finally {
    ws.cleanup()
    await db.drop()
  }
}

describe('reliability: concurrent `migrate latest` runs', function () {
  const dbs = dialectDatabases()
  after(() => dbs.stop())

  it(`${RUNS} runs at once, ${ROUNDS} rounds per dialect, fresh and existing: each migration applied once, every run exits 0`, async function () {
    this.timeout(atScale(900_000, 300_000))
    const tally: Tally = { runs: 0, terminalRuns: 0, waited: 0, failedRuns: 0, twice: 0, never: 0, rounds: 0, slowestRoundMs: 0, problems: [], wallMs: {} }
    const started = performance.now()
    for (const dialect of DIALECTS) {
      for (const mode of MODES) {
        const modeStarted = performance.now()
        await (mode === 'fresh' ? freshRounds : existingRounds)(() => dbs.create(dialect), dialect, tally)
        tally.wallMs[`${dialect} ${mode}`] = Math.round(performance.now() - modeStarted)
      }
    }
    const wallMs = Math.round(performance.now() - started)
    const tried = `${RUNS} concurrent runs × ${ROUNDS} rounds × ${DIALECTS.length} dialects (SQLite, MariaDB, PostgreSQL) × fresh and existing databases: ${tally.runs} runs`
    const detail = {
      runs: tally.runs,
      terminalRuns: tally.terminalRuns,
      terminalRunsThatWaitedForTheLock: tally.waited,
      rounds: tally.rounds,
      runsPerRound: RUNS,
      wallMs,
      slowestRoundMs: Math.round(tally.slowestRoundMs),
      wallMsBy: tally.wallMs,
      notApplied: tally.never,
      problems: tally.problems,
    }
    record({
      id: 'migrate-concurrent-double-applies',
      area: 'nothing lost',
      what: 'migrations applied more than once (tracking rows, run records, a row each migration writes, the runs’ own output)',
      tried,
      value: tally.twice,
      unit: 'migrations',
      target: { comparison: '=', value: 0 },
      detail,
    })
    record({
      id: 'migrate-concurrent-failed-runs',
      area: 'nothing lost',
      what: 'concurrent `migrate latest` runs that did not exit 0 with a result',
      tried,
      value: tally.failedRuns,
      unit: 'runs',
      target: { comparison: '=', value: 0 },
      detail,
    })
    expect(tally.twice, tally.problems.join('\n')).to.equal(0)
    expect(tally.failedRuns, tally.problems.join('\n')).to.equal(0)
    expect(tally.never, tally.problems.join('\n')).to.equal(0)
    expect(tally.runs).to.equal(RUNS * ROUNDS * DIALECTS.length * MODES.length)
  })
})
