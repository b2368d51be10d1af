/**
 * The admin API's audit retention and export (POST /audit/prune, GET /audit/export), as scenarios for
 * admin.test.ts on every dialect. Old entries are written straight into the table with the server's clock
 * (moving that clock would expire the fixture's tokens), each scenario's under an actor of its own.
 */
import { expect } from 'chai'
import { insertAudit, AUDIT_TABLE } from '../../../src/core/audit/audit.repo.js'
import { send, type AdminFixture, type Scenario } from '../../helpers/admin-fixture.js'

const DAY = 86_400_000

/** Writes one entry per age (days back), all by `actor`; the target ids are the ages. */
async function seedAged(f: AdminFixture, actor: string, days: readonly number[]): Promise<Record<string, string>> {
  const { knex } = await f.server.runtime.database()
  const now = f.server.clock.now()
  await insertAudit(
    knex,
    days.map((d) => ({ at: now - d * DAY, actor, action: 'users.update', target_type: 'user', target_id: String(d), before: null, after: null, ip: null })),
  )
  return {}
}

async function countBy(f: AdminFixture, actor: string): Promise<number> {
  const { knex } = await f.server.runtime.database()
  const [row] = await knex(AUDIT_TABLE).where({ actor }).count({ n: '*' })
  return Number(row?.n)
}

export const auditRetentionScenarios: Scenario[] = [
  {
    name: 'counts with dryRun what a prune would delete, with the oldest and newest, and deletes nothing',
    method: 'post',
    path: '/audit/prune',
    who: 'admin',
    body: { olderThan: '400d', dryRun: true },
    setup: (f) => seedAged(f, 'local:dry@scenario', [500, 450, 10]),
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ dryRun: true, olderThan: '400d', count: 2 })
      expect(Date.parse(res.body.oldest as string)).to.equal(f.server.clock.now() - 500 * DAY)
      expect(Date.parse(res.body.newest as string)).to.equal(f.server.clock.now() - 450 * DAY)
      expect(await countBy(f, 'local:dry@scenario')).to.equal(3)
    },
  },
  {
    name: 'prunes entries older than olderThan and records who pruned, as one audit.pruned entry',
    method: 'post',
    path: '/audit/prune',
    who: 'admin',
    body: { olderThan: '300d' },
    setup: (f) => seedAged(f, 'local:prune@scenario', [800, 700, 5]),
    status: 200,
    check: async (res, f) => {
      // The dry-run scenario's two 450- and 500-day entries go too.
      expect(res.body).to.deep.include({ dryRun: false, olderThan: '300d', count: 4 })
      expect(await countBy(f, 'local:prune@scenario')).to.equal(1)
      const list = await send(f, { method: 'get', path: '/audit', who: 'admin', query: { action: 'audit.pruned' } })
      expect(list.body.data).to.have.length(1)
      expect(list.body.data[0].actor).to.match(/^user:\d+$/)
      expect(list.body.data[0].after).to.deep.include({ count: 4, olderThan: '300d' })
    },
  },
  {
    name: 'refuses an olderThan that is not a duration',
    method: 'post',
    path: '/audit/prune',
    who: 'admin',
    body: { olderThan: 'last year' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['olderThan'],
  },
  {
    name: 'refuses a prune to an operator, who reads the log but may not delete from it',
    method: 'post',
    path: '/audit/prune',
    who: 'operator',
    body: { olderThan: '1d' },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'prunes with a key scoped to audit:delete alone',
    method: 'post',
    path: '/audit/prune',
    who: { scopes: ['audit:delete'] },
    body: { olderThan: '3650d', dryRun: true },
    status: 200,
  },
  {
    name: 'exports oldest first in keyset pages, filtered by actor',
    method: 'get',
    path: '/audit/export',
    who: 'admin',
    query: { actor: 'local:export@scenario', limit: '2' },
    setup: (f) => seedAged(f, 'local:export@scenario', [3, 1, 2]),
    status: 200,
    check: async (res, f) => {
      expect(res.body.data.map((e: { targetId: string }) => e.targetId)).to.deep.equal(['3', '2'])
      const next = await send(f, {
        method: 'get',
        path: '/audit/export',
        who: 'admin',
        query: { actor: 'local:export@scenario', limit: '2', cursor: res.body.nextCursor as string },
      })
      expect(next.body).to.deep.include({ nextCursor: null })
      expect(next.body.data.map((e: { targetId: string }) => e.targetId)).to.deep.equal(['1'])
    },
  },
  {
    name: 'refuses an export cursor it did not make',
    method: 'get',
    path: '/audit/export',
    who: 'admin',
    query: { cursor: 'eyJpZCI6MX0' },
    status: 400,
    code: 'INVALID_INPUT',
  },
]
