/**
 * The schedule of a job enqueued by whichever worker gets there first (src/core/schedules/scheduled-job.ts)
 * when workers disagree on its expression — a rolling deploy that changes `backups.schedule`, an old worker
 * left running: the slots of both still run, each once, rather than each worker resetting the other's due
 * time past every slot.
 */
import { expect } from 'chai'
import { JOBS_TABLE } from '../../../src/core/jobs/job-queue.js'
import { parseSchedule } from '../../../src/core/schedules/cron.js'
import { enqueueDueSlot, type ScheduledJob } from '../../../src/core/schedules/scheduled-job.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'

const MINUTE = 60_000
const job = (expression: string): ScheduledJob => ({ key: 'schedule:test', schedule: parseSchedule(expression), type: 'test.scheduled' })

for (const dialect of DIALECTS) {
  describe(`a scheduled job on ${dialect}, two workers with different expressions`, function () {
    let f: IdentityFixture
    before(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
    })
    after(async () => {
      await f?.cleanup()
    })

    it('runs the slots of both, each once, over two days of polls every five minutes', async () => {
      const [nightly, later] = [job('0 3 * * *'), job('0 4 * * *')]
      const start = Date.parse('2026-12-01T00:00:00Z')
      const enqueued: string[] = []
      for (let now = start; now < start + 48 * 60 * MINUTE; now += 5 * MINUTE) {
        // The two workers poll in turn, each with its own expression.
        for (const worker of [nightly, later]) {
          const slot = await enqueueDueSlot(f.db.knex, worker, now)
          if (slot !== undefined) enqueued.push(new Date(slot).toISOString())
        }
        // Each run finishes before the next poll.
        await f.db.knex(JOBS_TABLE).where({ type: 'test.scheduled' }).update({ status: 'succeeded', run_at: null, finished_at: now })
      }
      expect(enqueued).to.deep.equal(['2026-12-01T03:00:00.000Z', '2026-12-01T04:00:00.000Z', '2026-12-02T03:00:00.000Z', '2026-12-02T04:00:00.000Z'])
    })
  })
}
