import { expect } from 'chai'
import { decodeProtectedHeader } from 'jose'
import type { Knex } from 'knex'
import knexFactory from 'knex'
import type { ActorContext } from '../../../src/core/context.js'
import { createServices, type Services } from '../../../src/core/services.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const SECRET = 'a test secret of at least thirty-two bytes'
const AUTH = { secret: SECRET, algorithm: 'EdDSA', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' } as const
const DAY = 86_400_000
const client: ActorContext = { actor: 'ip:203.0.113.9', permissions: [], ip: '203.0.113.9' }
const operator: ActorContext = { actor: 'user:2', permissions: ['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write'] }

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** The kid in a token's header. */
const kidOf = (token: string): unknown => decodeProtectedHeader(token).kid

for (const dialect of DIALECTS) {
  describe(`signing keys (EdDSA) on ${dialect}`, function () {
    let f: IdentityFixture
    let extra: Knex | undefined
    const keys = () => f.services.signingKeys
    const sessions = () => f.services.sessions
    /** Another service layer over the same database, as another server process would build it. */
    const instance = (knex: Knex = f.db.knex, auth: Parameters<typeof createServices>[0]['auth'] = AUTH): Services =>
      createServices({ rateLimitRoutes: BUILTIN_RULE_ROUTES, knex, clock: f.clock, auth, environmentName: 'test' })
    /** A second connection pool to the same database: really concurrent with the first. */
    const secondPool = (): Knex => (extra ??= knexFactory((f.db.knex.client as { config: Knex.Config }).config))
    const rows = () => f.db.knex('gantry_signing_keys').orderBy('generation')

    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { auth: AUTH, environmentName: 'test' })
      await f.services.users.create(f.ctx, { email: 'op@example.com', role: 'operator', password: STRONG })
    })
    afterEach(async () => {
      await extra?.destroy()
      extra = undefined
      await f?.cleanup()
    })

    it('first key on first need; rotate: the previous key verifies, new tokens carry the new kid; after retirement + the longest lifetime it leaves the JWKS', async () => {
      expect(await keys().jwks()).to.deep.equal({ keys: [] })
      const first = await sessions().login('op@example.com', STRONG, client)
      const script = await sessions().issueScriptToken(f.ctx, 'op@example.com', { ttl: '24h' })
      const k1 = kidOf(first.accessToken)
      expect(k1).to.be.a('string').and.equal(kidOf(script.token))
      expect(decodeProtectedHeader(first.accessToken)).to.deep.equal({ alg: 'EdDSA', typ: 'at+jwt', kid: k1 })
      expect((await keys().list(f.ctx)).data).to.deep.equal([
        { kid: k1, alg: 'EdDSA', state: 'current', createdAt: new Date(f.clock.now()).toISOString(), retiredAt: null, verifiesUntil: null },
      ])

      f.clock.advance(60_000)
      const rotated = await keys().rotate(f.ctx)
      const k2 = rotated.current.kid
      expect(k2).to.not.equal(k1)
      expect(rotated.previous).to.include({ kid: k1, state: 'previous', retiredAt: new Date(f.clock.now()).toISOString() })
      const verifiesUntil = Date.parse(rotated.previous?.verifiesUntil ?? '')
      expect(verifiesUntil - f.clock.now())
        .to.be.at.least(DAY)
        .and.at.most(DAY + 2 * 60_000)

      expect((await sessions().verifyAccess(first.accessToken)).sub).to.equal((await sessions().verifyAccess(script.token)).sub)
      const second = await sessions().login('op@example.com', STRONG, client)
      expect(kidOf(second.accessToken)).to.equal(k2)
      expect(kidOf((await sessions().refresh(first.refreshToken)).accessToken)).to.equal(k2)
      const jwks = await keys().jwks()
      expect(jwks?.keys.map((k) => k.kid)).to.deep.equal([k2, k1])
      for (const jwk of jwks?.keys ?? []) {
        expect(Object.keys(jwk).sort()).to.deep.equal(['alg', 'crv', 'kid', 'kty', 'use', 'x'])
        expect(jwk).to.include({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
      }
      expect((await keys().list(f.ctx)).data.map((k) => `${k.kid}:${k.state}`)).to.deep.equal([`${k2}:current`, `${k1}:previous`])

      // Audited by kid only: the first key made on first use, then the rotation.
      const audit = await f.db.knex('gantry_audit_log').whereIn('action', ['keys.create', 'keys.rotate']).orderBy('id')
      expect(audit.map((r: { action: string; actor: string; target_id: string }) => [r.action, r.actor, r.target_id])).to.deep.equal([
        ['keys.create', 'gantry:first-use', k1],
        ['keys.rotate', 'local:test@host', k2],
      ])
      expect(JSON.parse(audit[1].before)).to.deep.equal({ kid: k1 })
      for (const r of audit) expect(`${r.before} ${r.after}`).to.not.match(/"d"|eyJ/)

      f.clock.set(verifiesUntil - 1)
      expect((await keys().jwks())?.keys.map((k) => k.kid)).to.deep.equal([k2, k1])
      f.clock.set(verifiesUntil)
      expect((await keys().jwks())?.keys.map((k) => k.kid)).to.deep.equal([k2])
      expect((await keys().list(f.ctx)).data.map((k) => k.kid)).to.deep.equal([k2])
      expect((await rejection(sessions().verifyAccess(script.token))).code).to.equal('TOKEN_INVALID')
      expect((await rejection(instance().sessions.verifyAccess(script.token))).code).to.equal('TOKEN_INVALID')
      // The current key never ages out.
      expect(kidOf((await sessions().login('op@example.com', STRONG, client)).accessToken)).to.equal(k2)
      expect((await rows()).length).to.equal(2)
    })

    it('stores the private key only sealed under the auth secret, and clears it on retirement', async () => {
      await sessions().login('op@example.com', STRONG, client)
      const [row] = await rows()
      expect(row.private_jwk.split('.')).to.have.length(5) // a compact JWE
      expect(decodeProtectedHeader(row.private_jwk)).to.deep.include({ alg: 'dir', enc: 'A256GCM', kid: row.kid })
      expect(row.private_jwk).to.not.contain('"d"')
      expect(Object.keys(JSON.parse(row.public_jwk)).sort()).to.deep.equal(['crv', 'kty', 'x'])
      for (const cell of Object.values(row as Record<string, unknown>)) expect(String(cell)).to.not.match(/"d"\s*:/)

      // The database alone signs nothing: another secret cannot open the key, no secret is refused first.
      const otherSecret = instance(f.db.knex, { ...AUTH, secret: 'another secret of at least thirty-two bytes' })
      const refused = await rejection(otherSecret.sessions.login('op@example.com', STRONG, client))
      expect(refused.code).to.equal('SIGNING_KEY_MISSING')
      expect(refused.message).to.contain(row.kid).and.contain('GANTRY_AUTH_SECRET')
      const noSecret = await rejection(instance(f.db.knex, { ...AUTH, secret: undefined }).sessions.login('op@example.com', STRONG, client))
      expect(noSecret.code).to.equal('AUTH_SECRET_MISSING')
      expect(noSecret.message).to.contain('EdDSA').and.contain('database dump')
      // A rotation under the new secret makes a key it can open; the old one retires with its private half gone.
      await otherSecret.signingKeys.rotate(f.ctx)
      await otherSecret.sessions.login('op@example.com', STRONG, client)
      const after = await rows()
      expect(after.map((r: { private_jwk: string | null }) => r.private_jwk === null)).to.deep.equal([true, false])
    })

    it('a second instance verifies a token signed with a key rotated by the first (reload on an unknown kid, at most once a second)', async () => {
      const other = instance(secondPool())
      const before = await sessions().login('op@example.com', STRONG, client)
      await other.sessions.verifyAccess(before.accessToken) // `other` has read the keys now
      await keys().rotate(f.ctx)
      const after = await sessions().login('op@example.com', STRONG, client)

      let reads = 0
      const count = (q: { sql: string }) => void (/gantry_signing_keys/.test(q.sql) && reads++)
      secondPool().on('query', count)
      // Within the second of its last read, an unknown kid is refused without another read …
      expect((await rejection(other.sessions.verifyAccess(after.accessToken))).code).to.equal('TOKEN_INVALID')
      expect(reads).to.equal(0)
      // … and once it has passed, the first unknown kid reads the keys again; a flood of them reads once.
      f.clock.advance(1000)
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => other.sessions.verifyAccess(after.accessToken)))
      expect(results.map((r) => r.status)).to.deep.equal(Array(20).fill('fulfilled'))
      expect(reads).to.equal(1)
      const [, payload, signature] = after.accessToken.split('.')
      for (let i = 0; i < 10; i++)
        await rejection(other.sessions.verifyAccess(`${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: `unknown-${i}` })}.${payload}.${signature}`))
      expect(reads).to.equal(1)
      // Its own new tokens carry the new kid within the second too.
      f.clock.advance(1000)
      expect(kidOf((await other.sessions.login('op@example.com', STRONG, client)).accessToken)).to.equal(kidOf(after.accessToken))
      secondPool().off('query', count)
    })

    it('instances making the first key at once end with exactly one; concurrent rotations with exactly one current key', async () => {
      const instances = [instance(), instance(), instance(secondPool()), instance(secondPool())]
      const signing = await Promise.all(instances.map((s) => s.signingKeys.tokenKeys().signingKey()))
      expect(new Set(signing.map((k) => k.kid)).size).to.equal(1)
      expect(await rows()).to.have.length(1)
      expect(await f.db.knex('gantry_audit_log').where({ action: 'keys.create' })).to.have.length(1)

      const rotations = await Promise.all(instances.slice(1).map((s) => s.signingKeys.rotate(f.ctx)))
      expect(new Set(rotations.map((r) => r.current.kid)).size).to.equal(3)
      const all = await rows()
      expect(all.map((r: { generation: number }) => r.generation)).to.deep.equal([1, 2, 3, 4])
      expect(all.filter((r: { retired_at: unknown }) => r.retired_at === null)).to.have.length(1)
      expect((await keys().list(f.ctx)).data.map((k) => k.state)).to.deep.equal(['current', 'previous', 'previous', 'previous'])
      // Every instance verifies what every other signs.
      f.clock.advance(1000)
      const token = (await instances[3]!.sessions.issueScriptToken(f.ctx, 'op@example.com')).token
      for (const s of instances) expect((await s.sessions.verifyAccess(token)).kind).to.equal('user')
    })

    it('list needs keys:read (every built-in role), rotate keys:write (admin only); under HS256 both are a usage error and there is no JWKS', async () => {
      expect((await keys().list(operator)).data).to.deep.equal([])
      const forbidden = await rejection(keys().rotate(operator))
      expect({ code: forbidden.code, details: forbidden.details }).to.deep.equal({ code: 'FORBIDDEN', details: { required: 'keys:write' } })
      expect((await rejection(keys().list({ actor: 'anonymous', permissions: [] }))).code).to.equal('FORBIDDEN')

      const hs = instance(f.db.knex, { ...AUTH, algorithm: 'HS256' })
      expect(await hs.signingKeys.jwks()).to.equal(undefined)
      for (const call of [hs.signingKeys.list(f.ctx), hs.signingKeys.rotate(f.ctx)]) {
        const err = await rejection(call)
        expect(err.code).to.equal('INVALID_INPUT')
        expect((err as unknown as { exit: number }).exit).to.equal(2)
        expect(err.message).to.contain('auth.algorithm EdDSA')
      }
      const token = (await hs.sessions.login('op@example.com', STRONG, client)).accessToken
      expect(decodeProtectedHeader(token)).to.deep.equal({ alg: 'HS256', typ: 'at+jwt' })
      // Each environment accepts only its own algorithm.
      expect((await rejection(sessions().verifyAccess(token))).code).to.equal('TOKEN_INVALID')
      expect((await rejection(hs.sessions.verifyAccess((await sessions().login('op@example.com', STRONG, client)).accessToken))).code).to.equal('TOKEN_INVALID')
      expect(await rows()).to.have.length(1)
    })
  })
}
