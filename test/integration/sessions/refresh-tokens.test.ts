import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { manualClock } from '../../../src/core/clock.js'
import { GantryError } from '../../../src/core/errors.js'
import { createRefreshTokens, type RefreshTokens } from '../../../src/core/sessions/refresh-tokens.service.js'
import { hashToken } from '../../../src/core/sessions/token-hash.js'
import { openDatabase, type Database } from '../../../src/db/connect.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import { familyRows, raceProblems } from '../../helpers/refresh-families.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'

const START = Date.UTC(2026, 0, 1)
const DAY = 24 * 60 * 60 * 1000

/** The reason a rotation was refused (kept on `cause` for logs; the message is always the same). */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    expect((err as GantryError).code).to.equal('TOKEN_INVALID')
    expect((err as GantryError).status).to.equal(401)
    expect((err as GantryError).message).to.equal('The refresh token is invalid or expired.')
    return ((err as GantryError).cause as Error).message.replace('refresh token refused: ', '')
  }
  throw new Error('expected TOKEN_INVALID')
}

for (const dialect of DIALECTS) {
  describe(`refresh tokens on ${dialect}`, function () {
    let testDb: TestDatabase | undefined
    let db: Database
    let root: string
    let k: Knex
    const clock = manualClock(START)
    let service: RefreshTokens
    let userCount = 0

    const newUser = async (): Promise<number> => {
      userCount++
      await k('gantry_users').insert({ email: `u${userCount}@example.test`, role: 'admin', created_at: START, updated_at: START })
      return Number(
        (
          await k('gantry_users')
            .where({ email: `u${userCount}@example.test` })
            .first('id')
        ).id,
      )
    }
    const rowsOf = (familyId: string) => familyRows(k, familyId)

    before(async function () {
      await requireDialect(this, dialect)
      testDb = await createTestDatabase(dialect)
      root = mkdtempSync(join(tmpdir(), 'gantry-sessions-'))
      db = await openDatabase(testDb.url, root)
      k = db.knex
      // Gantry's own migrations create the tables; the app set is an empty folder.
      await createMigrator({ db, appDirectory: root, appTable: 'knex_migrations', actor: 'test' }).latest()
    })
    after(async () => {
      if (!testDb) return
      await db.close()
      await testDb.drop()
      rmSync(root, { recursive: true, force: true })
    })
    beforeEach(() => {
      clock.set(START)
      service = createRefreshTokens({ knex: k, clock, ttlMs: 30 * DAY, absoluteMs: 90 * DAY, reuseGraceMs: 10_000 })
    })

    it('issues an opaque token and stores only its sha256', async () => {
      const user = await newUser()
      const issued = await service.issue(user, 0)
      expect(issued.token).to.match(/^grt_[0-9A-Za-z]{32}$/)
      expect(issued.expiresAt).to.equal(START + 30 * DAY)
      const row = await k('gantry_refresh_tokens').where({ family_id: issued.familyId }).first()
      expect(row.token_hash).to.equal(hashToken(issued.token))
      expect(JSON.stringify(row)).not.to.include(issued.token.slice(4))
      expect(Number(row.family_expires_at)).to.equal(START + 90 * DAY)
      expect(Number(row.user_id)).to.equal(user)
    })

    it('rotates along a chain: each successor works once, each carries its parent, user and epoch', async () => {
      const user = await newUser()
      const first = await service.issue(user, 0)
      let token = first.token
      for (let i = 0; i < 4; i++) {
        clock.advance(60_000)
        const next = await service.rotate(token)
        expect(next).to.include({ userId: user, sessionEpoch: 0, familyId: first.familyId, expiresAt: clock.now() + 30 * DAY })
        expect(next.token).not.to.equal(token)
        token = next.token
      }
      const rows = await rowsOf(first.familyId)
      expect(rows.map((r) => r.rotated)).to.deep.equal([true, true, true, true, false])
      expect(rows.map((r) => r.revoked)).to.deep.equal([false, false, false, false, false])
      expect(rows.slice(1).map((r) => r.parentId)).to.deep.equal(rows.slice(0, -1).map((r) => r.id))
    })

    it('refuses an unknown or malformed token without touching anything', async () => {
      expect(await refusal(service.rotate('grt_' + 'A'.repeat(32)))).to.equal('unknown')
      for (const bad of ['', 'grt_', 'grt_short', 'x'.repeat(36), `grt_${'A'.repeat(31)}!`, `grt_${'A'.repeat(33)}`])
        expect(await refusal(service.rotate(bad))).to.equal('malformed')
    })

    it('a replay after the 10 s window revokes the whole family: the live successor stops working', async () => {
      const user = await newUser()
      const first = await service.issue(user, 0)
      const second = await service.rotate(first.token)
      clock.advance(10_001)
      expect(await refusal(service.rotate(first.token))).to.equal('reused-family-revoked')
      expect(await refusal(service.rotate(second.token))).to.equal('revoked')
      expect((await rowsOf(first.familyId)).every((r) => r.revoked)).to.equal(true)
    })

    it('the immediate predecessor within 10 s is refused and the family stays intact', async () => {
      const user = await newUser()
      const first = await service.issue(user, 0)
      const second = await service.rotate(first.token)
      clock.advance(10_000) // the window is inclusive
      expect(await refusal(service.rotate(first.token))).to.equal('reused-in-grace')
      expect(await refusal(service.rotate(first.token))).to.equal('reused-in-grace')
      expect((await rowsOf(first.familyId)).some((r) => r.revoked)).to.equal(false)
      const third = await service.rotate(second.token)
      expect(third.familyId).to.equal(first.familyId)
    })

    it('an older ancestor is a reuse even within 10 s: the family is revoked', async () => {
      const user = await newUser()
      const first = await service.issue(user, 0)
      const second = await service.rotate(first.token)
      const third = await service.rotate(second.token)
      expect(await refusal(service.rotate(first.token))).to.equal('reused-family-revoked')
      expect(await refusal(service.rotate(third.token))).to.equal('revoked')
    })

    it('20 concurrent rotations of one token leave exactly one live successor; 19 are refused; the family is intact', async () => {
      // Five rounds; on MariaDB and PostgreSQL the pool runs up to 10 at once, so some lose the compare-and-set itself.
      const reasons: Record<string, number> = {}
      for (let round = 0; round < 5; round++) {
        const user = await newUser()
        const first = await service.issue(user, 0)
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => service.rotate(first.token)))
        const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<RefreshTokens['rotate']>>> => r.status === 'fulfilled')
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
        for (const r of lost) {
          expect(r.reason, String(r.reason?.stack)).to.be.instanceOf(GantryError)
          expect((r.reason as GantryError).code).to.equal('TOKEN_INVALID')
          const reason = ((r.reason as GantryError).cause as Error).message.replace('refresh token refused: ', '')
          reasons[reason] = (reasons[reason] ?? 0) + 1
        }
        expect(won).to.have.length(1)
        expect(lost).to.have.length(19)
        expect(raceProblems(await rowsOf(first.familyId), first.token, won[0]?.value.token)).to.deep.equal([])
        const next = await service.rotate(won[0]!.value.token)
        expect(next.familyId).to.equal(first.familyId)
      }
      expect(Object.keys(reasons).sort()).to.deep.equal(dialect === 'sqlite' ? ['reused-in-grace'] : ['lost-race', 'reused-in-grace'])
    })

    it('a replay racing rotations of the live token leaves no live token in the family', async () => {
      // On PostgreSQL an UPDATE that waited for a concurrent rotation does not see the successor it inserted:
      // the revocation must still reach it.
      for (let round = 0; round < 10; round++) {
        const user = await newUser()
        const first = await service.issue(user, 0)
        const second = await service.rotate(first.token)
        clock.advance(10_001)
        const results = await Promise.allSettled([
          ...Array.from({ length: 5 }, () => service.rotate(second.token)),
          ...Array.from({ length: 5 }, () => service.rotate(first.token)),
        ])
        const rows = await rowsOf(first.familyId)
        expect(
          rows.filter((r) => !r.revoked),
          `round ${round}`,
        ).to.deep.equal([])
        for (const r of results) if (r.status === 'fulfilled') expect(await refusal(service.rotate(r.value.token))).to.equal('revoked')
        for (const r of results) if (r.status === 'rejected') expect(r.reason, String(r.reason?.stack)).to.be.instanceOf(GantryError)
      }
    })

    it('a token expires after its lifetime', async () => {
      const user = await newUser()
      const short = createRefreshTokens({ knex: k, clock, ttlMs: 60_000, absoluteMs: DAY })
      const issued = await short.issue(user, 0)
      clock.advance(59_999)
      const next = await short.rotate(issued.token)
      clock.advance(60_000)
      expect(await refusal(short.rotate(next.token))).to.equal('expired')
      expect((await rowsOf(issued.familyId)).some((r) => r.revoked)).to.equal(false)
    })

    it('a family ends at its absolute lifetime, however often it rotates; successors never outlive it', async () => {
      const user = await newUser()
      const capped = createRefreshTokens({ knex: k, clock, ttlMs: 40_000, absoluteMs: 100_000 })
      let token = (await capped.issue(user, 0)).token
      for (const expected of [START + 70_000, START + 100_000, START + 100_000]) {
        clock.advance(30_000)
        const next = await capped.rotate(token)
        expect(next.expiresAt).to.equal(expected)
        token = next.token
      }
      expect(clock.now()).to.equal(START + 90_000)
      clock.advance(10_000)
      expect(await refusal(capped.rotate(token))).to.equal('expired')
    })

    it('a bumped session epoch or a disabled user stops rotation at once', async () => {
      const bumped = await newUser()
      const a = await service.issue(bumped, 0)
      await k('gantry_users').where({ id: bumped }).update({ session_epoch: 1 })
      expect(await refusal(service.rotate(a.token))).to.equal('user')
      const current = await service.issue(bumped, 1)
      expect((await service.rotate(current.token)).sessionEpoch).to.equal(1)

      const disabled = await newUser()
      const b = await service.issue(disabled, 0)
      await k('gantry_users').where({ id: disabled }).update({ status: 'disabled' })
      expect(await refusal(service.rotate(b.token))).to.equal('user')
      await k('gantry_users').where({ id: disabled }).update({ status: 'active' })
      await service.rotate(b.token) // refusals for the user's state revoke nothing
    })

    it('revokeFamily (logout) ends one session and leaves the others', async () => {
      const user = await newUser()
      const phone = await service.issue(user, 0)
      const laptop = await service.issue(user, 0)
      const phone2 = await service.rotate(phone.token)
      expect((await service.revokeFamily(phone2.token)).revoked).to.equal(2)
      expect(await refusal(service.rotate(phone2.token))).to.equal('revoked')
      expect((await service.revokeFamily(phone2.token)).revoked).to.equal(0)
      expect((await service.revokeFamily('grt_' + 'B'.repeat(32))).revoked).to.equal(0)
      expect((await service.revokeFamily('nonsense')).revoked).to.equal(0)
      await service.rotate(laptop.token)
    })

    it('revokeAllForUser ends every live session of that user only', async () => {
      const user = await newUser()
      const other = await newUser()
      const a = await service.issue(user, 0)
      const b = await service.rotate((await service.issue(user, 0)).token)
      const c = await service.issue(other, 0)
      expect(await service.revokeAllForUser(user)).to.equal(2)
      expect(await refusal(service.rotate(a.token))).to.equal('revoked')
      expect(await refusal(service.rotate(b.token))).to.equal('revoked')
      await service.rotate(c.token)
      expect(await service.revokeAllForUser(user)).to.equal(0)
    })
  })
}
