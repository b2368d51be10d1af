import { expect } from 'chai'
import { backoffMs } from '../../../src/core/backoff.js'
import { POLL_BACKOFF, notReadyReason, versionMismatch, waitUntilReady, type HealthResult } from '../../../src/cli/health-output.js'
import { GantryError } from '../../../src/core/errors.js'

const time = '2024-01-01T00:00:00.000Z'
const doc = (ready: boolean): HealthResult => ({
  status: ready ? 'warn' : 'fail',
  version: '1.2.3',
  url: 'http://127.0.0.1:1',
  ready,
  checks: {
    'database:responseTime': [{ status: 'pass', observedValue: 1, observedUnit: 'ms', time }],
    'migrations:status': [{ status: ready ? 'warn' : 'fail', output: ready ? 'lock held.' : '2 pending migrations: run `gantry migrate latest`.', time }],
  },
})

/** A clock that only moves when the wait sleeps. */
function fakeTime() {
  let now = 0
  const sleeps: number[] = []
  return { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)), sleeps }
}

describe('cli: health output', () => {
  it('names the failing checks with their output', () => {
    expect(notReadyReason(doc(false))).to.equal('migrations:status (2 pending migrations: run `gantry migrate latest`)')
    expect(notReadyReason({ status: 'fail', version: '1.0.0' })).to.equal('status fail')
  })

  it('backs off from 250 ms doubling to 5 s, drawn from the upper half', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, POLL_BACKOFF, () => 1))).to.deep.equal([250, 500, 1000, 2000, 4000, 5000, 5000])
    expect(backoffMs(0, POLL_BACKOFF, () => 0)).to.equal(125)
  })

  it('waits until ready, counting errors that say "not reachable" as not ready', async () => {
    const clock = fakeTime()
    const answers = [
      () => Promise.reject(new GantryError('SERVER_UNREACHABLE', 'GET x: connection refused.')),
      () => Promise.resolve(doc(false)),
      () => Promise.resolve(doc(true)),
    ]
    const outcome = await waitUntilReady({ probe: () => (answers.shift() ?? (() => Promise.resolve(doc(true))))(), seconds: 10, random: () => 1, ...clock })
    expect(outcome.result?.ready).to.equal(true)
    expect(clock.sleeps).to.deep.equal([250, 500])
  })

  it('gives up at the deadline with the last reason, probing once more at the deadline itself', async () => {
    const clock = fakeTime()
    let probes = 0
    const outcome = await waitUntilReady({ probe: async () => (probes++, doc(false)), seconds: 2, random: () => 1, ...clock })
    expect(outcome.result?.ready).to.equal(false)
    expect(outcome.reason).to.include('2 pending migrations')
    expect(clock.sleeps).to.deep.equal([250, 500, 1000, 250])
    expect(clock.now()).to.equal(2000)
    expect(probes).to.equal(5)

    const refused = await waitUntilReady({
      probe: () => Promise.reject(new GantryError('SERVER_UNREACHABLE', 'GET x: connection refused.')),
      seconds: 1,
      ...fakeTime(),
    })
    expect(refused).to.deep.equal({ result: undefined, reason: 'GET x: connection refused' })
  })

  it('stops at once on an error waiting cannot fix', async () => {
    const clock = fakeTime()
    const wait = waitUntilReady({ probe: () => Promise.reject(new GantryError('INVALID_INPUT', 'bad CA file')), seconds: 60, ...clock })
    await wait.then(
      () => expect.fail('should reject'),
      (err: GantryError) => expect(err.code).to.equal('INVALID_INPUT'),
    )
    expect(clock.sleeps).to.deep.equal([])
  })

  it('warns on a different major version only', () => {
    expect(versionMismatch('1.4.0', '1.0.2')).to.equal(undefined)
    expect(versionMismatch('2.0.0', '1.9.9')).to.include('2.0.0').and.include('1.9.9')
  })
})
