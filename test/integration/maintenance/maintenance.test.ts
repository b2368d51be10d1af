import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import type { ActorContext } from '../../../src/core/context.js'
import { createAuditService } from '../../../src/core/audit/audit.service.js'
import { MAINTENANCE_NEVER_SET } from '../../../src/core/maintenance/maintenance.schema.js'
import { createMaintenanceService } from '../../../src/core/maintenance/maintenance.service.js'
import { deleteSetting, getSetting, setSetting } from '../../../src/core/settings/settings.repo.js'
import { openDatabase } from '../../../src/db/connect.js'
import { createTestDatabase, DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

const viewer: ActorContext = { actor: 'user:7', permissions: ['*:read'], ip: '203.0.113.9' }
const operator: ActorContext = { actor: 'user:8', permissions: ['*:read', 'maintenance:write'], ip: '203.0.113.10' }

for (const dialect of DIALECTS) {
  describe(`maintenance service on ${dialect}`, function () {
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('settings: upserts, reads and deletes a JSON value by key', async () => {
      const k = f.db.knex
      expect(await getSetting(k, 'x')).to.equal(undefined)
      await setSetting(k, 'x', { a: 1, list: ['é', null] }, new Date(f.clock.now()))
      await setSetting(k, 'x', { a: 2 }, new Date(f.clock.now() + 1000))
      expect(await getSetting(k, 'x')).to.deep.equal({ a: 2 })
      expect(Number((await k('gantry_settings').count({ n: '*' }))[0]?.n)).to.equal(1)
      expect(await deleteSetting(k, 'x')).to.equal(true)
      expect(await deleteSetting(k, 'x')).to.equal(false)
      expect(await getSetting(k, 'x')).to.equal(undefined)
    })

    it('turns on and off with defaults, keeps `since` while on, audits each change with before/after', async () => {
      const m = f.services.maintenance
      expect(await m.status(f.ctx)).to.deep.equal(MAINTENANCE_NEVER_SET)
      const start = new Date(f.clock.now()).toISOString()
      expect(await m.on(f.ctx)).to.deep.equal({ enabled: true, retryAfter: 120, message: null, since: start, by: 'local:test@host' })
      f.clock.advance(60_000)
      const changed = await m.on(operator, { retryAfter: 600, message: '  Back at 14:10 UTC ' })
      expect(changed).to.deep.equal({ enabled: true, retryAfter: 600, message: 'Back at 14:10 UTC', since: start, by: 'user:8' })
      expect(await m.status(viewer)).to.deep.equal(changed)
      f.clock.advance(60_000)
      const off = await m.off(f.ctx)
      expect(off).to.deep.equal({ enabled: false, retryAfter: 120, message: null, since: new Date(f.clock.now()).toISOString(), by: 'local:test@host' })
      expect(await m.off(operator)).to.deep.equal(off) // already off: nothing changes, nothing audited

      const log = (await f.services.audit.list(f.ctx, { limit: 10 })).data.filter((e) => e.action.startsWith('maintenance.'))
      expect(log.map((e) => [e.action, e.actor, e.targetType, e.targetId, e.ip])).to.deep.equal([
        ['maintenance.off', 'local:test@host', 'setting', 'maintenance', null],
        ['maintenance.on', 'user:8', 'setting', 'maintenance', '203.0.113.10'],
        ['maintenance.on', 'local:test@host', 'setting', 'maintenance', null],
      ])
      expect(log[2]?.before).to.deep.equal(MAINTENANCE_NEVER_SET)
      expect(log[1]?.before).to.deep.include({ enabled: true, retryAfter: 120 })
      expect(log[1]?.after).to.deep.equal(changed)
      expect(log[0]?.before).to.deep.equal(changed)
      expect(log[0]?.after).to.deep.equal(off)
    })

    it('serialises concurrent changes, also on a database that has no maintenance row yet: each sees the one before', async () => {
      const instances = Array.from({ length: 8 }, () => createMaintenanceService({ knex: f.db.knex, clock: f.clock, audit: f.services.audit }))
      await Promise.all(instances.map((m, i) => m.on({ actor: `user:${i}`, permissions: ['*'] }, { retryAfter: 10 + i })))
      const ordered = (await f.services.audit.list(f.ctx, { action: 'maintenance.on', limit: 20 })).data.reverse()
      expect(ordered).to.have.length(8)
      expect(ordered[0]?.before).to.deep.equal(MAINTENANCE_NEVER_SET)
      for (let i = 1; i < ordered.length; i++) expect(ordered[i]?.before).to.deep.equal(ordered[i - 1]?.after)
      expect(await f.services.maintenance.status(f.ctx)).to.deep.equal(ordered[7]?.after)
    })

    it('needs maintenance:read to read and maintenance:write to change: a viewer reads, an operator writes', async () => {
      const m = f.services.maintenance
      expect((await m.status(viewer)).enabled).to.equal(false)
      for (const attempt of [m.on(viewer), m.off(viewer)]) {
        const err = await rejection(attempt)
        expect(err.code).to.equal('FORBIDDEN')
        expect(err.details).to.deep.equal({ required: 'maintenance:write' })
      }
      expect((await rejection(m.status({ actor: 'anonymous', permissions: [] }))).code).to.equal('FORBIDDEN')
      expect((await m.on(operator)).enabled).to.equal(true)
      expect((await m.off(operator)).enabled).to.equal(false)
      expect((await f.services.audit.list(f.ctx, { actor: 'user:7' })).data).to.deep.equal([])
    })

    it('refuses a Retry-After outside 1..86400 s, a fractional one, and a message over 500 characters', async () => {
      const m = f.services.maintenance
      for (const input of [{ retryAfter: 0 }, { retryAfter: 86_401 }, { retryAfter: 1.5 }, { message: 'x'.repeat(501) }]) {
        expect((await rejection(m.on(f.ctx, input))).code, JSON.stringify(input).slice(0, 40)).to.equal('INVALID_INPUT')
      }
      expect((await m.on(f.ctx, { retryAfter: 86_400, message: 'x'.repeat(500) })).retryAfter).to.equal(86_400)
      expect((await m.on(f.ctx, { retryAfter: 1 })).retryAfter).to.equal(1)
    })

    it('current(): another instance sees a change once its clock has moved 1 s, not before; its own changes at once', async () => {
      const a = f.services.maintenance
      const b = createMaintenanceService({ knex: f.db.knex, clock: f.clock, audit: f.services.audit })
      expect((await b.current()).enabled).to.equal(false)
      await a.on(f.ctx, { retryAfter: 30 })
      expect(await a.current()).to.deep.include({ enabled: true, retryAfter: 30 })
      expect((await b.current()).enabled).to.equal(false)
      f.clock.advance(999)
      expect((await b.current()).enabled).to.equal(false)
      f.clock.advance(1)
      expect(await b.current()).to.deep.include({ enabled: true, retryAfter: 30 })
      expect((await a.current()).enabled).to.equal(true) // a read again at this time too

      await b.off(f.ctx)
      expect((await b.current()).enabled).to.equal(false)
      expect((await a.current()).enabled).to.equal(true)
      f.clock.advance(1000)
      expect((await a.current()).enabled).to.equal(false)
    })

    it('current(): many concurrent calls share one read per second', async () => {
      const m = createMaintenanceService({ knex: f.db.knex, clock: f.clock, audit: f.services.audit })
      let reads = 0
      const count = (q: { sql: string }): void => {
        if (q.sql.includes('gantry_settings')) reads += 1
      }
      f.db.knex.on('query', count)
      try {
        await Promise.all(Array.from({ length: 50 }, () => m.current()))
        await Promise.all(Array.from({ length: 50 }, () => m.current()))
        expect(reads).to.equal(1)
        f.clock.advance(1000)
        await Promise.all(Array.from({ length: 50 }, () => m.current()))
        expect(reads).to.equal(2)
      } finally {
        f.db.knex.off('query', count)
      }
    })
  })

  describe(`maintenance service on ${dialect} without Gantry's tables`, function () {
    it('reads as off (status, current, off) and refuses on with MIGRATION_PENDING', async function () {
      await requireDialect(this, dialect)
      const testDb = await createTestDatabase(dialect)
      const root = mkdtempSync(join(tmpdir(), 'gantry-maint-'))
      const db = await openDatabase(testDb.url, root)
      try {
        const clock = manualClock()
        const m = createMaintenanceService({ knex: db.knex, clock, audit: createAuditService({ knex: db.knex, clock }) })
        const local: ActorContext = { actor: 'local:test@host', permissions: ['*'] }
        expect(await m.current()).to.deep.equal(MAINTENANCE_NEVER_SET)
        expect(await m.status(local)).to.deep.equal(MAINTENANCE_NEVER_SET)
        expect(await m.off(local)).to.deep.equal(MAINTENANCE_NEVER_SET)
        const err = await rejection(m.on(local))
        expect(err.code).to.equal('MIGRATION_PENDING')
        expect(err.message).to.match(/no Gantry tables/)
        expect(await db.knex.schema.hasTable('gantry_settings')).to.equal(false)
      } finally {
        await db.close()
        await testDb.drop()
        rmSync(root, { recursive: true, force: true })
      }
    })
  })
}

describe('maintenance service when the database fails', function () {
  it('current() keeps the last state read through a failed read, and fails when it never read one', async () => {
    const f = await identityFixture('sqlite')
    try {
      const m = createMaintenanceService({ knex: f.db.knex, clock: f.clock, audit: f.services.audit })
      await f.services.maintenance.on(f.ctx, { retryAfter: 45 })
      expect(await m.current()).to.deep.include({ enabled: true, retryAfter: 45 })
      await f.db.knex.destroy()
      f.clock.advance(1000)
      expect(await m.current()).to.deep.include({ enabled: true, retryAfter: 45 })
      const fresh = createMaintenanceService({ knex: f.db.knex, clock: f.clock, audit: f.services.audit })
      expect(await rejection(fresh.current())).to.be.instanceOf(Error)
    } finally {
      await f.cleanup().catch(() => undefined)
    }
  })
})
