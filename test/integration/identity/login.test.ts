import { hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import { expect } from 'chai'
import type { ActorContext } from '../../../src/core/context.js'
import { argon2Hasher } from '../../../src/core/users/passwords.js'
import { selectHashFamilies } from '../../../src/core/users/users.repo.js'
import { fakeLoginTimer } from '../../helpers/login-timer.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

const MINUTE = 60_000
const AUTH = { secret: 'a test secret of at least thirty-two bytes', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' }
const FROM_OUTSIDE: ActorContext = { actor: 'ip:203.0.113.9', permissions: [], ip: '203.0.113.9' }
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

for (const dialect of DIALECTS) {
  describe(`users.verifyCredentials on ${dialect}`, function () {
    let f: IdentityFixture
    /** Each verify "takes" 150 ms on it, so the floor is seen to count from the attempt's start. */
    let timer: ReturnType<typeof fakeLoginTimer>
    /** Runs while a password is being verified: a change that races the login. */
    let duringVerify: (() => Promise<unknown>) | undefined
    const login = (email: string, password: string) => f.services.users.verifyCredentials(email, password, FROM_OUTSIDE)
    const code = async (email: string, password: string) => (await rejection(login(email, password))).code
    /** The refusal and the wait before it: every one is the same answer after the same time. */
    const refusal = async (email: string, password: string) => {
      const started = timer.now()
      const err = await rejection(login(email, password))
      return { code: err.code, message: err.message, details: err.details, answeredAfter: timer.now() - started }
    }
    /** Bob disabled, and nopw@example.com an account with no password. */
    const refusedKinds = async (): Promise<void> => {
      await f.services.users.disable(f.ctx, 'bob@example.com')
      const now = f.clock.now()
      await f.db
        .knex('gantry_users')
        .insert({ email: 'nopw@example.com', name: '', role: 'viewer', status: 'active', password_hash: null, created_at: now, updated_at: now })
    }
    beforeEach(async function () {
      await requireDialect(this, dialect)
      timer = fakeLoginTimer()
      const real = argon2Hasher()
      duringVerify = undefined
      const hasher = {
        hash: real.hash,
        verify: async (stored: string, password: string) => {
          await duringVerify?.()
          return real.verify(stored, password).finally(() => timer.advance(150))
        },
      }
      f = await identityFixture(dialect, { loginFloor: '400ms', loginTimer: timer, hasher, auth: AUTH })
      await f.services.users.create(f.ctx, { email: 'ada@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'bob@example.com', role: 'viewer', password: STRONG })
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('logs in with any case of the email, resets the counter and records the last login', async () => {
      expect(await code('ada@example.com', 'wrong password here')).to.equal('INVALID_CREDENTIALS')
      f.clock.advance(1000)
      const user = await login(' ADA@example.com', STRONG)
      expect(user.lastLoginAt).to.equal(new Date(f.clock.now()).toISOString())
      const row = await f.db.knex('gantry_users').where({ email: 'ada@example.com' }).first()
      expect(Number(row.failed_logins)).to.equal(0)
      expect(Number(row.last_login_at)).to.equal(f.clock.now())
    })

    it('every refusal (unknown, wrong password, disabled, no password, not an email) is one answer, when the floor has passed since the attempt began', async () => {
      await refusedKinds()
      const refusals = [
        await refusal('nobody@example.com', STRONG),
        await refusal('ada@example.com', 'wrong password here'),
        await refusal('bob@example.com', STRONG),
        await refusal('nopw@example.com', ''),
        await refusal('not an email', STRONG),
      ]
      for (const r of refusals)
        expect(r).to.deep.equal({ code: 'INVALID_CREDENTIALS', message: 'Wrong email or password.', details: undefined, answeredAfter: 400 })
      // Waits of 400 ms with no verify, 250 ms after one: a timer, not dummy hashing.
      expect(timer.slept).to.deep.equal([400, 250, 250, 400, 400])
      await login('ada@example.com', STRONG)
      expect(timer.slept, 'a success does not wait').to.have.length(5)
    })

    it('audits each refusal with its reason and address, never the text typed as the email; a login through the session as its user', async () => {
      await refusedKinds()
      const ada = await f.services.users.get(f.ctx, 'ada@example.com')
      const bob = await f.services.users.get(f.ctx, 'bob@example.com')
      const nopw = await f.services.users.get(f.ctx, 'nopw@example.com')
      const typed = 'my-password-in-the-email-field@example.com'
      await rejection(login(typed, STRONG))
      await rejection(login('ada@example.com', 'wrong password here'))
      await rejection(login('bob@example.com', STRONG))
      await rejection(login('nopw@example.com', ''))
      for (let i = 0; i < 5; i++) await rejection(login('ada@example.com', 'wrong password here'))
      await f.services.users.unlock(f.ctx, 'ada@example.com')
      const tokens = await f.services.sessions.login('ada@example.com', STRONG, FROM_OUTSIDE)

      const rows = await f.db.knex('gantry_audit_log').whereIn('action', ['sessions.login', 'sessions.login-failed']).orderBy('id')
      const entries = rows.map((r: Record<string, unknown>) => [
        r.actor,
        r.action,
        r.target_id,
        r.ip,
        JSON.parse(String(r.after)).reason ?? JSON.parse(String(r.after)).method,
      ])
      const refused = (id: number | string, reason: string) => ['ip:203.0.113.9', 'sessions.login-failed', String(id), '203.0.113.9', reason]
      expect(entries).to.deep.equal([
        refused('', 'unknown-account'),
        refused(ada.id, 'wrong-password'),
        refused(bob.id, 'disabled'),
        refused(nopw.id, 'no-password'),
        ...Array.from({ length: 4 }, () => refused(ada.id, 'wrong-password')),
        // The fifth wrong password locks the account; the sixth attempt meets the lock.
        refused(ada.id, 'locked'),
        [`user:${ada.id}`, 'sessions.login', String(ada.id), '203.0.113.9', 'password'],
      ])
      expect(JSON.stringify(rows)).not.to.include(typed)
      const claims = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1] as string, 'base64url').toString()) as { sid: string }
      expect(JSON.parse(String(rows.at(-1).after))).to.deep.equal({ method: 'password', session: claims.sid })
    })

    it('an account disabled or deleted while its password is checked gets no session, audited as disabled or gone', async () => {
      const bob = await f.services.users.get(f.ctx, 'bob@example.com')
      duringVerify = () => f.db.knex('gantry_users').where({ id: bob.id }).update({ status: 'disabled' })
      expect((await rejection(f.services.sessions.login('bob@example.com', STRONG, FROM_OUTSIDE))).code).to.equal('INVALID_CREDENTIALS')
      const ada = await f.services.users.get(f.ctx, 'ada@example.com')
      duringVerify = () => f.db.knex('gantry_users').where({ id: ada.id }).delete()
      expect((await rejection(f.services.sessions.login('ada@example.com', STRONG, FROM_OUTSIDE))).code).to.equal('INVALID_CREDENTIALS')
      const rows = await f.db.knex('gantry_audit_log').where({ action: 'sessions.login-failed' }).orderBy('id')
      expect(rows.map((r: Record<string, unknown>) => [r.target_id, JSON.parse(String(r.after)).reason])).to.deep.equal([
        [String(bob.id), 'disabled'],
        [String(ada.id), 'gone'],
      ])
      expect(await f.db.knex('gantry_refresh_tokens').count({ n: '*' }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 0)
    })

    it('a timer that wakes early is slept on again: never sooner than the floor', async () => {
      timer.wakeEarlyBy = 1
      expect((await refusal('nobody@example.com', STRONG)).answeredAfter).to.equal(400)
      expect(timer.slept).to.deep.equal([400, 1])
    })

    it('locks that account only after 5 failures for 15 minutes, answering even the right password as a wrong one; audits the lockout; unlock ends it', async () => {
      for (let i = 0; i < 5; i++) expect(await code('ada@example.com', `wrong password ${i}`)).to.equal('INVALID_CREDENTIALS')
      const wrong = await refusal('ada@example.com', 'wrong password here')
      const right = await refusal('ada@example.com', STRONG)
      expect(right).to.deep.equal(wrong)
      expect(right).to.deep.equal(await refusal('nobody@example.com', STRONG))
      expect(right).to.deep.equal({ code: 'INVALID_CREDENTIALS', message: 'Wrong email or password.', details: undefined, answeredAfter: 400 })
      expect((await login('bob@example.com', STRONG)).email).to.equal('bob@example.com')
      const shown = await f.services.users.get(f.ctx, 'ada@example.com')
      expect(shown.lockedUntil, 'guesses during the lockout neither extend it nor count').to.equal(new Date(f.clock.now() + 15 * MINUTE).toISOString())
      expect(Number((await f.db.knex('gantry_users').where({ email: 'ada@example.com' }).first()).failed_logins)).to.equal(0)
      const locked = await f.db.knex('gantry_audit_log').where({ action: 'users.locked' })
      expect(locked).to.have.length(1)
      expect(locked[0]).to.include({ actor: 'ip:203.0.113.9', ip: '203.0.113.9', target_id: String(shown.id) })

      f.clock.advance(15 * MINUTE - 1)
      expect(await code('ada@example.com', STRONG)).to.equal('INVALID_CREDENTIALS')
      f.clock.advance(1)
      expect((await login('ada@example.com', STRONG)).lockedUntil).to.equal(null)

      for (let i = 0; i < 5; i++) await rejection(login('ada@example.com', 'wrong password here'))
      expect(await code('ada@example.com', STRONG)).to.equal('INVALID_CREDENTIALS')
      expect((await f.services.users.unlock(f.ctx, 'ada@example.com')).lockedUntil).to.equal(null)
      expect((await login('ada@example.com', STRONG)).email).to.equal('ada@example.com')
    })

    it('finds each hash family in the table once, whatever the salts', async () => {
      const now = f.clock.now()
      const hashes = [
        await bcrypt.hash('a', 4),
        await bcrypt.hash('b', 4),
        (await bcrypt.hash('c', 5)).replace(/^\$2.\$/, '$2y$'),
        await argon2Hash('d', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 }),
        await argon2Hash('e', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 }),
        await argon2Hash('f', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 12 }),
        await argon2Hash('g', { algorithm: 1, memoryCost: 4096, timeCost: 1, parallelism: 1 }),
        null,
        'not a hash',
      ]
      await f.db.knex('gantry_users').insert(
        hashes.map((password_hash, i) => ({
          email: `h${i}@example.com`,
          name: '',
          role: 'viewer',
          status: 'active',
          password_hash,
          created_at: now,
          updated_at: now,
        })),
      )
      expect((await selectHashFamilies(f.db.knex)).sort()).to.deep.equal([
        '$2b$04$',
        '$2y$05$',
        '$argon2i$v=19$m=4096,t=1,p=1$',
        '$argon2id$v=19$m=19456,t=2,p=1$', // ada and bob
        '$argon2id$v=19$m=4096,t=1,p=1$',
        '$argon2id$v=19$m=4096,t=1,p=12$',
      ])
    })

    it('4 failures then a success start the count again', async () => {
      for (let i = 0; i < 4; i++) await rejection(login('ada@example.com', 'wrong password here'))
      await login('ada@example.com', STRONG)
      for (let i = 0; i < 4; i++) await rejection(login('ada@example.com', 'wrong password here'))
      expect((await login('ada@example.com', STRONG)).email).to.equal('ada@example.com')
    })

    it('an imported bcrypt hash logs in and is re-hashed to argon2id; a weak argon2 hash too', async () => {
      const now = f.clock.now()
      const bcryptHash = await bcrypt.hash('imported passphrase', 4)
      await f.db
        .knex('gantry_users')
        .insert({ email: 'old@example.com', name: '', role: 'viewer', status: 'active', password_hash: bcryptHash, created_at: now, updated_at: now })
      expect(await code('old@example.com', 'not the passphrase')).to.equal('INVALID_CREDENTIALS')
      await login('old@example.com', 'imported passphrase')
      const hashOf = async (email: string): Promise<string> => (await f.db.knex('gantry_users').where({ email }).first()).password_hash
      expect(await hashOf('old@example.com')).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      await login('old@example.com', 'imported passphrase')

      const { hash } = await import('@node-rs/argon2')
      const weak = await hash('weak params passphrase', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 })
      await f.db
        .knex('gantry_users')
        .insert({ email: 'weak@example.com', name: '', role: 'viewer', status: 'active', password_hash: weak, created_at: now, updated_at: now })
      await login('weak@example.com', 'weak params passphrase')
      expect(await hashOf('weak@example.com')).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      const current = await hashOf('ada@example.com')
      await login('ada@example.com', STRONG)
      expect(await hashOf('ada@example.com')).to.equal(current)
    })
  })
}

