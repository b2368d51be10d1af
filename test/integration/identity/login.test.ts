import bcrypt from 'bcryptjs'
import { expect } from 'chai'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, rejection, STRONG, type IdentityFixture } from './fixture.js'

const MINUTE = 60_000

for (const dialect of DIALECTS) {
  describe(`users.verifyCredentials on ${dialect}`, function () {
    let f: IdentityFixture
    const login = (email: string, password: string) => f.services.users.verifyCredentials(email, password, { actor: 'ip:203.0.113.9', permissions: [], ip: '203.0.113.9' })
    const code = async (email: string, password: string) => (await rejection(login(email, password))).code
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
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

    it('an unknown email, a wrong password and a disabled account give the same error', async () => {
      await f.services.users.disable(f.ctx, 'bob@example.com')
      const errors = await Promise.all([
        rejection(login('nobody@example.com', STRONG)),
        rejection(login('ada@example.com', 'wrong password here')),
        rejection(login('bob@example.com', STRONG)),
        rejection(login('not an email', STRONG)),
      ])
      for (const e of errors) expect({ code: e.code, message: e.message }).to.deep.equal({ code: 'INVALID_CREDENTIALS', message: 'Wrong email or password.' })
    })

    it('an unknown email takes about as long as a wrong password (a dummy argon2id verify)', async () => {
      const time = async (email: string): Promise<number> => {
        const started = performance.now()
        await rejection(login(email, 'wrong password here'))
        return performance.now() - started
      }
      await time('nobody@example.com')
      const unknown: number[] = []
      const wrong: number[] = []
      for (let i = 0; i < 3; i++) {
        unknown.push(await time('nobody@example.com'))
        wrong.push(await time('bob@example.com'))
        await f.services.users.unlock(f.ctx, 'bob@example.com')
      }
      const median = (xs: number[]): number => xs.sort((a, b) => a - b)[1] as number
      // both are dominated by one argon2id verify with the OWASP parameters (~20+ ms)
      expect(median(unknown)).to.be.greaterThan(median(wrong) * 0.5)
    })

    it('locks that account only after 5 failures for 15 minutes; audits the lockout; unlock ends it', async () => {
      for (let i = 0; i < 5; i++) expect(await code('ada@example.com', `wrong password ${i}`)).to.equal('INVALID_CREDENTIALS')
      expect(await code('ada@example.com', STRONG)).to.equal('ACCOUNT_LOCKED')
      expect((await login('bob@example.com', STRONG)).email).to.equal('bob@example.com')
      const shown = await f.services.users.get(f.ctx, 'ada@example.com')
      expect(shown.lockedUntil).to.equal(new Date(f.clock.now() + 15 * MINUTE).toISOString())
      const locked = await f.db.knex('gantry_audit_log').where({ action: 'users.locked' })
      expect(locked).to.have.length(1)
      expect(locked[0]).to.include({ actor: 'ip:203.0.113.9', ip: '203.0.113.9', target_id: String(shown.id) })

      f.clock.advance(15 * MINUTE - 1)
      expect(await code('ada@example.com', STRONG)).to.equal('ACCOUNT_LOCKED')
      f.clock.advance(1)
      expect((await login('ada@example.com', STRONG)).lockedUntil).to.equal(null)

      for (let i = 0; i < 5; i++) await rejection(login('ada@example.com', 'wrong password here'))
      expect(await code('ada@example.com', STRONG)).to.equal('ACCOUNT_LOCKED')
      expect((await f.services.users.unlock(f.ctx, 'ada@example.com')).lockedUntil).to.equal(null)
      expect((await login('ada@example.com', STRONG)).email).to.equal('ada@example.com')
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
      await f.db.knex('gantry_users').insert({ email: 'old@example.com', name: '', role: 'viewer', status: 'active', password_hash: bcryptHash, created_at: now, updated_at: now })
      expect(await code('old@example.com', 'not the passphrase')).to.equal('INVALID_CREDENTIALS')
      await login('old@example.com', 'imported passphrase')
      const hashOf = async (email: string): Promise<string> => (await f.db.knex('gantry_users').where({ email }).first()).password_hash
      expect(await hashOf('old@example.com')).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      await login('old@example.com', 'imported passphrase')

      const { hash } = await import('@node-rs/argon2')
      const weak = await hash('weak params passphrase', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 })
      await f.db.knex('gantry_users').insert({ email: 'weak@example.com', name: '', role: 'viewer', status: 'active', password_hash: weak, created_at: now, updated_at: now })
      await login('weak@example.com', 'weak params passphrase')
      expect(await hashOf('weak@example.com')).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      const current = await hashOf('ada@example.com')
      await login('ada@example.com', STRONG)
      expect(await hashOf('ada@example.com')).to.equal(current)
    })

    it('a user without a password (imported) cannot log in', async () => {
      const now = f.clock.now()
      await f.db.knex('gantry_users').insert({ email: 'nopw@example.com', name: '', role: 'viewer', status: 'active', password_hash: null, created_at: now, updated_at: now })
      expect(await code('nopw@example.com', '')).to.equal('INVALID_CREDENTIALS')
    })
  })
}
