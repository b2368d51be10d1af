/**
 * Audit retention and export on every dialect, with a manual clock: `prune` deletes what is older than the
 * cut-off in batches and records itself, `pruneAuditBatch` (the worker's housekeeping) deletes one bounded
 * batch oldest first, and `exportPage` pages the log oldest first as it stood at the first page.
 */
import { expect } from 'chai'
import { insertAudit, pruneAuditBatch, AUDIT_TABLE, type AuditRow } from '../../../src/core/audit/audit.repo.js'
import { createAuditService, PRUNE_BATCH, type AuditService } from '../../../src/core/audit/audit.service.js'
import type { AuditEntry } from '../../../src/core/audit/audit.schema.js'
import { isGantryError } from '../../../src/core/errors.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'

const DAY = 86_400_000

for (const dialect of DIALECTS) {
  describe(`audit retention and export on ${dialect}`, function () {
    let f: IdentityFixture
    const service = (retention?: string): AuditService => createAuditService({ knex: f.db.knex, clock: f.clock, retention })
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
      // The migrations' own records: this suite counts only the rows it writes.
      await f.db.knex(AUDIT_TABLE).delete()
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    /** `count` rows, the i-th `ageOf(i)` ms old, actor `local:seed`. */
    const seed = (count: number, ageOf: (i: number) => number, fields: Partial<Omit<AuditRow, 'id'>> = {}) =>
      insertAudit(
        f.db.knex,
        Array.from({ length: count }, (_, i) => ({
          at: f.clock.now() - ageOf(i),
          actor: 'local:seed',
          action: 'users.update',
          target_type: 'user',
          target_id: String(i),
          before: null,
          after: null,
          ip: null,
          ...fields,
        })),
      )
    const rows = async (): Promise<AuditRow[]> => f.db.knex<AuditRow>(AUDIT_TABLE).select('*').orderBy('id')

    it('deletes every entry older than the cut-off over several batches, keeps the rest, and records one audit.pruned entry', async () => {
      const old = 2 * PRUNE_BATCH + 7
      await seed(old, (i) => 100 * DAY + i * 1000)
      await seed(3, () => 30 * DAY)
      // Exactly at the cut-off: not older than it, kept.
      await seed(1, () => 90 * DAY, { target_id: 'edge' })
      const result = await service().prune(f.ctx, {})
      expect(result).to.deep.include({ dryRun: false, olderThan: '90d', count: old, before: new Date(f.clock.now() - 90 * DAY).toISOString() })
      expect(result.oldest).to.equal(new Date(f.clock.now() - 100 * DAY - (old - 1) * 1000).toISOString())
      expect(result.newest).to.equal(new Date(f.clock.now() - 100 * DAY).toISOString())
      const left = await rows()
      expect(left.map((r) => r.target_id).sort()).to.deep.equal(['0', '1', '2', 'edge', result.before].sort())
      const pruned = left.filter((r) => r.action === 'audit.pruned')
      expect(pruned).to.have.length(1)
      expect(pruned[0]).to.include({ actor: f.ctx.actor, target_type: 'audit', target_id: result.before })
      expect(JSON.parse(pruned[0]?.after as string)).to.deep.include({ count: old, olderThan: '90d' })
      expect(Number(pruned[0]?.at)).to.equal(f.clock.now())
      // Its own record is new: a second run finds nothing older, and records nothing.
      expect((await service().prune(f.ctx, {})).count).to.equal(0)
      expect(await rows()).to.have.length(left.length)
    })

    it('counts with dryRun, giving the oldest and newest, and deletes nothing', async () => {
      await seed(5, (i) => (40 + i) * DAY)
      await seed(2, () => DAY)
      const result = await service('90d').prune(f.ctx, { olderThan: '30d', dryRun: true })
      expect(result).to.deep.include({ dryRun: true, olderThan: '30d', count: 5 })
      expect(result.oldest).to.equal(new Date(f.clock.now() - 44 * DAY).toISOString())
      expect(result.newest).to.equal(new Date(f.clock.now() - 40 * DAY).toISOString())
      expect(await rows()).to.have.length(7)
    })

    it('applies the retention as the clock moves on; forever prunes nothing without olderThan', async () => {
      await seed(4, () => DAY)
      expect((await service('7d').prune(f.ctx, {})).count).to.equal(0)
      f.clock.advance(6 * DAY + 1)
      expect((await service('7d').prune(f.ctx, { dryRun: true })).count).to.equal(4)
      expect(await service('forever').prune(f.ctx, {})).to.deep.equal({ dryRun: false, olderThan: null, before: null, count: 0, oldest: null, newest: null })
      expect(await rows()).to.have.length(4)
      expect((await service('forever').prune(f.ctx, { olderThan: '2d' })).count).to.equal(4)
    })

    it('needs audit:delete, and a duration longer than zero', async () => {
      const refused = async (work: () => Promise<unknown>): Promise<string> => {
        try {
          await work()
        } catch (err) {
          if (isGantryError(err)) return err.code
          throw err
        }
        return 'done'
      }
      const reader = { actor: 'user:9', permissions: ['*:read'] }
      expect(await refused(() => service().prune(reader, { dryRun: true }))).to.equal('FORBIDDEN')
      expect(await refused(() => service().prune({ actor: 'user:9', permissions: ['audit:delete'] }, { dryRun: true }))).to.equal('done')
      expect(await refused(() => service().prune(f.ctx, { olderThan: 'soon' }))).to.equal('INVALID_INPUT')
      expect(await refused(() => service().prune(f.ctx, { olderThan: '0d' }))).to.equal('INVALID_INPUT')
      expect(await refused(() => service().exportPage({ actor: 'user:9', permissions: ['audit:delete'] }))).to.equal('FORBIDDEN')
      expect(await refused(() => service().exportPage(f.ctx, { cursor: 'bm90LWEtY3Vyc29y' }))).to.equal('INVALID_INPUT')
    })

    it('pruneAuditBatch deletes at most its limit, oldest first, and 0 when nothing is older', async () => {
      await seed(5, (i) => (10 + i) * DAY)
      const before = f.clock.now() - 5 * DAY
      expect(await pruneAuditBatch(f.db.knex, before, 2)).to.equal(2)
      expect((await rows()).map((r) => r.target_id)).to.deep.equal(['0', '1', '2'])
      expect(await pruneAuditBatch(f.db.knex, before, 10)).to.equal(3)
      expect(await pruneAuditBatch(f.db.knex, before, 10)).to.equal(0)
    })

    it('exports oldest first by time (not id) in keyset pages, filtered, as the log stood at the first page', async () => {
      // Written in an order unlike their times, as several instances may write them.
      await seed(5, (i) => ([3, 1, 5, 2, 4][i] as number) * 1000)
      await seed(1, () => 6000, { action: 'roles.create' })
      const audit = service()
      const first = await audit.exportPage(f.ctx, { actor: 'local:*', action: 'users.update', limit: 2 })
      expect(first.data.map((e) => e.targetId)).to.deep.equal(['2', '4'])
      f.clock.advance(1000)
      // Written after the export began: stays out of it.
      await seed(1, () => 0, { target_id: 'late' })
      const seen: AuditEntry[] = [...first.data]
      for (let cursor = first.nextCursor; cursor !== null;) {
        const page = await audit.exportPage(f.ctx, { actor: 'local:*', action: 'users.update', limit: 2, cursor })
        seen.push(...page.data)
        cursor = page.nextCursor
      }
      expect(seen.map((e) => e.targetId)).to.deep.equal(['2', '4', '0', '3', '1'])
      const bounded = await audit.exportPage(f.ctx, { since: new Date(f.clock.now() - 4500).toISOString(), until: '2500ms' })
      expect(bounded.data.map((e) => e.targetId)).to.deep.equal(['0', '3'])
    })
  })
}
