import { expect } from 'chai'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { countUsers } from '../../../src/core/users/users.repo.js'

for (const dialect of DIALECTS) {
  describe(`users service on ${dialect}`, function () {
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('creates with a normalised email, shows, updates, disables, enables and deletes', async () => {
      const { user, password } = await f.services.users.create(f.ctx, { email: '  Ada@Example.COM ', name: 'Ada', role: 'admin', password: STRONG })
      expect(password).to.equal(undefined)
      expect(user).to.include({ email: 'ada@example.com', name: 'Ada', role: 'admin', status: 'active', lockedUntil: null, lastLoginAt: null })
      expect(user).to.not.have.property('password_hash')
      expect(user.createdAt).to.equal(new Date(f.clock.now()).toISOString())
      expect(await f.services.users.get(f.ctx, 'ADA@example.com')).to.deep.equal(user)

      await f.services.users.create(f.ctx, { email: 'bob@example.com', role: 'viewer', password: STRONG })
      const updated = await f.services.users.update(f.ctx, 'bob@example.com', { name: 'Bob', email: 'Robert@Example.com', role: 'operator' })
      expect(updated).to.include({ name: 'Bob', email: 'robert@example.com', role: 'operator' })
      const epoch = async (): Promise<number> => Number((await f.db.knex('gantry_users').where({ id: updated.id }).first()).session_epoch)
      expect(await epoch()).to.equal(0)
      expect((await f.services.users.disable(f.ctx, 'robert@example.com')).status).to.equal('disabled')
      expect(await epoch()).to.equal(1)
      expect((await f.services.users.enable(f.ctx, 'robert@example.com')).status).to.equal('active')
      expect((await f.services.users.delete(f.ctx, 'robert@example.com')).deleted.email).to.equal('robert@example.com')
      expect((await rejection(f.services.users.get(f.ctx, 'robert@example.com'))).code).to.equal('USER_NOT_FOUND')
    })

    it('a duplicate email in any case or spacing is USER_EXISTS, on create and on update', async () => {
      await f.services.users.create(f.ctx, { email: 'ada@example.com', role: 'admin', password: STRONG })
      const dup = await rejection(f.services.users.create(f.ctx, { email: ' ADA@example.com\t', role: 'viewer', password: STRONG }))
      expect(dup.code).to.equal('USER_EXISTS')
      await f.services.users.create(f.ctx, { email: 'bob@example.com', role: 'viewer', password: STRONG })
      expect((await rejection(f.services.users.update(f.ctx, 'bob@example.com', { email: 'Ada@Example.com' }))).code).to.equal('USER_EXISTS')
      const concurrent = await Promise.allSettled([1, 2, 3].map(() => f.services.users.create(f.ctx, { email: 'race@example.com', password: STRONG })))
      expect(concurrent.filter((r) => r.status === 'fulfilled')).to.have.length(1)
      for (const r of concurrent) if (r.status === 'rejected') expect((r.reason as { code: string }).code).to.equal('USER_EXISTS')
    })

    it('refuses bad input: an invalid email, an unknown role, an empty update', async () => {
      expect((await rejection(f.services.users.create(f.ctx, { email: 'not-an-email', password: STRONG }))).code).to.equal('INVALID_INPUT')
      expect((await rejection(f.services.users.create(f.ctx, { email: 'a@example.com', role: 'nope', password: STRONG }))).code).to.equal('ROLE_NOT_FOUND')
      await f.services.users.create(f.ctx, { email: 'a@example.com', password: STRONG })
      expect((await rejection(f.services.users.update(f.ctx, 'a@example.com', {}))).code).to.equal('INVALID_INPUT')
      expect((await rejection(f.services.users.create(f.ctx, { email: 'b@example.com' }))).code).to.equal('MISSING_INPUT')
    })

    it('password policy: short, common and too long refused; 12 and 64 characters accepted; generated ones returned once', async () => {
      const create = (email: string, password: string) => f.services.users.create(f.ctx, { email, password })
      for (const bad of ['short1', 'password1234', 'Password1234', 'x'.repeat(129)]) {
        expect((await rejection(create('p@example.com', bad))).code, bad).to.equal('PASSWORD_POLICY')
      }
      await create('twelve@example.com', 'abcdefgh1234')
      await create('long@example.com', 'a long passphrase '.repeat(4).slice(0, 64))
      await create('max@example.com', 'y'.repeat(128))
      const generated = await f.services.users.create(f.ctx, { email: 'gen@example.com', generatePassword: true })
      expect(generated.password).to.be.a('string').with.length.at.least(20)
      expect((await f.services.users.verifyCredentials('gen@example.com', generated.password as string, f.ctx)).email).to.equal('gen@example.com')
      const reset = await f.services.users.setPassword(f.ctx, 'gen@example.com', { password: STRONG })
      expect(reset.password).to.equal(undefined)
      expect((await rejection(f.services.users.verifyCredentials('gen@example.com', generated.password as string, f.ctx))).code).to.equal('INVALID_CREDENTIALS')
      expect(Number((await f.db.knex('gantry_users').where({ email: 'gen@example.com' }).first()).session_epoch)).to.equal(1)
    })

    it('a configured minimum length applies', async () => {
      const strict = await identityFixture(dialect, { passwordPolicy: { minLength: 16 } })
      try {
        expect((await rejection(strict.services.users.create(strict.ctx, { email: 'a@example.com', password: 'fifteen chars!!' }))).code).to.equal(
          'PASSWORD_POLICY',
        )
        await strict.services.users.create(strict.ctx, { email: 'a@example.com', password: 'sixteen chars!!!' })
      } finally {
        await strict.cleanup()
      }
    })

    it('the last active admin cannot be deleted, disabled or demoted; with another admin they can', async () => {
      await f.services.users.create(f.ctx, { email: 'root@example.com', role: 'admin', password: STRONG })
      for (const attempt of [
        () => f.services.users.delete(f.ctx, 'root@example.com'),
        () => f.services.users.disable(f.ctx, 'root@example.com'),
        () => f.services.users.update(f.ctx, 'root@example.com', { role: 'viewer' }),
      ]) {
        expect((await rejection(attempt())).code).to.equal('LAST_ADMIN')
      }
      // a disabled admin does not count
      await f.services.users.create(f.ctx, { email: 'second@example.com', role: 'admin', password: STRONG })
      await f.services.users.disable(f.ctx, 'second@example.com')
      expect((await rejection(f.services.users.delete(f.ctx, 'root@example.com'))).code).to.equal('LAST_ADMIN')
      // a custom role with * counts as admin
      await f.services.roles.create(f.ctx, { name: 'superuser', permissions: ['*'] })
      await f.services.users.update(f.ctx, 'second@example.com', { role: 'superuser' })
      await f.services.users.enable(f.ctx, 'second@example.com')
      await f.services.users.update(f.ctx, 'root@example.com', { role: 'viewer' })
      expect((await rejection(f.services.users.delete(f.ctx, 'second@example.com'))).code).to.equal('LAST_ADMIN')
      // two concurrent demotions of the two admins: exactly one wins
      await f.services.users.update(f.ctx, 'root@example.com', { role: 'admin' })
      const both = await Promise.allSettled([
        f.services.users.update(f.ctx, 'root@example.com', { role: 'viewer' }),
        f.services.users.disable(f.ctx, 'second@example.com'),
      ])
      expect(both.filter((r) => r.status === 'fulfilled')).to.have.length(1)
      expect(both.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []))).to.deep.equal(['LAST_ADMIN'])
    })

    it('lists with keyset pagination and the role, status and search filters', async () => {
      const { knex } = f.db
      const now = f.clock.now()
      await knex('gantry_users').insert(
        Array.from({ length: 25 }, (_, i) => ({
          email: `user${String(i).padStart(2, '0')}@example.com`,
          name: i % 5 === 0 ? `Special_${i}` : `Person ${i}`,
          role: i % 2 === 0 ? 'viewer' : 'operator',
          status: i % 3 === 0 ? 'disabled' : 'active',
          created_at: now,
          updated_at: now,
        })),
      )
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await f.services.users.list(f.ctx, { limit: 10, cursor })
        seen.push(...page.data.map((u) => u.email))
        expect(page.total, 'the first page counts the users; a later one does not').to.equal(cursor === undefined ? 25 : null)
        cursor = page.nextCursor ?? undefined
        pages++
      } while (cursor)
      expect(pages).to.equal(3)
      expect(seen).to.have.length(25)
      expect(new Set(seen).size).to.equal(25)
      const viewers = await f.services.users.list(f.ctx, { role: 'viewer', status: 'active', limit: 500 })
      expect(viewers.data.every((u) => u.role === 'viewer' && u.status === 'active')).to.equal(true)
      expect(viewers.data).to.have.length(Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 2 === 0 && i % 3 !== 0).length)
      expect((await f.services.users.list(f.ctx, { search: 'SPECIAL' })).data).to.have.length(5)
      // The total counts what the filters match, beyond the page.
      const firstViewers = await f.services.users.list(f.ctx, { role: 'viewer', status: 'active', limit: 2 })
      expect([firstViewers.data.length, firstViewers.total]).to.deep.equal([2, viewers.data.length])
      expect((await f.services.users.list(f.ctx, { search: 'special', limit: 1 })).total).to.equal(5)
      // Counting stops past the cap, so that a first page stays cheap at any size: null means "more than the cap".
      expect(await countUsers(f.db.knex, { search: 'special' }, 5)).to.equal(5)
      expect(await countUsers(f.db.knex, { search: 'special' }, 4)).to.equal(null)
      expect(await countUsers(f.db.knex, { role: 'viewer', status: 'active' }, 100)).to.equal(viewers.data.length)
      expect((await f.services.users.list(f.ctx, { search: 'user07@' })).data.map((u) => u.email)).to.deep.equal(['user07@example.com'])
      expect((await f.services.users.list(f.ctx, { search: '_' })).data).to.have.length(5) // `_` is literal, not a wildcard
      expect((await rejection(f.services.users.list(f.ctx, { limit: 501 }))).code).to.equal('INVALID_INPUT')
      expect((await rejection(f.services.users.list(f.ctx, { cursor: 'garbage' }))).code).to.equal('INVALID_INPUT')
    })

    it('checks permissions: a viewer context may read but not write', async () => {
      const viewer = { actor: 'user:1:v@example.com', permissions: ['*:read'] }
      expect((await f.services.users.list(viewer)).data).to.deep.equal([])
      expect((await rejection(f.services.users.create(viewer, { email: 'x@example.com', password: STRONG }))).code).to.equal('FORBIDDEN')
      expect((await rejection(f.services.roles.create(viewer, { name: 'x', permissions: ['users:read'] }))).code).to.equal('FORBIDDEN')
      expect((await rejection(f.services.audit.list({ actor: 'k', permissions: ['users:*'] }))).code).to.equal('FORBIDDEN')
    })
  })
}
