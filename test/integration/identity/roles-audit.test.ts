import { expect } from 'chai'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

for (const dialect of DIALECTS) {
  describe(`roles and audit services on ${dialect}`, function () {
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('lists the built-in roles; creates, updates and deletes a custom one', async () => {
      const builtins = await f.services.roles.list(f.ctx)
      expect(builtins.data.map((r) => [r.name, r.builtin])).to.deep.equal([
        ['admin', true],
        ['operator', true],
        ['viewer', true],
      ])
      expect(builtins.data.find((r) => r.name === 'viewer')?.permissions).to.deep.equal(['*:read'])

      const created = await f.services.roles.create(f.ctx, {
        name: 'support',
        description: 'Help desk',
        permissions: ['users:read', 'users:read', 'audit:read'],
      })
      expect(created).to.include({ name: 'support', description: 'Help desk', builtin: false, users: 0 })
      expect(created.permissions).to.deep.equal(['users:read', 'audit:read'])
      const updated = await f.services.roles.update(f.ctx, 'support', { grant: ['users:write', 'sessions:*'], revoke: ['audit:read'] })
      expect(updated.permissions).to.deep.equal(['users:read', 'users:write', 'sessions:*'])

      await f.services.users.create(f.ctx, { email: 'help@example.com', role: 'support', password: STRONG })
      expect((await f.services.roles.get(f.ctx, 'support')).users).to.equal(1)
      expect((await rejection(f.services.roles.delete(f.ctx, 'support'))).code).to.equal('ROLE_IN_USE')
      await f.services.users.delete(f.ctx, 'help@example.com')
      expect(await f.services.roles.delete(f.ctx, 'support')).to.deep.equal({ deleted: 'support' })
      expect((await rejection(f.services.roles.get(f.ctx, 'support'))).code).to.equal('ROLE_NOT_FOUND')
    })

    it('refuses duplicates, built-ins, bad names and bad permissions', async () => {
      await f.services.roles.create(f.ctx, { name: 'support', permissions: ['users:read'] })
      expect((await rejection(f.services.roles.create(f.ctx, { name: 'support', permissions: ['users:read'] }))).code).to.equal('ROLE_EXISTS')
      expect((await rejection(f.services.roles.create(f.ctx, { name: 'admin', permissions: ['*'] }))).code).to.equal('ROLE_EXISTS')
      expect((await rejection(f.services.roles.delete(f.ctx, 'viewer'))).code).to.equal('ROLE_BUILTIN')
      expect((await rejection(f.services.roles.update(f.ctx, 'admin', { revoke: ['*'] }))).code).to.equal('ROLE_BUILTIN')
      expect((await rejection(f.services.roles.update(f.ctx, 'support', { revoke: ['users:read'] }))).code).to.equal('INVALID_INPUT')
      expect((await rejection(f.services.roles.delete(f.ctx, 'nope'))).code).to.equal('ROLE_NOT_FOUND')
      for (const permissions of [['users'], ['Users:read'], ['users:read:x'], ['**'], []]) {
        expect((await rejection(f.services.roles.create(f.ctx, { name: 'x', permissions }))).code, JSON.stringify(permissions)).to.equal('INVALID_INPUT')
      }
      expect((await rejection(f.services.roles.create(f.ctx, { name: 'Bad Name', permissions: ['*'] }))).code).to.equal('INVALID_INPUT')
    })

    it('writes one audit row per mutation with before/after and never a hash; lists newest first with filters and cursor', async () => {
      const other = { actor: 'user:9:ops@example.com', permissions: ['*'], ip: '198.51.100.7' }
      await f.services.users.create(f.ctx, { email: 'ada@example.com', role: 'admin', password: STRONG })
      f.clock.advance(60_000)
      await f.services.users.create(other, { email: 'bob@example.com', password: STRONG })
      await f.services.users.update(f.ctx, 'bob@example.com', { name: 'Bob' })
      await f.services.users.setPassword(f.ctx, 'bob@example.com', { password: 'another long passphrase' })
      await f.services.users.disable(f.ctx, 'bob@example.com')
      await f.services.users.enable(f.ctx, 'bob@example.com')
      await f.services.users.unlock(f.ctx, 'bob@example.com')
      await f.services.roles.create(f.ctx, { name: 'support', permissions: ['users:read'] })
      await f.services.roles.update(f.ctx, 'support', { grant: ['audit:read'] })
      await f.services.roles.delete(f.ctx, 'support')
      f.clock.advance(3_600_000)
      await f.services.users.delete(f.ctx, 'bob@example.com')

      const raw = await f.db.knex('gantry_audit_log').select('*')
      expect(JSON.stringify(raw)).to.not.match(/\$argon2|\$2[aby]\$|password_hash|session_epoch/)
      const all = await f.services.audit.list(f.ctx, { limit: 100 })
      expect(all.data.map((e) => e.action)).to.deep.equal([
        'users.delete',
        'roles.delete',
        'roles.update',
        'roles.create',
        'users.unlock',
        'users.enable',
        'users.disable',
        'users.set-password',
        'users.update',
        'users.create',
        'users.create',
      ])
      const update = all.data.find((e) => e.action === 'users.update')
      expect(update).to.deep.include({ actor: 'local:test@host', targetType: 'user', ip: null })
      expect((update?.before as { name: string }).name).to.equal('')
      expect((update?.after as { name: string }).name).to.equal('Bob')
      expect(all.data[0]?.after).to.equal(null)
      expect((all.data[0]?.before as { email: string }).email).to.equal('bob@example.com')

      const byOther = await f.services.audit.list(f.ctx, { actor: 'user:9:ops@example.com' })
      expect(byOther.data.map((e) => [e.action, e.ip])).to.deep.equal([['users.create', '198.51.100.7']])
      expect((await f.services.audit.list(f.ctx, { action: 'users.create' })).data).to.have.length(2)
      expect((await f.services.audit.list(f.ctx, { since: '30m' })).data.map((e) => e.action)).to.deep.equal(['users.delete'])
      expect(
        (await f.services.audit.list(f.ctx, { until: new Date(f.clock.now() - 3_600_000 - 60_000 + 1).toISOString() })).data.map((e) => e.action),
      ).to.deep.equal(['users.create'])
      expect((await rejection(f.services.audit.list(f.ctx, { since: 'yesterday' }))).code).to.equal('INVALID_INPUT')

      const pages: string[][] = []
      let cursor: string | undefined
      do {
        const page = await f.services.audit.list(f.ctx, { limit: 4, cursor })
        pages.push(page.data.map((e) => e.action))
        cursor = page.nextCursor ?? undefined
      } while (cursor)
      expect(pages.map((p) => p.length)).to.deep.equal([4, 4, 3])
      expect(pages.flat()).to.deep.equal(all.data.map((e) => e.action))
    })

    it('--actor matches * as any run of characters, every other character as itself (%, _, ! and GLOB characters too), as = compares', async () => {
      const actors = [
        'local:alice@host',
        'local:bob@build-1 (job 42)',
        'LOCAL:carol@host',
        'user:9:ops@example.com',
        'local%x',
        'local_x',
        'a!b',
        'q?[x]',
        'key:%_!',
      ]
      for (const actor of actors)
        await f.db.knex.transaction((trx) =>
          f.services.audit.append(trx, { actor, permissions: ['*'] }, { action: 'users.update', targetType: 't', targetId: actor }),
        )
      const matching = async (actor: string): Promise<string[]> => (await f.services.audit.list(f.ctx, { actor, limit: 100 })).data.map((e) => e.actor).sort()
      // MariaDB's default collation ignores case in = (and so in LIKE); SQLite's and PostgreSQL's do not.
      const carol = (await matching('local:carol@host')).length === 1 ? ['LOCAL:carol@host'] : []
      expect(carol.length === 1, 'the dialect case rule').to.equal(dialect === 'mysql')
      const cases: Array<[string, string[]]> = [
        ['local:*', [...carol, 'local:alice@host', 'local:bob@build-1 (job 42)']],
        ['*@host', ['LOCAL:carol@host', 'local:alice@host']],
        ['user:*:ops@example.com', ['user:9:ops@example.com']],
        ['local%*', ['local%x']],
        ['local_*', ['local_x']],
        ['*!*', ['a!b', 'key:%_!']],
        ['*%_!', ['key:%_!']],
        ['q?[*', ['q?[x]']],
        ['q*]', ['q?[x]']],
        ['l*l*l*l*', []],
        ['*', [...actors].sort()],
        ['local:alice@host', ['local:alice@host']],
      ]
      for (const [pattern, expected] of cases) expect(await matching(pattern), pattern).to.deep.equal([...expected].sort())
      const tooMany = await rejection(f.services.audit.list(f.ctx, { actor: '*a*b*c*d*' }))
      expect(tooMany.code).to.equal('INVALID_INPUT')
    })

    it('a failed mutation leaves no audit row', async () => {
      await f.services.users.create(f.ctx, { email: 'ada@example.com', role: 'admin', password: STRONG })
      await rejection(f.services.users.delete(f.ctx, 'ada@example.com'))
      await rejection(f.services.users.create(f.ctx, { email: 'ada@example.com', password: STRONG }))
      expect((await f.services.audit.list(f.ctx)).data.map((e) => e.action)).to.deep.equal(['users.create'])
    })
  })
}
