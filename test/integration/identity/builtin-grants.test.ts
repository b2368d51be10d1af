import { expect } from 'chai'
import type { ActorContext } from '../../../src/core/context.js'
import { BUILTIN_ROLE_PERMISSIONS } from '../../../src/core/roles/builtin-roles.js'
import { requirePermission } from '../../../src/core/roles/permissions.js'
import type { UpdateRoleInput } from '../../../src/core/roles/roles.schema.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

const AUTH = {
  secret: 'a test secret of at least thirty-two bytes',
  algorithm: 'HS256',
  issuer: 'gantry',
  audience: 'gantry',
  accessTokenTtl: '15m',
  refreshTokenTtl: '30d',
} as const
const client: ActorContext = { actor: 'ip:203.0.113.9', permissions: [], ip: '203.0.113.9' }
const OPERATOR = ['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write']

// An app's own permissions (orders:write) on the built-in operator and viewer roles: granted, revoked again,
// carried by the tokens of their holders; the built-in permissions stay, admin never changes.
for (const dialect of DIALECTS) {
  describe(`custom permissions on built-in roles on ${dialect}`, function () {
    let f: IdentityFixture
    /** The context a request of this user's fresh access token gets (its permissions come from the token). */
    const loginContext = async (email: string): Promise<ActorContext> => {
      const { accessToken } = await f.services.sessions.login(email, STRONG, client)
      const claims = await f.services.sessions.verifyAccess(accessToken)
      return { actor: `user:${claims.sub}`, permissions: claims.permissions ?? [] }
    }
    const roleRow = async (name: string) => f.services.roles.get(f.ctx, name)
    const auditActions = async () => (await f.services.audit.list(f.ctx, { limit: 100 })).data.map((e) => e.action)

    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { auth: AUTH, environmentName: 'test' })
      await f.services.users.create(f.ctx, { email: 'root@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'op@example.com', role: 'operator', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'view@example.com', role: 'viewer', password: STRONG })
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('the constant matches the roles the migration seeds', async () => {
      const seeded = Object.fromEntries((await f.services.roles.list(f.ctx)).data.map((r) => [r.name, r.permissions]))
      expect(seeded).to.deep.equal(BUILTIN_ROLE_PERMISSIONS)
    })

    it("grants orders:write to operator: audited, in its holders' tokens at login, passes requirePermission; revoked again, gone", async () => {
      const before = await loginContext('op@example.com')
      expect(() => requirePermission(before, 'orders:write'))
        .to.throw()
        .with.property('code', 'FORBIDDEN')

      f.clock.advance(1000)
      const granted = await f.services.roles.update(f.ctx, 'operator', { grant: ['orders:write', 'orders:read'] })
      expect(granted).to.include({ name: 'operator', builtin: true, users: 1 })
      expect(granted.permissions).to.deep.equal([...OPERATOR, 'orders:write', 'orders:read']) // orders:read is covered by *:read, but kept as granted
      const audit = (await f.services.audit.list(f.ctx, { action: 'roles.update' })).data
      expect(audit).to.have.length(1)
      expect(audit[0]).to.deep.include({ actor: 'local:test@host', targetType: 'role', targetId: 'operator' })
      expect((audit[0]?.before as { permissions: string[] }).permissions).to.deep.equal(OPERATOR)
      expect((audit[0]?.after as { permissions: string[] }).permissions).to.deep.equal(granted.permissions)

      const op = await loginContext('op@example.com')
      expect(op.permissions).to.include('orders:write')
      expect(() => requirePermission(op, 'orders:write')).to.not.throw()
      expect(() => requirePermission(op, 'users:write'))
        .to.throw()
        .with.property('code', 'FORBIDDEN')
      const viewer = await loginContext('view@example.com')
      expect(() => requirePermission(viewer, 'orders:write'))
        .to.throw()
        .with.property('code', 'FORBIDDEN')

      const revoked = await f.services.roles.update(f.ctx, 'operator', { revoke: ['orders:write', 'orders:read'] })
      expect(revoked.permissions).to.deep.equal(OPERATOR)
      const after = await loginContext('op@example.com')
      expect(() => requirePermission(after, 'orders:write'))
        .to.throw()
        .with.property('code', 'FORBIDDEN')
      expect((await f.services.audit.list(f.ctx, { action: 'roles.update' })).data).to.have.length(2)
    })

    it('viewer takes extras and a new description; a wildcard extra works too', async () => {
      const updated = await f.services.roles.update(f.ctx, 'viewer', { grant: ['orders:*'], description: 'Reads everything; manages orders.' })
      expect(updated).to.deep.include({ permissions: ['*:read', 'orders:*'], description: 'Reads everything; manages orders.', builtin: true })
      const viewer = await loginContext('view@example.com')
      expect(() => requirePermission(viewer, 'orders:refund')).to.not.throw()
      expect((await f.services.roles.update(f.ctx, 'viewer', { revoke: ['orders:*'] })).permissions).to.deep.equal(['*:read'])
    })

    it('refuses to revoke a built-in permission, naming it; changes nothing and audits nothing', async () => {
      await f.services.roles.update(f.ctx, 'operator', { grant: ['orders:write'] })
      const err = await rejection(f.services.roles.update(f.ctx, 'operator', { revoke: ['orders:write', 'ratelimits:write'] }))
      expect(err.code).to.equal('ROLE_BUILTIN')
      expect(err.message).to.include('ratelimits:write').and.include('"operator"').and.not.include('orders:write')
      expect(err.details).to.deep.include({ role: 'operator', permissions: ['ratelimits:write'] })
      const viewerErr = await rejection(f.services.roles.update(f.ctx, 'viewer', { revoke: ['*:read'] }))
      expect(viewerErr.code).to.equal('ROLE_BUILTIN')
      expect(viewerErr.message).to.include('*:read')
      expect((await roleRow('operator')).permissions).to.deep.equal([...OPERATOR, 'orders:write'])
      expect((await roleRow('viewer')).permissions).to.deep.equal(['*:read'])
      expect(await auditActions()).to.deep.equal(['roles.update', 'users.create', 'users.create', 'users.create'])
    })

    it('refuses * (and *:*) to a built-in role, any change of admin, and deleting a built-in role', async () => {
      const attempts: Array<[string, UpdateRoleInput]> = [
        ['operator', { grant: ['*'] }],
        ['viewer', { grant: ['orders:write', '*:*'] }],
        ['admin', { grant: ['orders:write'] }],
        ['admin', { revoke: ['*'] }],
        ['admin', { description: 'All of it.' }],
      ]
      for (const [role, input] of attempts) {
        const err = await rejection(f.services.roles.update(f.ctx, role, input))
        expect(err.code, `${role} ${JSON.stringify(input)}`).to.equal('ROLE_BUILTIN')
      }
      expect((await rejection(f.services.roles.update(f.ctx, 'operator', { grant: ['*'] }))).message).to.match(/admin/)
      for (const role of ['admin', 'operator', 'viewer']) expect((await rejection(f.services.roles.delete(f.ctx, role))).code).to.equal('ROLE_BUILTIN')
      expect(await f.services.roles.adminRoleNames(f.db.knex)).to.deep.equal(['admin'])
      expect((await roleRow('admin')).permissions).to.deep.equal(['*'])
      expect((await roleRow('operator')).permissions).to.deep.equal(OPERATOR)
      expect(await auditActions()).to.not.include('roles.update')
    })

    it('still needs roles:write: an operator cannot grant itself an extra', async () => {
      const op = await loginContext('op@example.com')
      expect((await rejection(f.services.roles.update(op, 'operator', { grant: ['orders:write'] }))).code).to.equal('FORBIDDEN')
    })

    it('the last-admin rule: revoking * from a custom role its holders are the only admins through is refused', async () => {
      await f.services.roles.create(f.ctx, { name: 'superuser', permissions: ['*'] })
      await f.services.users.create(f.ctx, { email: 'su@example.com', role: 'superuser', password: STRONG })
      await f.services.users.update(f.ctx, 'root@example.com', { role: 'viewer' })
      const err = await rejection(f.services.roles.update(f.ctx, 'superuser', { grant: ['users:read'], revoke: ['*'] }))
      expect(err.code).to.equal('LAST_ADMIN')
      expect((await roleRow('superuser')).permissions).to.deep.equal(['*'])
      await f.services.users.create(f.ctx, { email: 'root2@example.com', role: 'admin', password: STRONG })
      expect((await f.services.roles.update(f.ctx, 'superuser', { grant: ['users:read'], revoke: ['*'] })).permissions).to.deep.equal(['users:read'])
      expect(await f.services.roles.adminRoleNames(f.db.knex)).to.deep.equal(['admin'])
    })
  })
}
