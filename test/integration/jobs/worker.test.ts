import { expect } from 'chai'
import { enqueueJobs, JOBS_TABLE, type Job } from '../../../src/core/jobs/job-queue.js'
import { createWorker, type Worker } from '../../../src/worker/worker.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'

describe('the job worker (SQLite)', function () {
  let f: IdentityFixture
  let worker: Worker | undefined
  beforeEach(async () => {
    f = await identityFixture('sqlite')
  })
  afterEach(async () => {
    await worker?.stop()
    await f?.cleanup()
  })

  /** A handler whose jobs each wait for release; it says how many run at once. */
  function gate() {
    const waiting: Array<() => void> = []
    let running = 0
    let most = 0
    const seen: unknown[] = []
    let onSeen: (() => void) | undefined
    return {
      seen,
      most: () => most,
      release: () => waiting.splice(0).forEach((go) => go()),
      until: (n: number) => new Promise<void>((resolve) => (onSeen = () => seen.length >= n && resolve())),
      handler: async (job: Job, finish: Parameters<Parameters<typeof createWorker>[0]['handlers'][string]>[1]) => {
        running += 1
        most = Math.max(most, running)
        seen.push(job.payload)
        onSeen?.()
        await new Promise<void>((resolve) => waiting.push(resolve))
        running -= 1
        await finish(f.db.knex, { status: 'succeeded' })
      },
    }
  }

  /** A worker running `g`'s jobs, `concurrency` at once, that polls too seldom to matter: only wake-ups move it. */
  const gatedWorker = (g: ReturnType<typeof gate>, concurrency: number): Worker =>
    createWorker({
      knex: f.db.knex,
      clock: f.clock,
      handlers: { t: g.handler },
      leaseMs: 60_000,
      pollMs: 60_000,
      concurrency,
      retentionMs: 1000,
      onError: () => undefined,
    })

  it('started, it runs what is queued without being asked, never more at once than its concurrency, and refills a slot as soon as one frees', async () => {
    const g = gate()
    await enqueueJobs(
      f.db.knex,
      Array.from({ length: 7 }, (_, n) => ({ type: 't', payload: n })),
      f.clock.now(),
    )
    worker = gatedWorker(g, 3)
    worker.start()
    await g.until(3)
    expect(g.seen).to.have.length(3)
    const more = g.until(6)
    g.release() // three slots free: filled at once, not after the 60 s poll
    await more
    const last = g.until(7)
    g.release()
    await last
    g.release()
    await worker.stop()
    expect(g.most()).to.equal(3)
    const statuses = await f.db.knex(JOBS_TABLE).select('status')
    expect(statuses.map((r: { status: string }) => r.status)).to.deep.equal(Array(7).fill('succeeded'))
  })

  it('a handler that throws: the error is reported and the job comes back after a backoff, not at once', async () => {
    const errors: unknown[] = []
    await enqueueJobs(f.db.knex, [{ type: 't', payload: 1 }], f.clock.now())
    let calls = 0
    worker = createWorker({
      knex: f.db.knex,
      clock: f.clock,
      handlers: {
        t: async () => {
          calls += 1
          throw new Error('receiver code blew up')
        },
      },
      leaseMs: 60_000,
      pollMs: 60_000,
      concurrency: 2,
      retentionMs: 1000,
      onError: (err) => errors.push(err),
    })
    expect(await worker.runOnce()).to.equal(1)
    expect(await worker.runOnce()).to.equal(0)
    expect(calls).to.equal(1)
    expect(String(errors[0])).to.include('receiver code blew up')
    const row = await f.db.knex(JOBS_TABLE).first('status', 'run_at', 'last_error')
    expect(row).to.deep.equal({ status: 'queued', run_at: f.clock.now() + 5000, last_error: 'receiver code blew up' })
    f.clock.advance(5000)
    expect(await worker.runOnce()).to.equal(1)
    expect(calls).to.equal(2)
  })

  it('stop() during a claim waits for what that claim took: no job of this worker runs after stop() resolved', async () => {
    const g = gate()
    await enqueueJobs(f.db.knex, [{ type: 't', payload: 1 }], f.clock.now())
    worker = gatedWorker(g, 1)
    const order: string[] = []
    worker.start() // its first claim is under way now
    const stopped = worker.stop().then(() => order.push('stopped'))
    await g.until(1)
    order.push('started')
    g.release()
    await stopped
    expect(order).to.deep.equal(['started', 'stopped'])
  })

  it('stop() lets the jobs in hand finish and claims nothing more', async () => {
    const g = gate()
    await enqueueJobs(
      f.db.knex,
      [
        { type: 't', payload: 1 },
        { type: 't', payload: 2 },
      ],
      f.clock.now(),
    )
    worker = gatedWorker(g, 1)
    worker.start()
    await g.until(1)
    const stopped = worker.stop()
    g.release()
    await stopped
    expect(g.seen).to.deep.equal([1])
    const rows = await f.db.knex(JOBS_TABLE).select('status').orderBy('id')
    expect(rows.map((r: { status: string }) => r.status)).to.deep.equal(['succeeded', 'queued'])
  })
})
