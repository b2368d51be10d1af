import { expect } from 'chai'
import type { ActorContext } from '../../../src/core/context.js'
import { createServices } from '../../../src/core/services.js'
import type { AccessChange } from '../../../src/core/sessions/sessions.schema.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const AUTH = { secret: 'a test secret of at least thirty-two bytes', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' }
const client: ActorContext = { actor: 'ip:203.0.113.9', permissions: [], ip: '203.0.113.9' }

for (const dialect of DIALECTS) {
  describe(`sessions service on ${dialect}`, function () {
    let f: IdentityFixture
    const sessions = () => f.services.sessions
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { auth: AUTH, environmentName: 'test' })
      await f.services.users.create(f.ctx, { email: 'root@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'op@example.com', role: 'operator', password: STRONG })
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('login -> verifyAccess carries the user, epoch and permissions; refresh rotates; logout ends the refresh token', async () => {
      const login = await sessions().login('OP@example.com', STRONG, client)
      expect(login.refreshToken).to.match(/^grt_/)
      expect(login.expiresAt).to.equal(new Date(f.clock.now() + 15 * 60_000).toISOString())
      const claims = await sessions().verifyAccess(login.accessToken)
      const op = await f.services.users.get(f.ctx, 'op@example.com')
      expect(claims).to.include({ sub: String(op.id), kind: 'user', epoch: 0 })
      expect(claims.permissions).to.deep.equal(['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write'])

      f.clock.advance(5000)
      const refreshed = await sessions().refresh(login.refreshToken)
      expect(refreshed.refreshToken).to.not.equal(login.refreshToken)
      expect((await sessions().verifyAccess(refreshed.accessToken)).sub).to.equal(String(op.id))
      // A role change reaches the next refresh.
      await f.services.users.update(f.ctx, 'op@example.com', { role: 'viewer' })
      f.clock.advance(20_000)
      const third = await sessions().refresh(refreshed.refreshToken)
      expect((await sessions().verifyAccess(third.accessToken)).permissions).to.deep.equal(['*:read'])

      expect(await sessions().logout(third.refreshToken)).to.deep.equal({ revoked: 3 })
      expect((await rejection(sessions().refresh(third.refreshToken))).code).to.equal('TOKEN_INVALID')
      expect(await sessions().logout('grt_not-a-token')).to.deep.equal({ revoked: 0 })
      expect((await rejection(sessions().login('op@example.com', 'wrong password here', client))).code).to.equal('INVALID_CREDENTIALS')
    })

    it('disabling a user stops access tokens at once in this process, within 1 s in another that is not told (the epoch cache), and refresh at once', async () => {
      const other = createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: f.db.knex, clock: f.clock, auth: AUTH, environmentName: 'test' }).sessions
      const login = await sessions().login('op@example.com', STRONG, client)
      await sessions().verifyAccess(login.accessToken) // caches the user's state
      await other.verifyAccess(login.accessToken)
      await f.services.users.disable(f.ctx, 'op@example.com')
      expect((await rejection(sessions().verifyAccess(login.accessToken))).code).to.equal('TOKEN_INVALID')
      f.clock.advance(999)
      await other.verifyAccess(login.accessToken) // still cached there: at most 1 s
      expect((await rejection(sessions().refresh(login.refreshToken))).code).to.equal('TOKEN_INVALID')
      f.clock.advance(2)
      const refused = await rejection(other.verifyAccess(login.accessToken))
      expect({ code: refused.code, message: refused.message }).to.deep.equal({ code: 'TOKEN_INVALID', message: 'The access token is invalid or expired.' })
      // Enabling does not bring the old session back: disabling bumped the epoch.
      await f.services.users.enable(f.ctx, 'op@example.com')
      f.clock.advance(1001)
      expect((await rejection(sessions().verifyAccess(login.accessToken))).code).to.equal('TOKEN_INVALID')
      await sessions().verifyAccess((await sessions().login('op@example.com', STRONG, client)).accessToken)
    })

    it('tokens revoke ends refresh tokens at once and access tokens within 1 s, also in another process', async () => {
      const other = createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: f.db.knex, clock: f.clock, auth: AUTH, environmentName: 'test' }).sessions
      const a = await sessions().login('op@example.com', STRONG, client)
      const b = await sessions().login('op@example.com', STRONG, client)
      await other.verifyAccess(a.accessToken)
      const result = await sessions().revokeUserSessions(f.ctx, 'OP@example.com')
      expect(result).to.deep.equal({ user: 'op@example.com', refreshTokensRevoked: 2 })
      expect((await rejection(sessions().verifyAccess(a.accessToken))).code).to.equal('TOKEN_INVALID') // this process: at once
      await other.verifyAccess(a.accessToken) // another instance: within its cache second
      f.clock.advance(1001)
      expect((await rejection(other.verifyAccess(a.accessToken))).code).to.equal('TOKEN_INVALID')
      for (const t of [a.refreshToken, b.refreshToken]) expect((await rejection(sessions().refresh(t))).code).to.equal('TOKEN_INVALID')
      await sessions().verifyAccess((await sessions().login('op@example.com', STRONG, client)).accessToken)
      expect((await rejection(sessions().revokeUserSessions(client, 'op@example.com'))).code).to.equal('FORBIDDEN')
    })

    it("every end of a user's sessions (revoke, disable, new password) is announced after it commits; an instance told forgets the user at once", async () => {
      const other = createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: f.db.knex, clock: f.clock, auth: AUTH, environmentName: 'test' }).sessions
      const heard: AccessChange[] = []
      // Another instance hears it as the runtime delivers it over Redis: by the id, once the change is in the database.
      const announcing = createServices({
        rateLimitRoutes: BUILTIN_RULE_ROUTES,
        knex: f.db.knex,
        clock: f.clock,
        auth: AUTH,
        environmentName: 'test',
        onAccessChanged: async (change) => {
          heard.push(change)
          other.forget(change)
        },
      })
      const op = await f.services.users.get(f.ctx, 'op@example.com')
      const ends: [string, () => Promise<unknown>][] = [
        ['revoke', () => announcing.sessions.revokeUserSessions(f.ctx, 'op@example.com')],
        ['disable', () => announcing.users.disable(f.ctx, 'op@example.com')],
        ['new password', () => announcing.users.setPassword(f.ctx, 'op@example.com', { password: STRONG })],
      ]
      for (const [what, end] of ends) {
        await f.services.users.enable(f.ctx, 'op@example.com')
        f.clock.advance(1001) // past what `other` cached in the round before (an enable is not announced)
        const { accessToken } = await sessions().login('op@example.com', STRONG, client)
        await other.verifyAccess(accessToken) // cached there
        await end()
        // No clock advance: the cached epoch is gone, so the next check reads the ended session.
        expect((await rejection(other.verifyAccess(accessToken))).code, what).to.equal('TOKEN_INVALID')
      }
      expect(heard).to.deep.equal([{ userId: op.id }, { userId: op.id }, { userId: op.id }])
    })

    it('issueScriptToken: a token with the ttl asked, audited without the token; refused beyond the actor or without a secret', async () => {
      const issued = await sessions().issueScriptToken(f.ctx, 'op@example.com', { ttl: '1h' })
      expect(issued).to.include({ user: 'op@example.com', expiresAt: new Date(f.clock.now() + 3_600_000).toISOString() })
      expect((await sessions().verifyAccess(issued.token)).jti).to.equal(issued.jti)
      f.clock.advance(3_600_000 + 31_000)
      expect((await rejection(sessions().verifyAccess(issued.token))).code).to.equal('TOKEN_INVALID')
      expect((await rejection(sessions().issueScriptToken(f.ctx, 'op@example.com', { ttl: '31d' }))).code).to.equal('INVALID_INPUT')
      expect((await rejection(sessions().issueScriptToken(f.ctx, 'nobody@example.com'))).code).to.equal('USER_NOT_FOUND')
      const operator: ActorContext = { actor: 'user:2:op@example.com', permissions: ['*:read', 'sessions:write'] }
      expect((await rejection(sessions().issueScriptToken(operator, 'root@example.com'))).code).to.equal('FORBIDDEN')

      const noSecret = createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: f.db.knex, clock: f.clock, environmentName: 'qa' }).sessions
      const missing = await rejection(noSecret.issueScriptToken(f.ctx, 'op@example.com'))
      expect(missing.code).to.equal('AUTH_SECRET_MISSING')
      expect((missing as unknown as { exit: number; hint: string }).exit).to.equal(2)
      expect((missing as unknown as { hint: string }).hint)
        .to.contain('GANTRY_AUTH_SECRET')
        .and.contain('.env.qa')
      expect((await rejection(noSecret.login('op@example.com', STRONG, client))).code).to.equal('AUTH_SECRET_MISSING')

      const rows = await f.db.knex('gantry_audit_log').where({ action: 'tokens.issue' })
      expect(rows).to.have.length(1)
      expect(JSON.parse(rows[0].after)).to.deep.equal({ user: 'op@example.com', jti: issued.jti, expiresAt: issued.expiresAt })
    })

    it('no audit row holds a token, refresh token or hash', async () => {
      const login = await sessions().login('op@example.com', STRONG, client)
      const refreshed = await sessions().refresh(login.refreshToken)
      const issued = await sessions().issueScriptToken(f.ctx, 'root@example.com')
      await sessions().revokeUserSessions(f.ctx, 'op@example.com')
      const everything = JSON.stringify(await f.db.knex('gantry_audit_log'))
      expect(everything).to.contain('tokens.issue').and.contain('tokens.revoke')
      expect(everything).to.not.contain('$argon2').and.not.contain('grt_').and.not.contain('eyJ')
      const hashes = (await f.db.knex('gantry_refresh_tokens').select('token_hash')).map((r: { token_hash: string }) => r.token_hash)
      for (const secret of [login.accessToken, login.refreshToken, refreshed.accessToken, refreshed.refreshToken, issued.token, ...hashes])
        expect(everything).to.not.contain(secret)
    })
  })
}
