/**
 * The worker's retention of refresh tokens (auth.expiredTokenRetention), audit entries (audit.retention) and migration-run records
 * (migrations.runRetention), on every dialect: only sessions long over go, a family with a live token keeps
 * its rotated rows (so their reuse still revokes it), and the runs status, edit detection and backups read
 * stay; batches are bounded.
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { RUNS_TABLE } from '../../../src/db/migrator/tracking.js'
import { pruneMigrationRuns } from '../../../src/db/migrator/run-retention.js'
import { insertToken } from '../../../src/core/sessions/refresh-tokens.repo.js'
import { createRefreshTokens } from '../../../src/core/sessions/refresh-tokens.service.js'
import { hashToken } from '../../../src/core/sessions/token-hash.js'
import { expiredTokenPruner } from '../../../src/core/sessions/token-retention.js'
import { GantryError } from '../../../src/core/errors.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'

const DAY = 86_400_000

for (const dialect of DIALECTS) {
  describe(`housekeeping on ${dialect}`, function () {
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    /** A new user's row, its id read back (the service answers with the public view). */
    const userId = async (email: string): Promise<{ id: number }> => {
      await f.services.users.create(f.ctx, { email, role: 'viewer', password: STRONG })
      const row = (await f.db.knex('gantry_users').where({ email }).first('id')) as { id: number | string }
      return { id: Number(row.id) }
    }

    it('refresh tokens: only families over for longer than the retention go; a live family keeps its rotated rows and their reuse still revokes it', async () => {
      const k = f.db.knex
      const user = await userId('a@example.com')
      const now = f.clock.now()
      const tokens = new Map<string, string>()
      let n = 0
      /** A row of `family`, created `created` ms ago, expiring at `expires` (relative to now), rotated or revoked `at` ms ago. */
      const row = async (family: string, o: { created: number; expires: number; rotated?: number; revoked?: number; parent?: number }) => {
        const token = `grt_${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x').slice(0, 32)}`
        tokens.set(`${family}${n++}`, token)
        await insertToken(k, {
          userId: user.id,
          familyId: family,
          tokenHash: hashToken(token),
          parentId: o.parent ?? null,
          sessionEpoch: 0,
          expiresAt: now + o.expires,
          familyExpiresAt: now + 90 * DAY,
          createdAt: now - o.created,
        })
        const [{ id }] = (await k('gantry_refresh_tokens').max({ id: 'id' })) as [{ id: number | string }]
        if (o.rotated !== undefined)
          await k('gantry_refresh_tokens')
            .where({ id })
            .update({ rotated_at: now - o.rotated })
        if (o.revoked !== undefined)
          await k('gantry_refresh_tokens')
            .where({ id })
            .update({ revoked_at: now - o.revoked })
        return { id: Number(id), token }
      }
      // Over 8 days ago (retention 7d): goes, both rows.
      const gone1 = await row('over', { created: 40 * DAY, expires: -10 * DAY, rotated: 38 * DAY })
      const gone2 = await row('over', { created: 38 * DAY, expires: -8 * DAY, parent: gone1.id })
      // Live head: its rotated predecessor, expired 20 days ago, stays.
      const oldRotated = await row('live', { created: 50 * DAY, expires: -20 * DAY, rotated: 49 * DAY })
      await row('live', { created: 1 * DAY, expires: 29 * DAY, parent: oldRotated.id })
      // Expired 30 days ago but revoked an hour ago: stays (its access tokens are refused through it).
      await row('revoked', { created: 60 * DAY, expires: -30 * DAY, revoked: 3_600_000 })
      // Expired 3 days ago: within the retention.
      await row('recent', { created: 33 * DAY, expires: -3 * DAY })

      const prune = expiredTokenPruner(k, { issuer: 'i', audience: 'a', accessTokenTtl: '15m', refreshTokenTtl: '30d', expiredTokenRetention: '7d' }, 1)
      expect(await prune(now)).to.equal(1)
      expect(await prune(now)).to.equal(1)
      expect(await prune(now)).to.equal(0)
      const left = (await k('gantry_refresh_tokens').select('id', 'family_id')) as Array<{ id: number | string; family_id: string }>
      expect(left.map((r) => r.family_id).sort()).to.deep.equal(['live', 'live', 'recent', 'revoked'])
      expect(left.map((r) => Number(r.id))).to.not.include.members([gone1.id, gone2.id])

      // Presenting the old rotated token is still a reuse: the live family is revoked.
      const refresh = createRefreshTokens({ knex: k, clock: f.clock })
      const err = await refresh.rotate(oldRotated.token).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(GantryError)
      expect(String((err as GantryError).cause)).to.include('reused-family-revoked')
      const live = (await k('gantry_refresh_tokens').where({ family_id: 'live' }).select('revoked_at')) as Array<{ revoked_at: unknown }>
      expect(live.every((r) => r.revoked_at !== null)).to.equal(true)
    })

    it('a retention shorter than an access token lives is not enough to drop a revoked family', async () => {
      const k = f.db.knex
      const user = await userId('b@example.com')
      const now = f.clock.now()
      await insertToken(k, {
        userId: user.id,
        familyId: 'ended',
        tokenHash: hashToken('grt_x'),
        parentId: null,
        sessionEpoch: 0,
        expiresAt: now - 2 * 3_600_000,
        familyExpiresAt: now - 2 * 3_600_000,
        createdAt: now - 3 * 3_600_000,
      })
      await k('gantry_refresh_tokens').update({ revoked_at: now - 2 * 3_600_000 })
      const auth = { issuer: 'i', audience: 'a', accessTokenTtl: '15m', refreshTokenTtl: '30d', maxTokenTtl: '24h', expiredTokenRetention: '1h' }
      expect(await expiredTokenPruner(k, auth, 10)(now)).to.equal(0)
      expect(await expiredTokenPruner(k, auth, 10)(now + DAY)).to.equal(1)
    })

    it('audit entries: those older than audit.retention go, in one `audit.pruned` entry by system:retention; `forever` keeps every one', async () => {
      const k = f.db.knex
      const now = f.clock.now()
      const entry = (ageDays: number, i: number) => ({
        at: now - ageDays * DAY,
        actor: 'local:test@host',
        action: 'users.update',
        target_type: 'user',
        target_id: String(i),
      })
      await k('gantry_audit_log').insert([entry(200, 1), entry(91, 2), entry(89, 3), entry(1, 4)])
      const runAll = async () => {
        for (const task of f.services.housekeeping) await task(f.clock.now())
      }
      await runAll()
      const left = (await k('gantry_audit_log').where({ action: 'users.update' }).orderBy('target_id').pluck('target_id')) as string[]
      expect(left).to.deep.equal(['3', '4'])
      const pruned = (await k('gantry_audit_log').where({ action: 'audit.pruned' })) as Array<{ actor: string; after: string }>
      expect(pruned).to.have.length(1)
      expect(pruned[0]!.actor).to.equal('system:retention')
      expect(JSON.parse(pruned[0]!.after)).to.include({ count: 2, olderThan: '90d' })
      // A pass that finds nothing old records nothing.
      await runAll()
      expect(await k('gantry_audit_log').where({ action: 'audit.pruned' }).count({ n: '*' })).to.deep.equal([{ n: dialect === 'postgres' ? '1' : 1 }])

      const forever = await identityFixture(dialect, { auditRetention: 'forever' })
      try {
        await forever.db.knex('gantry_audit_log').insert(entry(3650, 9))
        for (const task of forever.services.housekeeping) await task(forever.clock.now())
        expect(await forever.db.knex('gantry_audit_log').where({ target_id: '9' }).first()).to.not.equal(undefined)
      } finally {
        await forever.cleanup()
      }
    })

    it('migration runs: old records go, except the latest of each migration and the runs its checksum is read from', async () => {
      const k = f.db.knex
      const gantryRuns = ((await k(RUNS_TABLE).select('id')) as Array<{ id: number | string }>).map((r) => Number(r.id))
      expect(gantryRuns.length).to.be.above(0)
      const old = new Date(Date.UTC(2020, 0, 1))
      const recent = new Date()
      const run = async (name: string, direction: string, status: string, checksum: string | null, startedAt: Date): Promise<number> => {
        await k(RUNS_TABLE).insert({ migration_set: 'app', name, direction, status, checksum, batch: 1, actor: 't', started_at: startedAt })
        const [{ id }] = (await k(RUNS_TABLE).max({ id: 'id' })) as [{ id: number | string }]
        return Number(id)
      }
      const a1 = await run('a.ts', 'up', 'done', 'c1', old)
      const a2 = await run('a.ts', 'down', 'done', null, old)
      const a3 = await run('a.ts', 'up', 'done', 'c2', old)
      // The applying run with its checksum, a later failed up (what a backup's manifest would read), then the latest.
      const b1 = await run('b.ts', 'up', 'done', 'b1', old)
      const b0 = await run('b.ts', 'up', 'done', 'b0', old)
      const b2 = await run('b.ts', 'up', 'failed', 'b2', old)
      const b3 = await run('b.ts', 'down', 'failed', null, old)
      const c1 = await run('c.ts', 'up', 'done', 'c', old)
      const c2 = await run('c.ts', 'up', 'done', 'c', recent)
      const before = new Date(Date.now() - 365 * DAY)
      expect(await pruneMigrationRuns(k, before, 3)).to.equal(3)
      expect(await pruneMigrationRuns(k, before, 3)).to.equal(1)
      expect(await pruneMigrationRuns(k, before, 3)).to.equal(0)
      const left = ((await k(RUNS_TABLE).select('id')) as Array<{ id: number | string }>).map((r) => Number(r.id)).sort((x, y) => x - y)
      expect(left).to.deep.equal([...gantryRuns, a3, b0, b2, b3, c2].sort((x, y) => x - y))
      expect([a1, a2, b1, c1].some((id) => left.includes(id))).to.equal(false)
      // Gantry's own migrations still read as applied, with their checksums.
      const { createMigrator } = await import('../../../src/db/migrator/index.js')
      const status = await createMigrator({ db: f.db, appDirectory: '/nonexistent', appTable: 'knex_migrations' }).status()
      expect(status.migrations.filter((m) => m.set === 'gantry').every((m) => m.state === 'applied')).to.equal(true)
    })
  })
}