describe('the login floor, in real time (sqlite)', function () {
  let f: IdentityFixture
  afterEach(async () => {
    await f?.cleanup()
  })

  it('measured from the hashes present: an unknown email answers no sooner than an imported bcrypt cost-12 account, nor than an argon2id one', async function () {
    this.timeout(60_000)
    // No lockout here: every attempt must reach the verify.
    f = await identityFixture('sqlite', { lockout: { maxFailures: 1000 } })
    const now = f.clock.now()
    await f.services.users.create(f.ctx, { email: 'argon2@example.com', role: 'viewer', password: STRONG })
    await f.db.knex('gantry_users').insert({
      email: 'bcrypt@example.com',
      name: '',
      role: 'viewer',
      status: 'active',
      password_hash: await bcrypt.hash(STRONG, 12),
      created_at: now,
      updated_at: now,
    })
    const time = async (email: string): Promise<number> => {
      const started = performance.now()
      await rejection(f.services.users.verifyCredentials(email, 'wrong password here', FROM_OUTSIDE))
      return performance.now() - started
    }
    await time('nobody@example.com') // the first refusal measures the floor
    const stored = (await f.db.knex('gantry_users').where({ email: 'bcrypt@example.com' }).first()).password_hash as string
    const verifyOnce = async (): Promise<number> => {
      const started = performance.now()
      await bcrypt.compare('wrong password here', stored)
      return performance.now() - started
    }
    // The quicker of two: one verify when this busy machine is least busy.
    const bcryptVerify = Math.min(await verifyOnce(), await verifyOnce())
    const ms = { unknown: [] as number[], bcrypt12: [] as number[], argon2id: [] as number[] }
    for (let i = 0; i < 3; i++) {
      ms.unknown.push(await time('nobody@example.com'))
      ms.bcrypt12.push(await time('bcrypt@example.com'))
      ms.argon2id.push(await time('argon2@example.com'))
    }
    const report =
      `one bcrypt-12 verify ${bcryptVerify.toFixed(0)} ms; ` +
      Object.entries(ms)
        .map(([k, v]) => `${k} ${v.map((x) => x.toFixed(0)).join('/')} (median ${median(v).toFixed(0)})`)
        .join('; ')
    console.log(`      ${report}`)
    // Lower bounds only (a busy machine makes everything slower, never faster): the floor is 1.5 bcrypt verifies + 50 ms.
    for (const answer of [...ms.unknown, ...ms.argon2id]) expect(answer, report).to.be.at.least(bcryptVerify)
    expect(Math.abs(median(ms.unknown) - median(ms.bcrypt12)), report).to.be.below(0.2 * median(ms.unknown))
    expect(Math.abs(median(ms.unknown) - median(ms.argon2id)), report).to.be.below(0.2 * median(ms.unknown))
  })
})
