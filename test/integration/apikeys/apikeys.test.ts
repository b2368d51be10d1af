import { expect } from 'chai'
import { parseApiKey } from '../../../src/core/apikeys/apikey-format.js'
import { createServices } from '../../../src/core/services.js'
import { reCheck } from '../../helpers/forged-credentials.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { sqliteKnex } from '../../helpers/sqlite-file.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const HOUR = 3_600_000
const KEY = /^gk_test_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/

for (const dialect of DIALECTS) {
  describe(`API keys on ${dialect}`, function () {
    let f: IdentityFixture
    const verifyCode = async (key: string) => (await rejection(f.services.apikeys.verify(key))).code
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { environmentName: 'test' })
      await f.services.users.create(f.ctx, { email: 'root@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'op@example.com', role: 'operator', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'view@example.com', role: 'viewer', password: STRONG })
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('creates a key shown once, stores only a hash, lists it without secrets, verifies it and revokes it', async () => {
      const { key, apiKey } = await f.services.apikeys.create(f.ctx, {
        name: 'ci',
        owner: ' OP@example.com',
        scopes: ['users:read', 'apikeys:write'],
        expires: '90d',
      })
      expect(key).to.match(KEY)
      expect(apiKey).to.include({ name: 'ci', owner: 'op@example.com', env: 'test', revoked: false, lastUsedAt: null, graceEndsAt: null })
      expect(apiKey.id).to.equal(parseApiKey(key).keyId)
      expect(apiKey.expiresAt).to.equal(new Date(f.clock.now() + 90 * 24 * HOUR).toISOString())
      const row = await f.db.knex('gantry_api_keys').where({ key_id: apiKey.id }).first()
      expect(row.secret_hash).to.match(/^[0-9a-f]{64}$/)
      expect(JSON.stringify(row)).to.not.contain(parseApiKey(key).secret)

      const page = await f.services.apikeys.list(f.ctx)
      expect(page.nextCursor).to.equal(null)
      expect(page.data).to.deep.equal([apiKey])
      expect(JSON.stringify(page)).to.not.contain(parseApiKey(key).secret).and.not.contain(row.secret_hash)
      expect((await f.services.apikeys.list(f.ctx, { owner: 'root@example.com' })).data).to.deep.equal([])

      const verified = await f.services.apikeys.verify(key)
      expect(verified.keyId).to.equal(apiKey.id)
      expect(verified.owner.email).to.equal('op@example.com')
      expect(verified.scopes).to.deep.equal(['users:read', 'apikeys:write'])

      const revoked = await f.services.apikeys.revoke(f.ctx, apiKey.id)
      expect(revoked.revoked).to.equal(true)
      expect(await verifyCode(key)).to.equal('APIKEY_INVALID')
      expect((await f.services.apikeys.revoke(f.ctx, apiKey.id)).revokedAt).to.equal(revoked.revokedAt)
      expect((await rejection(f.services.apikeys.rotate(f.ctx, apiKey.id))).code).to.equal('APIKEY_REVOKED')
      expect((await rejection(f.services.apikeys.revoke(f.ctx, 'nosuchkey123'))).code).to.equal('APIKEY_NOT_FOUND')
    })

    it("scopes default to the owner's permissions; a scope beyond them is refused (exit 2); wildcards count", async () => {
      const defaulted = await f.services.apikeys.create(f.ctx, { name: 'd', owner: 'op@example.com' })
      expect(defaulted.apiKey.scopes).to.deep.equal(['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write'])
      for (const scope of ['users:write', 'users:*', '*']) {
        const err = await rejection(f.services.apikeys.create(f.ctx, { name: 'x', owner: 'view@example.com', scopes: [scope] }))
        expect(err.code, scope).to.equal('INVALID_INPUT')
        expect((err as unknown as { exit: number }).exit).to.equal(2)
        expect(err.message).to.contain(scope).and.contain('view@example.com')
      }
      expect((await f.services.apikeys.create(f.ctx, { name: 'w', owner: 'view@example.com', scopes: ['users:read', '*:read'] })).apiKey.scopes).to.deep.equal([
        'users:read',
        '*:read',
      ])
      expect((await rejection(f.services.apikeys.create(f.ctx, { name: 'x', owner: 'nobody@example.com' }))).code).to.equal('USER_NOT_FOUND')
      expect((await rejection(f.services.apikeys.create(f.ctx, { name: 'x', owner: 'op@example.com', scopes: ['users'] }))).code).to.equal('INVALID_INPUT')
      // A remote actor hands out no more than it holds.
      const operator = { actor: 'user:2:op@example.com', permissions: ['*:read', 'apikeys:write'] }
      expect((await rejection(f.services.apikeys.create(operator, { name: 'x', owner: 'root@example.com', scopes: ['users:write'] }))).code).to.equal(
        'FORBIDDEN',
      )
      expect((await rejection(f.services.apikeys.create({ actor: 'v', permissions: ['*:read'] }, { name: 'x', owner: 'view@example.com' }))).code).to.equal(
        'FORBIDDEN',
      )
    })

    it("effective scopes shrink with the owner's role; a disabled owner's key is refused, and works again when enabled", async () => {
      const { key } = await f.services.apikeys.create(f.ctx, { name: 'k', owner: 'op@example.com', scopes: ['*:read', 'apikeys:write'] })
      await f.services.users.update(f.ctx, 'op@example.com', { role: 'viewer' })
      expect((await f.services.apikeys.verify(key)).scopes).to.deep.equal(['*:read'])
      await f.services.users.disable(f.ctx, 'op@example.com')
      expect(await verifyCode(key)).to.equal('APIKEY_INVALID')
      await f.services.users.enable(f.ctx, 'op@example.com')
      expect((await f.services.apikeys.verify(key)).owner.email).to.equal('op@example.com')
    })

    it('rotate: the old secret works until the grace period ends, the new one at once; the id stays', async () => {
      const created = await f.services.apikeys.create(f.ctx, { name: 'r', owner: 'op@example.com' })
      f.clock.advance(1000)
      const rotated = await f.services.apikeys.rotate(f.ctx, created.apiKey.id, { grace: '24h' })
      expect(rotated.key).to.match(KEY).and.not.equal(created.key)
      expect(rotated.apiKey.id).to.equal(created.apiKey.id)
      expect(rotated.apiKey.graceEndsAt).to.equal(new Date(f.clock.now() + 24 * HOUR).toISOString())
      await f.services.apikeys.verify(created.key)
      await f.services.apikeys.verify(rotated.key)
      f.clock.advance(24 * HOUR - 1)
      await f.services.apikeys.verify(created.key)
      f.clock.advance(1)
      expect(await verifyCode(created.key)).to.equal('APIKEY_INVALID')
      await f.services.apikeys.verify(rotated.key)
      expect((await f.services.apikeys.list(f.ctx)).data[0]?.graceEndsAt).to.equal(null)

      const again = await f.services.apikeys.rotate(f.ctx, created.apiKey.id, { grace: '0s' })
      expect(await verifyCode(rotated.key)).to.equal('APIKEY_INVALID')
      await f.services.apikeys.verify(again.key)
      expect((await rejection(f.services.apikeys.rotate(f.ctx, created.apiKey.id, { grace: 'soon' }))).code).to.equal('INVALID_INPUT')
    })

    it('refuses an expired key, a key of another environment and a wrong secret, with one message', async () => {
      const { key } = await f.services.apikeys.create(f.ctx, { name: 'e', owner: 'op@example.com', expires: '1h' })
      await f.services.apikeys.verify(key)
      const other = createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: f.db.knex, clock: f.clock, environmentName: 'production' })
      const foreign = await rejection(other.apikeys.verify(key))
      const production = await other.apikeys.create(f.ctx, { name: 'p', owner: 'op@example.com' })
      expect(production.key).to.match(/^gk_production_/)
      expect(await verifyCode(production.key)).to.equal('APIKEY_INVALID')
      const { keyId } = parseApiKey(key)
      const wrongSecret = (await f.services.apikeys.create(f.ctx, { name: 'w', owner: 'op@example.com' })).key.replace(/_[0-9A-Za-z]{12}_/, `_${keyId}_`)
      // A key with the right id but another secret (and a valid check) is refused on its secret.
      const forged = await rejection(f.services.apikeys.verify(reCheck(wrongSecret)))
      f.clock.advance(HOUR)
      const expired = await rejection(f.services.apikeys.verify(key))
      for (const e of [foreign, forged, expired])
        expect({ code: e.code, message: e.message }).to.deep.equal({ code: 'APIKEY_INVALID', message: 'The API key is not valid.' })
    })

    it('records last use at most once a minute', async () => {
      const { key, apiKey } = await f.services.apikeys.create(f.ctx, { name: 'u', owner: 'op@example.com' })
      const lastUsed = async () => Number((await f.db.knex('gantry_api_keys').where({ key_id: apiKey.id }).first()).last_used_at)
      const first = f.clock.now()
      await f.services.apikeys.verify(key)
      expect(await lastUsed()).to.equal(first)
      f.clock.advance(59_999)
      await f.services.apikeys.verify(key)
      expect(await lastUsed()).to.equal(first)
      f.clock.advance(1)
      await f.services.apikeys.verify(key)
      expect(await lastUsed()).to.equal(first + 60_000)
      expect((await f.services.apikeys.list(f.ctx)).data[0]?.lastUsedAt).to.equal(new Date(first + 60_000).toISOString())
    })

    it('a mistyped key is refused before any query (the database is closed)', async () => {
      const { key } = await f.services.apikeys.create(f.ctx, { name: 't', owner: 'op@example.com' })
      const closed = sqliteKnex(':memory:')
      await closed.destroy()
      const offline = createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex: closed, clock: f.clock, environmentName: 'test' })
      const typo = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21)
      for (const bad of [typo, key.slice(0, -1), `${key}x`, '', 'gk_test_x', 'x'.repeat(10_000)]) {
        expect((await rejection(offline.apikeys.verify(bad))).code, bad.slice(0, 40)).to.equal('APIKEY_INVALID')
      }
      // The well-formed key does reach the (closed) database: the refusals above came before any query.
      expect((await rejection(offline.apikeys.verify(key))).code).to.not.equal('APIKEY_INVALID')
    })

    it('audits create, revoke and rotate without any key, secret or hash', async () => {
      const created = await f.services.apikeys.create(f.ctx, { name: 'a', owner: 'op@example.com' })
      const rotated = await f.services.apikeys.rotate(f.ctx, created.apiKey.id)
      await f.services.apikeys.revoke(f.ctx, created.apiKey.id)
      const rows = await f.db.knex('gantry_audit_log').where('action', 'like', 'apikeys.%').orderBy('id')
      expect(rows.map((r: { action: string }) => r.action)).to.deep.equal(['apikeys.create', 'apikeys.rotate', 'apikeys.revoke'])
      expect(rows.every((r: { target_id: string; actor: string }) => r.target_id === created.apiKey.id && r.actor === 'local:test@host')).to.equal(true)
      const hashes = (await f.db.knex('gantry_api_keys').select('secret_hash', 'previous_secret_hash'))
        .flatMap((r: Record<string, string | null>) => [r.secret_hash, r.previous_secret_hash])
        .filter(Boolean)
      const everything = JSON.stringify(await f.db.knex('gantry_audit_log'))
      expect(everything).to.not.contain('gk_').and.not.contain('$argon2')
      for (const secret of [created.key, rotated.key, parseApiKey(created.key).secret, parseApiKey(rotated.key).secret, ...hashes])
        expect(everything).to.not.contain(secret)
    })
  })
}
