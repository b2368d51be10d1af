/**
 * The sessions service where `auth.passwordLogin` is false: every password login is refused before the hash
 * (audited), and the break-glass sign-in takes the one admin of `auth.breakGlass`, from the CLI on the database
 * only (a `local:` actor), with the right password, audited as `sessions.break-glass` beside the login.
 */
import { expect } from 'chai'
import type { ActorContext } from '../../../src/core/context.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

const AUTH = {
  secret: 'a test secret of at least thirty-two bytes',
  issuer: 'gantry',
  audience: 'gantry',
  accessTokenTtl: '15m',
  refreshTokenTtl: '30d',
  passwordLogin: false,
  breakGlass: 'Root@Example.com',
}

for (const dialect of DIALECTS) {
  describe(`password sign-in off, and the break-glass admin, on ${dialect}`, function () {
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect, { auth: AUTH })
      await f.services.users.create(f.ctx, { email: 'root@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'ops@example.com', role: 'operator', password: STRONG })
    })
    afterEach(() => f?.cleanup())

    const audit = async (action: string) =>
      (await f.db.knex('gantry_audit_log').where({ action }).orderBy('id')).map(
        (r: Record<string, unknown>) => JSON.parse(String(r.after)) as Record<string, unknown>,
      )

    it('refuses every password login before the hash, the break-glass admin too, and audits each', async () => {
      const remote: ActorContext = { actor: 'anonymous', permissions: [], ip: '203.0.113.9' }
      for (const email of ['root@example.com', 'ops@example.com', 'nobody@example.com']) {
        expect((await rejection(f.services.sessions.login(email, STRONG, remote))).code, email).to.equal('PASSWORD_LOGIN_DISABLED')
      }
      expect((await audit('sessions.login-failed')).map((a) => a.reason)).to.deep.equal(Array(3).fill('password-login-off'))
      // No failure counted against the accounts: nothing was tried.
      expect((await f.db.knex('gantry_users').max({ n: 'failed_logins' }).first())?.n).to.equal(0)
    })

    it('signs the break-glass admin in from the CLI on the database only, with the right password; loudly', async () => {
      const overHttp: ActorContext = { actor: 'user:1', permissions: ['*'], ip: '203.0.113.9' }
      expect((await rejection(f.services.sessions.breakGlass('root@example.com', STRONG, overHttp))).code).to.equal('FORBIDDEN')
      expect((await rejection(f.services.sessions.breakGlass('ops@example.com', STRONG, f.ctx))).code, 'another account').to.equal('INVALID_CREDENTIALS')
      expect((await rejection(f.services.sessions.breakGlass('root@example.com', 'a wrong password', f.ctx))).code).to.equal('INVALID_CREDENTIALS')
      expect((await audit('sessions.login-failed')).map((a) => a.reason)).to.deep.equal(['not-break-glass', 'wrong-password'])

      const tokens = await f.services.sessions.breakGlass('ROOT@example.com', STRONG, f.ctx)
      const root = await f.services.users.get(f.ctx, 'root@example.com')
      expect((await f.services.sessions.verifyAccess(tokens.accessToken)).sub).to.equal(String(root.id))
      expect((await audit('sessions.login')).map((a) => a.method)).to.deep.equal(['break-glass'])
      expect(await audit('sessions.break-glass')).to.deep.equal([{ email: 'root@example.com', operator: 'local:test@host', passwordLogin: false }])

      // Demoted, the account is no break-glass admin any more.
      await f.services.users.create(f.ctx, { email: 'other-admin@example.com', role: 'admin', password: STRONG })
      await f.services.users.update(f.ctx, 'root@example.com', { role: 'operator' })
      expect((await rejection(f.services.sessions.breakGlass('root@example.com', STRONG, f.ctx))).code).to.equal('INVALID_CREDENTIALS')
    })
  })
}
