/**
 * Reliability: `gantry migrate latest` killed with SIGKILL in the middle of a migration (DESIGN.md "a killed
 * run never leaves a lock that needs a human"). The migration blocks once it has created its table and
 * written its row, and says so through a marker file, so the kill lands mid-migration without guessing a
 * delay. While it blocks, `migrate status` names the run's pid as the lock holder; after the kill the lock
 * is free. On SQLite and PostgreSQL the migration was one transaction: the next `migrate latest` applies it
 * (once) with no manual step. On MariaDB its DDL committed: the next run refuses with MIGRATION_PARTIAL,
 * status and the error list the statements that ran and `gantry migrate resolve NAME --applied`, and once
 * that is run the next `latest` succeeds — the migration's effect still there exactly once.
 */
import { expect } from 'chai'
import type { Dialect } from '../../src/db/url.js'
import { parseJson } from '../helpers/cli.js'
import { dialectDatabases } from '../helpers/dialect-databases.js'
import {
  applications,
  EFFECTS_MIGRATION,
  EFFECTS_NAME,
  effectMigration,
  migrateWorkspace,
  notOnce,
  startBlockedLatest,
  type MigrateWorkspace,
} from '../helpers/migrate-workspace.js'
import { atScale, record } from '../helpers/scorecard.js'
import { DIALECTS } from '../helpers/services.js'

const KILLS = atScale(5, 1)

interface StatusJson {
  lock: { pid: number } | null
  pending: number
  migrations: Array<{ set: string; name: string; state: string; statements?: string[] }>
}
interface ErrorJson {
  error: { code: string; message: string; hint?: string }
}

/** What must show after the kill, per dialect; each returns the problems it found (none: as designed). */
async function afterKill(ws: MigrateWorkspace, dialect: Dialect, slow: string): Promise<string[]> {
  const problems: string[] = []
  const status = parseJson<StatusJson>(await ws.gantry(['migrate', 'status', '--json']))
  if (status.lock !== null) problems.push(`the lock still shows as held by pid ${status.lock.pid}`)
  // A lock left behind would make this wait and time out (exit 3) instead of running.
  const latest = () => ws.gantry(['migrate', 'latest', '--json', '--lock-timeout', '10'])
  const ran = status.migrations.find((m) => m.name === slow)
  if (dialect !== 'mysql') {
    // One transaction, rolled back by the kill: nothing of the migration is left, and it is simply pending.
    if (ran?.state !== 'pending') problems.push(`after the kill status shows ${slow} as ${ran?.state}, not pending`)
    if (await ws.query((k) => k.schema.hasTable(`t_${slow}`))) problems.push(`table t_${slow} survived the kill`)
    const rerun = await latest()
    if (rerun.code !== 0) problems.push(`the next run exited ${rerun.code}: ${rerun.stderr.trim()}`)
    else if (!parseJson<{ applied: Array<{ name: string }> }>(rerun).applied.some((a) => a.name === slow)) problems.push(`the next run did not apply ${slow}`)
    return problems
  }
  // MariaDB: the statements that ran, as status and the refusal report them.
  const statementsRan = (list: readonly string[] | undefined): boolean =>
    list?.length === 2 &&
    (list[0] ?? '').startsWith(`create table \`t_${slow}\``) &&
    (list[1] ?? '').startsWith(`insert into \`effects\` (\`name\`) values ('${slow}')`)
  if (ran?.state !== 'partial') problems.push(`status shows ${slow} as ${ran?.state}, not partial`)
  if (!statementsRan(ran?.statements)) problems.push(`status lists these statements for ${slow}: ${JSON.stringify(ran?.statements)}`)
  const step = `gantry migrate resolve ${slow} --applied`
  const rerun = await latest()
  if (rerun.code !== 1) problems.push(`the next run exited ${rerun.code}, not 1`)
  else {
    const { error } = parseJson<ErrorJson>(rerun)
    if (error.code !== 'MIGRATION_PARTIAL') problems.push(`the next run failed with ${error.code}, not MIGRATION_PARTIAL`)
    if (!error.message.includes(ran?.statements?.[0] ?? '\u0000') || !error.message.includes(ran?.statements?.[1] ?? '\u0000'))
      problems.push(`the refusal does not list the statements that ran: ${error.message}`)
    if (!error.message.includes(step) || !error.hint?.includes(step))
      problems.push(`the refusal does not name the step \`${step}\`: ${error.message} / ${error.hint}`)
  }
  // The schema is as the migration left it (its whole body ran), so the step is --applied.
  const resolved = await ws.gantry(['migrate', 'resolve', slow, '--applied'])
  if (resolved.code !== 0) problems.push(`${step} exited ${resolved.code}: ${resolved.stderr.trim()}`)
  const next = await latest()
  if (next.code !== 0) problems.push(`latest after the resolve exited ${next.code}: ${next.stderr.trim()}`)
  return problems
}

