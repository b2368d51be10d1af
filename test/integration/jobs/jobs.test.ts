import { expect } from 'chai'
import { claimJobs, enqueueJobs, finishJob, jobBacklog, pruneJobs, JOBS_TABLE } from '../../../src/core/jobs/job-queue.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'

const LEASE = 60_000

for (const dialect of DIALECTS) {
  describe(`the job table on ${dialect}`, function () {
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    const claim = (owner: string, limit = 10, types = ['t']) => claimJobs(f.db.knex, { owner, now: f.clock.now(), leaseMs: LEASE, limit, types })

    it('claims due jobs of its types oldest first, each by one worker, leaving later and other jobs', async () => {
      const now = f.clock.now()
      await f.db.knex.transaction((trx) =>
        enqueueJobs(
          trx,
          [
            { type: 't', payload: { n: 2 }, runAt: now - 1000 },
            { type: 't', payload: { n: 1 }, runAt: now - 2000 },
            { type: 't', payload: { n: 3 }, runAt: now + 5000 },
            { type: 'other', payload: { n: 4 } },
          ],
          now,
        ),
      )
      const [a, b] = await Promise.all([claim('a', 1), claim('b', 1)])
      const got = [...(a ?? []), ...(b ?? [])].map((j) => (j.payload as { n: number }).n).sort()
      expect(got).to.deep.equal([1, 2])
      expect(await claim('c')).to.deep.equal([])
      f.clock.advance(5000)
      const later = await claim('c')
      expect(later.map((j) => [j.payload, j.attempt])).to.deep.equal([[{ n: 3 }, 1]])
      expect((await claim('d', 10, ['other'])).map((j) => j.payload)).to.deep.equal([{ n: 4 }])
    })

    it('hands a job whose worker vanished to another once the lease has run out; the first then records nothing', async () => {
      await enqueueJobs(f.db.knex, [{ type: 't', payload: {} }], f.clock.now())
      const [first] = await claim('dead')
      f.clock.advance(LEASE - 1)
      expect(await claim('other')).to.deep.equal([])
      f.clock.advance(1)
      const [taken] = await claim('other')
      expect(taken?.id).to.equal(first?.id)
      expect(taken?.attempt).to.equal(2)
      expect(await finishJob(f.db.knex, first!, 'dead', { status: 'succeeded' }, f.clock.now())).to.equal(false)
      expect(await finishJob(f.db.knex, taken!, 'other', { status: 'retry', runAt: f.clock.now() + 1000, error: 'HTTP 500' }, f.clock.now())).to.equal(true)
      expect(await claim('other')).to.deep.equal([])
      const backlog = await jobBacklog(f.db.knex, f.clock.now())
      expect(backlog).to.deep.equal({ due: 0, oldestDueMs: null, scheduled: 1 })
      f.clock.advance(3000)
      expect(await jobBacklog(f.db.knex, f.clock.now())).to.deep.equal({ due: 1, oldestDueMs: 2000, scheduled: 0 })
      const [again] = await claim('other')
      expect(again?.attempt).to.equal(3)
      expect(await finishJob(f.db.knex, again!, 'other', { status: 'failed', error: 'gave up' }, f.clock.now())).to.equal(true)
      const row = await f.db.knex(JOBS_TABLE).first('status', 'last_error', 'lease_owner')
      expect(row).to.deep.equal({ status: 'failed', last_error: 'gave up', lease_owner: null })
    })

    it('prunes only jobs finished before the cut-off', async () => {
      await enqueueJobs(
        f.db.knex,
        [
          { type: 't', payload: 1 },
          { type: 't', payload: 2 },
          { type: 't', payload: 3 },
        ],
        f.clock.now(),
      )
      const jobs = await claim('w')
      await finishJob(f.db.knex, jobs[0]!, 'w', { status: 'succeeded' }, f.clock.now())
      f.clock.advance(10_000)
      await finishJob(f.db.knex, jobs[1]!, 'w', { status: 'failed', error: 'x' }, f.clock.now())
      expect(await pruneJobs(f.db.knex, f.clock.now(), 100)).to.equal(1)
      expect(await pruneJobs(f.db.knex, f.clock.now() + 1, 100)).to.equal(1)
      expect(Number((await f.db.knex(JOBS_TABLE).count({ n: '*' }))[0]?.n)).to.equal(1) // the running one stays
    })

    it('several workers claiming at once over 200 jobs: each job claimed exactly once', async () => {
      await enqueueJobs(
        f.db.knex,
        Array.from({ length: 200 }, (_, n) => ({ type: 't', payload: n })),
        f.clock.now(),
      )
      const seen: number[] = []
      await Promise.all(
        ['w1', 'w2', 'w3', 'w4'].map(async (owner) => {
          for (;;) {
            const jobs = await claim(owner, 7)
            if (jobs.length === 0) return
            seen.push(...jobs.map((j) => j.payload as number))
          }
        }),
      )
      expect(seen.sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 200 }, (_, n) => n))
    })
  })
}
