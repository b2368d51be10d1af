/**
 * Issue 14's invariants at the service layer, the one every door calls: an actor hands out only what it
 * holds (roles, role assignments, key scopes, a rotated secret) and acts only on principals it covers.
 * test/reliability/escalation-matrix.test.ts sweeps every route; these pin each rule by name.
 */
import { expect } from 'chai'
import type { ActorContext } from '../../../src/core/context.js'
import { createServices } from '../../../src/core/services.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const AUTH = { secret: 'a test secret of at least thirty-two bytes', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' }

for (const dialect of DIALECTS) {
  describe(`authorization invariants on ${dialect}`, function () {
    let f: IdentityFixture
    /** The context a user's token yields: their role's permissions, as the authenticator resolves them. */
    const as = async (email: string): Promise<ActorContext> => {
      const { accessToken } = await f.services.sessions.login(email, STRONG, { actor: 'anonymous', permissions: [] })
      const claims = await f.services.sessions.verifyAccess(accessToken)
      return { actor: `user:${claims.sub}`, permissions: claims.permissions ?? [], userId: Number(claims.sub) }
    }
    const forbidden = async (promise: Promise<unknown>): Promise<void> => {
      expect((await rejection(promise)).code).to.equal('FORBIDDEN')
    }

    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { auth: AUTH, environmentName: 'test' })
      await f.services.roles.create(f.ctx, { name: 'user-writer', permissions: ['users:write', 'users:read'] })
      await f.services.roles.create(f.ctx, { name: 'role-writer', permissions: ['roles:write', 'roles:read'] })
      const people: ReadonlyArray<[string, string]> = [
        ['root@example.com', 'admin'],
        ['op@example.com', 'operator'],
        ['view@example.com', 'viewer'],
        ['uw@example.com', 'user-writer'],
        ['rw@example.com', 'role-writer'],
      ]
      for (const [email, role] of people) {
        await f.services.users.create(f.ctx, { email, role, password: STRONG })
      }
    })
    afterEach(async () => f?.cleanup())

    it('rotating or revoking a key needs permissions covering its owner; rotating hands out its scopes', async () => {
      const adminKey = await f.services.apikeys.create(f.ctx, { name: 'deploy', owner: 'root@example.com' })
      const op = await as('op@example.com')
      await forbidden(f.services.apikeys.rotate(op, adminKey.apiKey.id))
      await forbidden(f.services.apikeys.revoke(op, adminKey.apiKey.id))
      await forbidden(f.services.apikeys.create(op, { name: 'mine-now', owner: 'root@example.com', scopes: ['audit:read'] }))
      // A key narrowed to apikeys:write alone acts with that scope only: it cannot rotate a wider key of its own owner.
      const opKey = await f.services.apikeys.create(f.ctx, { name: 'wide', owner: 'op@example.com' })
      const narrow = await f.services.apikeys.create(f.ctx, { name: 'narrow', owner: 'op@example.com', scopes: ['apikeys:write'] })
      const verified = await f.services.apikeys.verify(narrow.key)
      const keyCtx: ActorContext = { actor: `apikey:${verified.keyId}`, permissions: verified.scopes, userId: verified.owner.id, apiKeyId: verified.keyId }
      await forbidden(f.services.apikeys.rotate(keyCtx, opKey.apiKey.id))
      await forbidden(f.services.apikeys.rotate(keyCtx, adminKey.apiKey.id))
      // Within what it holds, the same actor may: an operator rotates and revokes its own and a viewer's keys.
      const viewKey = await f.services.apikeys.create(f.ctx, { name: 'ro', owner: 'view@example.com' })
      expect((await f.services.apikeys.rotate(op, opKey.apiKey.id)).key).to.match(/^gk_test_/)
      expect((await f.services.apikeys.revoke(op, viewKey.apiKey.id)).revoked).to.equal(true)
      // Nor even itself: a key acts for its owner only as far as its scopes cover the owner's.
      await forbidden(f.services.apikeys.rotate(keyCtx, narrow.apiKey.id))
      // The refused rotation left the admin's key as it was: its secret still verifies, no grace was started.
      expect((await f.services.apikeys.verify(adminKey.key)).scopes).to.deep.equal(['*'])
    })

    it('assigning a role needs its permissions: users:write alone cannot make anyone an admin or operator', async () => {
      const uw = await as('uw@example.com')
      await forbidden(f.services.users.update(uw, 'uw@example.com', { role: 'admin' }))
      await forbidden(f.services.users.create(uw, { email: 'new@example.com', role: 'operator', password: STRONG }))
      expect((await f.services.users.get(f.ctx, 'uw@example.com')).role).to.equal('user-writer')
      // A role within its own (user-writer itself, or a role with users:read only) it may hand out.
      await f.services.roles.create(f.ctx, { name: 'reader', permissions: ['users:read'] })
      expect((await f.services.users.create(uw, { email: 'new@example.com', role: 'reader', password: STRONG })).user.role).to.equal('reader')
      expect((await f.services.users.update(uw, 'new@example.com', { role: 'user-writer' })).role).to.equal('user-writer')
    })

    it('granting or creating a role needs the permissions granted: roles:write alone cannot reach *', async () => {
      const rw = await as('rw@example.com')
      await forbidden(f.services.roles.update(rw, 'role-writer', { grant: ['*'] }))
      await forbidden(f.services.roles.update(rw, 'role-writer', { grant: ['users:write'] }))
      await forbidden(f.services.roles.create(rw, { name: 'god', permissions: ['*'] }))
      await forbidden(f.services.roles.create(rw, { name: 'half', permissions: ['users:*'] }))
      // Changing or deleting a role it does not cover acts on that role's holders.
      await forbidden(f.services.roles.update(rw, 'user-writer', { revoke: ['users:write'] }))
      await f.services.roles.create(f.ctx, { name: 'spare', permissions: ['users:write'] })
      await forbidden(f.services.roles.delete(rw, 'spare'))
      expect((await f.services.roles.get(f.ctx, 'role-writer')).permissions).to.deep.equal(['roles:write', 'roles:read'])
      expect((await f.services.roles.create(rw, { name: 'role-reader', permissions: ['roles:read'] })).name).to.equal('role-reader')
      expect((await f.services.roles.update(rw, 'role-reader', { grant: ['roles:write'] })).permissions).to.deep.equal(['roles:read', 'roles:write'])
    })

    it('acting on a user needs permissions covering theirs: users:write cannot touch an admin or an operator', async () => {
      const uw = await as('uw@example.com')
      for (const target of ['root@example.com', 'op@example.com']) {
        await forbidden(f.services.users.setPassword(uw, target, { password: 'another long passphrase 2' }))
        await forbidden(f.services.users.disable(uw, target))
        await forbidden(f.services.users.enable(uw, target))
        await forbidden(f.services.users.unlock(uw, target))
        await forbidden(f.services.users.delete(uw, target))
        await forbidden(f.services.users.update(uw, target, { name: 'Mallory' }))
      }
      const op = await as('op@example.com')
      await forbidden(f.services.sessions.revokeUserSessions(op, 'root@example.com'))
      await forbidden(f.services.sessions.issueScriptToken(op, 'root@example.com'))
      await forbidden(f.services.users.disable(uw, 'view@example.com')) // *:read is more than users:read
      // A target it covers is fair game.
      await f.services.roles.create(f.ctx, { name: 'reader', permissions: ['users:read'] })
      await f.services.users.create(f.ctx, { email: 'reader@example.com', role: 'reader', password: STRONG })
      expect((await f.services.users.disable(uw, 'reader@example.com')).status).to.equal('disabled')
      expect((await f.services.sessions.revokeUserSessions(op, 'view@example.com')).user).to.equal('view@example.com')
      // The local operator keeps full rights.
      expect((await f.services.users.disable(f.ctx, 'op@example.com')).status).to.equal('disabled')
    })

    it('a demotion, a revoke from a role and a role change reach issued access tokens at once here and within 1 s elsewhere', async () => {
      const other = (await identityView()).sessions
      const { accessToken } = await f.services.sessions.login('op@example.com', STRONG, { actor: 'anonymous', permissions: [] })
      await f.services.users.create(f.ctx, { email: 'root2@example.com', role: 'admin', password: STRONG })
      const script = await f.services.sessions.issueScriptToken(f.ctx, 'root@example.com', { ttl: '24h' })
      expect((await other.verifyAccess(script.token)).permissions).to.deep.equal(['*'])
      expect((await other.verifyAccess(accessToken)).permissions).to.include('apikeys:write')

      await f.services.users.update(f.ctx, 'root@example.com', { role: 'viewer' })
      await f.services.roles.update(f.ctx, 'operator', { grant: ['orders:write'] })
      // This process forgot at once; the other instance (not told) within its cache's second.
      expect((await f.services.sessions.verifyAccess(script.token)).permissions).to.deep.equal(['*:read'])
      expect((await f.services.sessions.verifyAccess(accessToken)).permissions).to.include('orders:write')
      f.clock.advance(1000)
      expect((await other.verifyAccess(script.token)).permissions).to.deep.equal(['*:read'])
      expect((await other.verifyAccess(accessToken)).permissions).to.include('orders:write')

      await f.services.roles.update(f.ctx, 'operator', { revoke: ['orders:write'] })
      other.forget({ roles: true }) // as the runtime delivers the announcement
      expect((await other.verifyAccess(accessToken)).permissions).to.not.include('orders:write')
    })

    it("logout ends the access token of that session, not the others; a reused refresh token ends its family's", async () => {
      const other = (await identityView()).sessions
      const anon: ActorContext = { actor: 'anonymous', permissions: [] }
      const laptop = await f.services.sessions.login('op@example.com', STRONG, anon)
      const phone = await f.services.sessions.login('op@example.com', STRONG, anon)
      await other.verifyAccess(laptop.accessToken) // cached there
      expect((await f.services.sessions.logout(laptop.refreshToken)).revoked).to.equal(1)
      expect((await rejection(f.services.sessions.verifyAccess(laptop.accessToken))).code).to.equal('TOKEN_INVALID')
      await other.verifyAccess(laptop.accessToken) // still cached there: at most 1 s
      f.clock.advance(1000)
      expect((await rejection(other.verifyAccess(laptop.accessToken))).code).to.equal('TOKEN_INVALID')
      expect((await other.verifyAccess(phone.accessToken)).sub).to.be.a('string')

      const next = await f.services.sessions.refresh(phone.refreshToken)
      f.clock.advance(11_000) // past the predecessor's grace: presenting it now is a reuse
      expect((await rejection(f.services.sessions.refresh(phone.refreshToken))).code).to.equal('TOKEN_INVALID')
      for (const token of [phone.accessToken, next.accessToken])
        expect((await rejection(f.services.sessions.verifyAccess(token))).code).to.equal('TOKEN_INVALID')
    })

    it('a script token lives at most auth.maxTokenTtl (default 24h)', async () => {
      const refused = await rejection(f.services.sessions.issueScriptToken(f.ctx, 'op@example.com', { ttl: '30d' }))
      expect(refused.code).to.equal('INVALID_INPUT')
      expect(refused.message).to.include('auth.maxTokenTtl')
      expect(Date.parse((await f.services.sessions.issueScriptToken(f.ctx, 'op@example.com', { ttl: '24h' })).expiresAt) - f.clock.now()).to.equal(86_400_000)
      const longer = createServices({
        rateLimitRoutes: BUILTIN_RULE_ROUTES,
        knex: f.db.knex,
        clock: f.clock,
        auth: { ...AUTH, maxTokenTtl: '30d' },
        environmentName: 'test',
      })
      expect((await longer.sessions.verifyAccess((await longer.sessions.issueScriptToken(f.ctx, 'op@example.com', { ttl: '30d' })).token)).sub).to.be.a(
        'string',
      )
    })

    /** A second instance over the same database (its own caches), not told of changes. */
    const identityView = async () =>
      createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: f.db.knex, clock: f.clock, auth: AUTH, environmentName: 'test' })
  })
}
