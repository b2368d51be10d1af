/**
 * Reliability: racing refreshes of one refresh token over HTTP, against a real `gantry serve` on each
 * dialect (SQLite, private MariaDB, private PostgreSQL; reduced, PostgreSQL only). DESIGN.md: rotation is
 * one compare-and-set, and the immediate predecessor within 10 s is refused without revoking anything, so
 * two racing clients never log a user out. Each round sends PARALLEL refreshes of the same token at once:
 * exactly one must get a successor, the others 401 TOKEN_INVALID, the stored family must hold that one live
 * successor and nothing revoked, and the successor must then refresh once — its own successor is the next
 * round's token, so the rounds run along one family, as a long-lived client's would.
 * (test/integration/sessions covers the same race in process, per dialect, with the refusal reasons.)
 */
import { expect } from 'chai'
import type { Knex } from 'knex'
import { openDatabase } from '../../src/db/connect.js'
import type { Dialect } from '../../src/db/url.js'
import { dialectDatabases } from '../helpers/dialect-databases.js'
import { familyOf, familyRows, raceProblems } from '../helpers/refresh-families.js'
import { atScale, record } from '../helpers/scorecard.js'
import { ADMIN, createServeWorkspace, killLeftovers, listeningUrl, postJson, startServe, stopServe } from '../helpers/serve-process.js'
import { DIALECTS } from '../helpers/services.js'

const PARALLEL = 20
const ROUNDS = atScale(100, 10)
/** Reduced, PostgreSQL only: setting up a server costs more than its rounds, and the in-process test covers each dialect. */
const RACE_DIALECTS: readonly Dialect[] = atScale(DIALECTS, ['postgres'])
const NAMES: Record<Dialect, string> = { sqlite: 'SQLite', mysql: 'private MariaDB', postgres: 'private PostgreSQL' }

interface Tally {
  rounds: number
  badRounds: number
  refreshes: number
  logins: number
  readonly problems: string[]
  readonly wallMs: Record<string, number>
}

/** The refresh token of a new login, or the answer that refused it. */
async function login(url: string): Promise<string> {
  const res = await postJson(`${url}/api/v1/auth/login`, ADMIN)
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.body}`)
  return (JSON.parse(res.body) as { refreshToken: string }).refreshToken
}

/** One round: PARALLEL refreshes of `token`, then the winner's refresh. The next round's token, and what went wrong. */
async function race(url: string, k: Knex, token: string, tally: Tally): Promise<{ next: string | undefined; problems: string[] }> {
  const refresh = (refreshToken: string) => postJson(`${url}/api/v1/auth/refresh`, { refreshToken })
  const answers = await Promise.all(Array.from({ length: PARALLEL }, () => refresh(token)))
  tally.refreshes += answers.length
  const winners = answers.filter((a) => a.status === 200).map((a) => (JSON.parse(a.body) as { refreshToken: string }).refreshToken)
  const refused = answers.filter((a) => a.status === 401 && (JSON.parse(a.body) as { code?: string }).code === 'TOKEN_INVALID').length
  const problems: string[] = []
  if (winners.length !== 1) problems.push(`${winners.length} refreshes succeeded, not 1`)
  if (refused !== PARALLEL - winners.length) {
    const others = answers.filter((a) => a.status !== 200 && a.status !== 401).map((a) => `${a.status} ${a.body.slice(0, 200)}`)
    problems.push(`${PARALLEL - winners.length - refused} answers were neither a successor nor 401 TOKEN_INVALID: ${others.join('; ')}`)
  }
  const familyId = await familyOf(k, token)
  problems.push(...(familyId === undefined ? ['the raced token is not stored'] : raceProblems(await familyRows(k, familyId), token, winners[0])))
  if (winners.length !== 1 || !winners[0]) return { next: undefined, problems }
  const then = await refresh(winners[0])
  tally.refreshes++
  if (then.status !== 200)
    return { next: undefined, problems: [...problems, `the successor's own refresh answered ${then.status}: ${then.body.slice(0, 200)}`] }
  return { next: (JSON.parse(then.body) as { refreshToken: string }).refreshToken, problems }
}

/** ROUNDS rounds against one server; a round that went wrong is counted and the next starts a new session. */
async function rounds(url: string, k: Knex, dialect: Dialect, tally: Tally): Promise<void> {
  let token: string | undefined
  for (let r = 1; r <= ROUNDS; r++) {
    if (token === undefined) {
      try {
        token = await login(url)
        tally.logins++
      } catch (err) {
        // The login throttle (5 at once per account) ends the run when rounds keep failing: what is left counts as failed.
        tally.badRounds += ROUNDS - r + 1
        tally.rounds += ROUNDS - r + 1
        tally.problems.push(`${dialect}: rounds ${r}-${ROUNDS} not run: ${(err as Error).message}`)
        return
      }
    }
    const { next, problems } = await race(url, k, token, tally)
    tally.rounds++
    if (problems.length) {
      tally.badRounds++
      if (tally.problems.length < 10) tally.problems.push(`${dialect} round ${r}: ${problems.join('; ')}`)
    }
    token = problems.length ? undefined : next
  }
}

describe('reliability: racing refreshes of one refresh token over HTTP', function () {
  const dbs = dialectDatabases()
  afterEach(() => killLeftovers())
  after(() => dbs.stop())

  it(`${PARALLEL} parallel refreshes × ${ROUNDS} rounds on ${RACE_DIALECTS.join(', ')}: each round leaves exactly one live successor`, async function () {
    this.timeout(atScale(600_000, 180_000))
    const tally: Tally = { rounds: 0, badRounds: 0, refreshes: 0, logins: 0, problems: [], wallMs: {} }
    for (const dialect of RACE_DIALECTS) {
      const started = performance.now()
      const db = await dbs.create(dialect)
      const ws = await createServeWorkspace({ databaseUrl: db.url })
      const opened = await openDatabase(db.url, ws.root)
      const k = opened.knex
      try {
        const serve = startServe(ws)
        const raceStarted = performance.now()
        await rounds(await listeningUrl(serve), k, dialect, tally)
        tally.wallMs[dialect] = Math.round(performance.now() - raceStarted)
        tally.wallMs[`${dialect} with setup`] = Math.round(performance.now() - started)
        await stopServe(serve)
      } finally {
        await opened.close()
        ws.cleanup()
        await db.drop()
      }
    }
    record({
      id: 'refresh-token-races',
      area: 'nothing lost',
      what: 'rounds of parallel refreshes of one token that did not end with exactly one live successor (the others refused, the family intact, the successor refreshing once)',
      tried: `${PARALLEL} parallel refreshes of one token × ${ROUNDS} rounds × ${RACE_DIALECTS.length} dialect(s) (gantry serve on ${RACE_DIALECTS.map((d) => NAMES[d]).join(', ')}): ${tally.refreshes} refreshes over HTTP`,
      value: tally.badRounds,
      unit: 'rounds',
      target: { comparison: '=', value: 0 },
      detail: {
        rounds: tally.rounds,
        refreshes: tally.refreshes,
        logins: tally.logins,
        parallel: PARALLEL,
        dialects: RACE_DIALECTS,
        wallMs: tally.wallMs,
        problems: tally.problems,
      },
    })
    expect(tally.problems).to.deep.equal([])
    expect(tally.rounds).to.equal(ROUNDS * RACE_DIALECTS.length)
  })
})
