import { expect } from 'chai'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import type { ActorContext } from '../../../src/core/context.js'
import { createAuthenticator } from '../../../src/core/sessions/authenticate.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

const AUTH = { secret: 'a test secret of at least thirty-two bytes', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' }
const SECRET = /^gcs_test_([0-9A-Za-z]{12})_[0-9A-Za-z]{38}$/
/** The role of the client's owner, who creates it. */
const PERMISSIONS = ['users:read', 'audit:read', 'oauth:write']
const FROM_OUTSIDE: ActorContext = { actor: 'anonymous', permissions: [], ip: '203.0.113.7' }

for (const dialect of DIALECTS) {
  describe(`OAuth clients on ${dialect}`, function () {
    let f: IdentityFixture
    let authenticate: (credential: string) => Promise<ActorContext>
    /** The operator, as the actor of their own calls. */
    let operator: ActorContext

    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { environmentName: 'test', auth: AUTH })
      await f.services.users.create(f.ctx, { email: 'root@example.com', role: 'admin', password: STRONG })
      await f.services.roles.create(f.ctx, { name: 'integrator', permissions: PERMISSIONS })
      const { user: op } = await f.services.users.create(f.ctx, { email: 'op@example.com', role: 'integrator', password: STRONG })
      operator = { actor: `user:${op.id}`, userId: op.id, permissions: PERMISSIONS }
      const authenticator = createAuthenticator(f.services)
      authenticate = (credential) => authenticator.authenticate(credential)
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    const create = (scopes: string[], actor = operator) => f.services.oauthClients.create(actor, { name: 'billing', scopes })
    const token = async (clientId: string, clientSecret: string, scope?: string) =>
      (await f.services.oauthClients.issueToken({ clientId, clientSecret }, scope, FROM_OUTSIDE)).access_token
    const refusedReasons = async () =>
      (await f.db.knex('gantry_audit_log').where({ action: 'oauth.token-refused' }).orderBy('id')).map((r: Record<string, unknown>) => [
        r.target_id,
        JSON.parse(String(r.after)).reason,
      ])

    it('creates a client for the caller, its secret shown once and stored only as a hash; lists it without secrets', async () => {
      const { client, clientSecret } = await create(['users:read', 'audit:read'])
      expect(clientSecret).to.match(SECRET)
      expect(SECRET.exec(clientSecret)?.[1]).to.equal(client.id)
      expect(client).to.include({ name: 'billing', owner: 'op@example.com', env: 'test', revoked: false })
      const row = await f.db.knex('gantry_oauth_clients').where({ client_id: client.id }).first()
      expect(row.secret_hash).to.match(/^[0-9a-f]{64}$/)
      expect(JSON.stringify(row)).not.to.contain(clientSecret.slice(22, 54))
      const page = await f.services.oauthClients.list(f.ctx)
      expect(page.data).to.deep.equal([client])
      expect(JSON.stringify(page)).not.to.contain(row.secret_hash)
      const audited = await f.db.knex('gantry_audit_log').where({ action: 'oauth.clients.create' })
      expect(audited.map((r: Record<string, unknown>) => [r.actor, r.target_type, r.target_id])).to.deep.equal([[operator.actor, 'oauth-client', client.id]])
      expect(JSON.stringify(audited)).not.to.contain(clientSecret)
    })

    it('hands out only what both the owner and the caller hold; a local operator must name the owner', async () => {
      expect(await rejection(create(['users:write'])).then((e) => e.code)).to.equal('INVALID_INPUT') // beyond the owner (the operator)
      const viewerOwned = f.services.oauthClients.create(operator, { name: 'x', owner: 'root@example.com', scopes: ['users:read'] })
      expect((await rejection(viewerOwned)).code).to.equal('FORBIDDEN') // acting on an admin
      expect((await rejection(f.services.oauthClients.create(f.ctx, { name: 'x' }))).code).to.equal('INVALID_INPUT')
      const named = await f.services.oauthClients.create(f.ctx, { name: 'x', owner: 'op@example.com' })
      expect(named.client.scopes).to.deep.equal(operator.permissions)
    })

    it('trades id and secret for an RFC 9068 token carrying client_id and scope; the caller is the client, within its scopes', async () => {
      const { client, clientSecret } = await create(['users:read', 'audit:read'])
      const all = await f.services.oauthClients.issueToken({ clientId: client.id, clientSecret }, undefined, FROM_OUTSIDE)
      expect(all).to.include({ token_type: 'Bearer', expires_in: 900, scope: 'users:read audit:read' })
      expect(decodeProtectedHeader(all.access_token)).to.include({ typ: 'at+jwt' })
      expect(decodeJwt(all.access_token)).to.include({ sub: client.id, client_id: client.id, scope: 'users:read audit:read', kind: 'client', env: 'test' })

      const narrow = await token(client.id, clientSecret, 'audit:read')
      const ctx = await authenticate(narrow)
      expect(ctx).to.include({ actor: `client:${client.id}`, clientId: client.id, userId: operator.userId })
      expect(ctx.permissions).to.deep.equal(['audit:read'])
      expect((await rejection(f.services.users.list(ctx))).code).to.equal('FORBIDDEN')
      await f.services.audit.list(ctx)
      expect((await rejection(token(client.id, clientSecret, 'users:write'))).code).to.equal('OAUTH_SCOPE_INVALID')
      expect((await rejection(token(client.id, clientSecret, '  '))).code).to.equal('OAUTH_SCOPE_INVALID')
    })

    it('refuses wrong, malformed, foreign and unknown secrets with one answer, each audited with its reason', async () => {
      const a = await create(['users:read'])
      const b = await create(['users:read'])
      const gone = await create(['users:read'])
      await f.db.knex('gantry_oauth_clients').where({ client_id: gone.client.id }).delete()
      const codes = [
        await rejection(token(a.client.id, b.clientSecret)),
        await rejection(token(a.client.id, a.clientSecret.slice(0, -1) + (a.clientSecret.endsWith('A') ? 'B' : 'A'))),
        await rejection(token(a.client.id, 'not a secret')),
        await rejection(token(gone.client.id, gone.clientSecret)),
      ].map((e) => [e.code, e.message])
      for (const c of codes) expect(c).to.deep.equal(['OAUTH_CLIENT_INVALID', 'The client id or secret is not valid.'])
      expect(await refusedReasons()).to.deep.equal([
        ['', 'secret of another client'],
        [a.client.id, 'malformed secret'],
        [a.client.id, 'malformed secret'],
        ['', 'unknown client or wrong secret'],
      ])
    })

    it('rights taken away reach its tokens within a second: revoked client, disabled owner, demoted owner', async () => {
      const { client, clientSecret } = await create(['users:read', 'audit:read'])
      const issued = await token(client.id, clientSecret)
      expect((await authenticate(issued)).permissions).to.deep.equal(['users:read', 'audit:read'])

      await f.services.roles.update(f.ctx, 'integrator', { revoke: ['users:read'] })
      f.clock.advance(1000)
      expect((await authenticate(issued)).permissions, 'the owner lost users:read').to.deep.equal(['audit:read'])

      await f.services.users.disable(f.ctx, 'op@example.com')
      f.clock.advance(1000)
      expect((await rejection(authenticate(issued))).code).to.equal('TOKEN_INVALID')
      expect((await rejection(token(client.id, clientSecret))).code).to.equal('OAUTH_CLIENT_INVALID')
      await f.services.users.enable(f.ctx, 'op@example.com')
      f.clock.advance(1000)
      await authenticate(issued)

      await f.services.oauthClients.revoke(f.ctx, client.id)
      expect((await rejection(authenticate(issued))).code, 'at once in this process').to.equal('TOKEN_INVALID')
      expect((await rejection(token(client.id, clientSecret))).code).to.equal('OAUTH_CLIENT_INVALID')
      expect((await refusedReasons()).map(([, reason]) => reason)).to.deep.equal(['owner disabled', 'revoked'])
    })

    it('rotates with a grace period for the previous secret, then only the new one works', async () => {
      const { client, clientSecret } = await create(['users:read'])
      const rotated = await f.services.oauthClients.rotate(f.ctx, client.id, { grace: '1h' })
      expect(rotated.client.graceEndsAt).to.equal(new Date(f.clock.now() + 3_600_000).toISOString())
      await token(client.id, clientSecret)
      await token(client.id, rotated.clientSecret)
      f.clock.advance(3_600_000)
      expect((await rejection(token(client.id, clientSecret))).code).to.equal('OAUTH_CLIENT_INVALID')
      const issued = await token(client.id, rotated.clientSecret)
      await authenticate(issued)

      // Without grace (a leaked secret) the tokens bought with the old one end as well.
      const again = await f.services.oauthClients.rotate(f.ctx, client.id, { grace: '0s' })
      expect((await rejection(authenticate(issued))).code).to.equal('TOKEN_INVALID')
      expect((await rejection(token(client.id, rotated.clientSecret))).code).to.equal('OAUTH_CLIENT_INVALID')
      await authenticate(await token(client.id, again.clientSecret))
    })

    it('a token revocation (RFC 7009) by its own client ends every token of that client, audited once', async () => {
      const a = await create(['users:read'])
      const b = await create(['users:read'])
      const first = await token(a.client.id, a.clientSecret)
      const second = await token(a.client.id, a.clientSecret)
      const other = await token(b.client.id, b.clientSecret)
      const byOther = f.services.oauthClients.revokeToken({ clientId: b.client.id, clientSecret: b.clientSecret }, first, FROM_OUTSIDE)
      expect((await rejection(byOther)).code).to.equal('OAUTH_CLIENT_UNAUTHORIZED')
      await authenticate(first)

      await f.services.oauthClients.revokeToken({ clientId: a.client.id, clientSecret: a.clientSecret }, first, FROM_OUTSIDE)
      await f.services.oauthClients.revokeToken({ clientId: a.client.id, clientSecret: a.clientSecret }, second, FROM_OUTSIDE)
      await f.services.oauthClients.revokeToken({ clientId: a.client.id, clientSecret: a.clientSecret }, 'not.a.token', FROM_OUTSIDE)
      for (const t of [first, second]) expect((await rejection(authenticate(t))).code).to.equal('TOKEN_INVALID')
      await authenticate(other)
      await authenticate(await token(a.client.id, a.clientSecret))
      expect(await f.db.knex('gantry_audit_log').where({ action: 'oauth.tokens.revoke' }).select('target_id')).to.deep.equal([{ target_id: a.client.id }])
    })

    it('a user token is no client token, and a client token is no user token', async () => {
      const { client, clientSecret } = await create(['users:read'])
      const issued = await token(client.id, clientSecret)
      expect((await rejection(f.services.sessions.verifyAccess(issued))).code).to.equal('TOKEN_INVALID')
      const { accessToken } = await f.services.sessions.login('op@example.com', STRONG, FROM_OUTSIDE)
      const claims = await f.services.sessions.accessTokens().verify(accessToken)
      expect((await rejection(f.services.oauthClients.access(claims))).code).to.equal('TOKEN_INVALID')
    })
  })
}