/** KILLS kills on one database of `dialect`, each in a new pair of migrations; returns the problems of each kill. */
async function killRounds(ws: MigrateWorkspace, dialect: Dialect): Promise<string[][]> {
  ws.addMigration(EFFECTS_NAME, EFFECTS_MIGRATION)
  const names = [EFFECTS_NAME]
  const outcomes: string[][] = []
  for (let kill = 1; kill <= KILLS; kill++) {
    // A migration that completes, then the one that blocks: the kill ends a run that had done work already.
    const plain = `${String(2 * kill - 1).padStart(3, '0')}_plain${kill}`
    const slow = `${String(2 * kill).padStart(3, '0')}_slow${kill}`
    ws.addMigration(plain, effectMigration(plain))
    ws.addMigration(slow, effectMigration(slow, { blocking: true }))
    names.push(plain, slow)
    const problems: string[] = []
    const blocked = await startBlockedLatest(ws)
    try {
      const during = parseJson<StatusJson>(await ws.gantry(['migrate', 'status', '--json']))
      if (during.lock?.pid !== blocked.child.pid) problems.push(`while blocked, status shows lock ${JSON.stringify(during.lock)}, not pid ${blocked.child.pid}`)
    } finally {
      await blocked.kill()
    }
    problems.push(...(await afterKill(ws, dialect, slow)))
    const { twice, never } = notOnce(await applications(ws, names))
    if (twice.length || never.length) problems.push(`applied twice: [${twice.join(', ')}], never: [${never.join(', ')}]`)
    if (!(await ws.query((k) => k.schema.hasTable(`t_${slow}`)))) problems.push(`table t_${slow} is missing`)
    const final = parseJson<StatusJson>(await ws.gantry(['migrate', 'status', '--json']))
    if (final.pending !== 0 || final.lock !== null) problems.push(`afterwards ${final.pending} pending, lock ${JSON.stringify(final.lock)}`)
    outcomes.push(problems.map((p) => `${dialect} kill ${kill}: ${p}`))
  }
  return outcomes
}

describe('reliability: `migrate latest` killed with SIGKILL mid-migration', function () {
  const dbs = dialectDatabases()
  after(() => dbs.stop())

  it(`${KILLS} kill(s) per dialect: SQLite and PostgreSQL recover on the next run, MariaDB reports partial and recovers by its step`, async function () {
    this.timeout(atScale(600_000, 180_000))
    const outcomes = new Map<Dialect, string[][]>()
    const wallMs: Record<string, number> = {}
    for (const dialect of DIALECTS) {
      const started = performance.now()
      const db = await dbs.create(dialect)
      const ws = migrateWorkspace(db.url)
      try {
        outcomes.set(dialect, await killRounds(ws, dialect))
      } finally {
        ws.cleanup()
        await db.drop()
      }
      wallMs[dialect] = Math.round(performance.now() - started)
    }
    const clean = (dialect: Dialect): number => (outcomes.get(dialect) ?? []).filter((p) => p.length === 0).length
    const problems = [...outcomes.values()].flat(2)
    const recovering: Dialect[] = ['sqlite', 'postgres']
    record({
      id: 'migrate-sigkill-recovery',
      area: 'faults survived',
      what: 'SIGKILLed `migrate latest` runs (SQLite, PostgreSQL) after which the next run succeeded with no manual step, each migration applied once',
      tried: `${KILLS} kill(s) mid-migration on each of ${recovering.length} dialects: ${KILLS * recovering.length} kills`,
      value: recovering.reduce((n, d) => n + clean(d), 0),
      unit: 'kills',
      target: { comparison: '=', value: KILLS * recovering.length },
      detail: {
        kills: KILLS * recovering.length,
        bySqlite: clean('sqlite'),
        byPostgres: clean('postgres'),
        wallMs,
        problems: problems.filter((p) => !p.startsWith('mysql')),
      },
    })
    record({
      id: 'migrate-sigkill-mariadb-partial',
      area: 'faults survived',
      what: 'SIGKILLed `migrate latest` runs on MariaDB after which the next run reported `partial` with the statements that ran and the resolve step, and that step made the next run succeed',
      tried: `${KILLS} kill(s) mid-migration on a private MariaDB`,
      value: clean('mysql'),
      unit: 'kills',
      target: { comparison: '=', value: KILLS },
      detail: { kills: KILLS, wallMs, problems: problems.filter((p) => p.startsWith('mysql')) },
    })
    expect(problems).to.deep.equal([])
  })
})
