/**
 * Single sign-on against a real identity provider (oidc-provider on loopback, test/helpers/test-idp.ts):
 * Gantry's sso service makes the authorization request, the IdP signs the user in without a browser, and the
 * callback comes back to the service as a browser would bring it. Each attack is tried for real — a wrong
 * or missing state, a replayed callback, a callback in another browser, a wrong nonce, an `iss` mix-up, a
 * code of another client, a forged ID token (another issuer or audience, expired, no nonce, a foreign key),
 * an unverified email or another domain reaching for an existing account — and each
 * must be refused and audited.
 */
import { expect } from 'chai'
import type { JWTPayload } from 'jose'
import type { ActorContext } from '../../../src/core/context.js'
import type { SsoProviderConfig } from '../../../src/core/sso/sso-config.js'
import { ssoProviderSchema } from '../../../src/core/sso/sso-config.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection, type Rejection } from '../../helpers/rejection.js'
import { startTestIdp, type TestIdp } from '../../helpers/test-idp.js'

const CALLBACK = 'http://127.0.0.1:9/api/v1/auth/sso/corp/callback'
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const WEB = {
  client_id: 'gantry',
  client_secret: 'the web client secret of the sso tests',
  redirect_uris: [CALLBACK],
  grant_types: ['authorization_code', DEVICE_GRANT],
}
/** The same client at the other provider, without the device grant. */
const WEB_ONLY = { client_id: WEB.client_id, client_secret: WEB.client_secret, redirect_uris: [CALLBACK] }
const OTHER = { client_id: 'other-app', client_secret: 'another client of the same provider', redirect_uris: [CALLBACK] }
const AUTH = { secret: 'a test secret of at least thirty-two bytes', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' }
const CONSOLE = { to: 'console' } as const
/** An account id of 256 characters: one more than an identity's subject holds. */
const LONG_ID = `account-${'9'.repeat(248)}`
const BROWSER: ActorContext = { actor: 'anonymous', permissions: [], ip: '198.51.100.20' }

describe('single sign-on with an OpenID Connect provider', function () {
  let idp: TestIdp
  let other: TestIdp

  before(async () => {
    const accounts = {
      ada: { email: 'ada@corp.example', email_verified: true, name: 'Ada', groups: ['engineering'] },
      eve: { email: 'root@corp.example', email_verified: false, name: 'Eve' },
      mallory: { email: 'root@elsewhere.example', email_verified: true },
      // Ada's address, verified, under another subject: the mailbox changed hands at the provider.
      heir: { email: 'ada@corp.example', email_verified: true },
      // A tab and a bidi isolate, which a user's name may not hold: the account is still created.
      [LONG_ID]: { email: 'long@corp.example', email_verified: true },
      new: { email: 'new@corp.example', email_verified: true, name: 'New\tPerson\u2066', groups: ['support', 'engineering'] },
    }
    idp = await startTestIdp({ accounts, clients: [WEB, OTHER], deviceInterval: 1 })
    other = await startTestIdp({ accounts: { ada: accounts.ada }, clients: [WEB_ONLY] })
  })
  after(async () => {
    await idp?.close()
    await other?.close()
  })

  for (const dialect of DIALECTS) {
    describe(`on ${dialect}`, function () {
      let f: IdentityFixture

      const provider = (overrides: Partial<SsoProviderConfig> = {}): SsoProviderConfig =>
        ssoProviderSchema.parse({
          id: 'corp',
          name: 'Corp',
          issuer: idp.issuer,
          clientId: WEB.client_id,
          clientSecret: WEB.client_secret,
          redirectUri: CALLBACK,
          scopes: ['openid', 'email', 'profile', 'groups'],
          allowedDomains: ['corp.example'],
          ...overrides,
        })
      const open = async (providers: SsoProviderConfig[]) => {
        await f?.cleanup()
        f = await identityFixture(dialect, { auth: { ...AUTH, sso: { providers } } })
        await f.services.users.create(f.ctx, { email: 'root@corp.example', role: 'admin', password: STRONG })
        await f.services.users.create(f.ctx, { email: 'ada@corp.example', role: 'viewer', password: STRONG })
      }
      /** A whole sign-in: start, the IdP's login as `sub`, the callback in the same browser. */
      const signIn = async (sub: string, options: { tamper?: (callback: URL) => void; binding?: string } = {}) => {
        const started = await f.services.sso.start('corp', CONSOLE)
        const callback = new URL(await idp.signIn(started.url, sub))
        options.tamper?.(callback)
        return { started, callback, result: f.services.sso.complete('corp', callback.search, options.binding ?? started.binding, BROWSER) }
      }
      const refusals = async () =>
        (await f.db.knex('gantry_audit_log').where({ action: 'sessions.login-failed' }).orderBy('id')).map(
          (r: Record<string, unknown>) => JSON.parse(String(r.after)).reason as string,
        )
      const userIdOf = async (email: string) => (await f.services.users.get(f.ctx, email)).id

      beforeEach(async function () {
        await requireDialect(this, dialect)
        await open([provider()])
      })
      afterEach(async () => {
        await f?.cleanup()
      })

      it('links an existing user by a verified email of an allowed domain, then signs in by the subject; an ordinary session, audited', async () => {
        const { result } = await signIn('ada')
        const outcome = await result
        if (outcome.to !== 'console') throw new Error('expected the console')
        const { tokens } = outcome
        const ctx = await f.services.sessions.verifyAccess(tokens.accessToken)
        const ada = await userIdOf('ada@corp.example')
        expect(ctx.sub).to.equal(String(ada))
        expect((await f.services.sessions.refresh(tokens.refreshToken)).accessToken).to.be.a('string')

        const identities = await f.services.users.identities(f.ctx, 'ada@corp.example')
        expect(identities.identities.map((i) => [i.provider, i.subject, i.email])).to.deep.equal([['corp', 'ada', 'ada@corp.example']])
        const entries = await f.db.knex('gantry_audit_log').whereIn('action', ['users.link', 'sessions.login']).orderBy('id')
        expect(
          entries.map((e: Record<string, unknown>) => [e.action, e.actor, JSON.parse(String(e.after)).method ?? JSON.parse(String(e.after)).provider]),
        ).to.deep.equal([
          ['users.link', 'system:sso:corp', 'corp'],
          ['sessions.login', `user:${ada}`, 'sso:corp'],
        ])

        // The subject, not the email, signs in from now on: a changed address at the provider is the same account.
        idp.accounts.ada!.email = 'ada.lovelace@corp.example'
        await (
          await signIn('ada')
        ).result
        expect((await f.services.users.identities(f.ctx, 'ada@corp.example')).identities[0]?.email).to.equal('ada.lovelace@corp.example')
        // An address the provider does not vouch for is not shown as the provider's.
        idp.accounts.ada!.email_verified = false
        await (
          await signIn('ada')
        ).result
        expect((await f.services.users.identities(f.ctx, 'ada@corp.example')).identities[0]?.email).to.equal(null)
        idp.accounts.ada!.email_verified = true
        idp.accounts.ada!.email = 'ada@corp.example'
      })

      it('an unverified email, or a verified one of another domain, does not take over an existing account', async () => {
        expect((await rejection((await signIn('eve')).result)).code).to.equal('SSO_FAILED')
        expect((await rejection((await signIn('mallory')).result)).code).to.equal('SSO_FAILED')
        expect(await refusals()).to.deep.equal(['email not verified', 'domain not allowed'])
        expect((await f.services.users.identities(f.ctx, 'root@corp.example')).identities).to.deep.equal([])
        expect(await f.db.knex('gantry_audit_log').where({ action: 'sessions.login' })).to.have.length(0)
      })

      it('creates a user only where autoCreate is on, with the role roleMap gives; the role follows the claim at each sign-in', async () => {
        expect((await rejection((await signIn('new')).result)).code).to.equal('SSO_FAILED')
        expect(await refusals()).to.deep.equal(['no such user'])

        await open([provider({ autoCreate: true, roleClaim: 'groups', roleMap: { engineering: 'operator', admins: 'admin' } })])
        await (
          await signIn('new')
        ).result
        const created = await f.services.users.get(f.ctx, 'new@corp.example')
        expect(created).to.include({ name: 'New Person', role: 'operator', status: 'active' })

        idp.accounts.new!.groups = ['admins']
        await (
          await signIn('new')
        ).result
        expect((await f.services.users.get(f.ctx, 'new@corp.example')).role).to.equal('admin')
        idp.accounts.new!.groups = ['nothing-mapped']
        await (
          await signIn('new')
        ).result
        expect((await f.services.users.get(f.ctx, 'new@corp.example')).role, 'out of every mapped group: defaultRole').to.equal('viewer')
        idp.accounts.new!.groups = ['support', 'engineering']
      })

      it('first sign-ins of one identity at once (tabs, a double click) all succeed: one user, one link', async () => {
        await open([provider({ autoCreate: true })])
        // Each tab's sign-in at the IdP first, then every callback at once: they race to create and to link.
        const tabs = await Promise.all(
          Array.from({ length: 4 }, async () => {
            const started = await f.services.sso.start('corp', CONSOLE)
            return { started, callback: new URL(await idp.signIn(started.url, 'new')) }
          }),
        )
        const outcomes = await Promise.all(tabs.map((t) => f.services.sso.complete('corp', t.callback.search, t.started.binding, BROWSER)))
        const subjects = await Promise.all(
          outcomes.map(async (o) => (o.to === 'console' ? (await f.services.sessions.verifyAccess(o.tokens.accessToken)).sub : o.to)),
        )
        const created = await f.services.users.get(f.ctx, 'new@corp.example')
        expect(subjects).to.deep.equal(Array<string>(4).fill(String(created.id)))
        expect(await f.db.knex('gantry_users').where({ email: 'new@corp.example' })).to.have.length(1)
        expect(await f.db.knex('gantry_user_identities').where({ provider: 'corp', subject: 'new' })).to.have.length(1)
        expect(await f.db.knex('gantry_audit_log').where({ action: 'users.link' })).to.have.length(1)
        expect(await refusals()).to.deep.equal([])
      })

      it('refuses a missing or wrong state, a replayed callback and a callback in another browser', async () => {
        expect((await rejection((await signIn('ada', { tamper: (c) => c.searchParams.delete('state') })).result)).code).to.equal('SSO_FAILED')
        expect((await rejection((await signIn('ada', { tamper: (c) => c.searchParams.set('state', 'forged') })).result)).code).to.equal('SSO_FAILED')
        expect((await rejection((await signIn('ada', { binding: 'another-browser' })).result)).code).to.equal('SSO_FAILED')
        const { callback, started, result } = await signIn('ada')
        await result
        const replay = f.services.sso.complete('corp', callback.search, started.binding, BROWSER)
        expect((await rejection(replay)).code).to.equal('SSO_FAILED')
        expect(await refusals()).to.deep.equal(['no state', 'unknown or used state', 'started in another browser', 'unknown or used state'])
      })

      it('refuses a wrong nonce, an iss mix-up, a callback without iss and a code of another provider or client', async () => {
        // The nonce the callback expects, changed where it waits: the ID token's no longer matches.
        const started = await f.services.sso.start('corp', CONSOLE)
        const callback = await idp.signIn(started.url, 'ada')
        await f.db.knex('gantry_sso_logins').update({ nonce: 'not-the-nonce-sent' })
        expect((await rejection(f.services.sso.complete('corp', new URL(callback).search, started.binding, BROWSER))).code).to.equal('SSO_FAILED')

        const mixUp = await signIn('ada', { tamper: (c) => c.searchParams.set('iss', other.issuer) })
        expect((await rejection(mixUp.result)).code).to.equal('SSO_FAILED')
        const noIss = await signIn('ada', { tamper: (c) => c.searchParams.delete('iss') })
        expect((await rejection(noIss.result)).code).to.equal('SSO_FAILED')
        // The same request, client id and all, answered by another provider: its code, with its own iss, is not this provider's.
        const asked = await f.services.sso.start('corp', CONSOLE)
        const foreign = new URL(asked.url)
        const answered = await other.signIn(new URL(foreign.pathname + foreign.search, other.issuer).href, 'ada')
        expect((await rejection(f.services.sso.complete('corp', new URL(answered).search, asked.binding, BROWSER))).code).to.equal('SSO_FAILED')

        const reasons = await refusals()
        expect(reasons).to.have.length(4)
        expect(reasons[0]).to.match(/nonce/)
        for (const reason of reasons.slice(1, 3)) expect(reason).to.match(/iss/)
        expect(reasons[3]).to.match(/iss/)
        expect(await f.db.knex('gantry_user_identities')).to.have.length(0)
      })

      it("refuses an ID token from another issuer, for another audience, expired or not yet valid, without its nonce or signed with a key not the provider's; each audited", async () => {
        const now = Math.floor(Date.now() / 1000)
        const forgeries: Array<[string, (issued: JWTPayload) => Promise<string>]> = [
          ['another audience', (t) => idp.signIdToken({ ...t, aud: OTHER.client_id, azp: OTHER.client_id })],
          ['another issuer', (t) => idp.signIdToken({ ...t, iss: other.issuer })],
          ['expired an hour ago', (t) => idp.signIdToken({ ...t, iat: now - 7200, exp: now - 3600 })],
          ['not valid before an hour from now', (t) => idp.signIdToken({ ...t, nbf: now + 3600 })],
          ['no nonce', (t) => idp.signIdToken({ ...t, nonce: undefined })],
          ['another key (the other IdP signs)', (t) => other.signIdToken(t)],
        ]
        try {
          for (const [what, forge] of forgeries) {
            idp.forgeIdTokens = forge
            const outcome = await (
              await signIn('ada')
            ).result.then(
              () => 'signed in',
              (err: Rejection) => err.code,
            )
            expect(outcome, what).to.equal('SSO_FAILED')
          }
        } finally {
          idp.forgeIdTokens = undefined
        }
        const reasons = await refusals()
        expect(reasons, 'one refusal each').to.have.length(forgeries.length)
        const expected = [/aud/, /iss/, /exp/, /nbf/, /nonce/, /signature|key|kid|JWK/i]
        reasons.forEach((reason, i) => expect(reason, forgeries[i]?.[0]).to.match(expected[i] as RegExp))
        expect(await f.db.knex('gantry_user_identities'), 'no identity linked').to.have.length(0)
        expect(await f.db.knex('gantry_audit_log').where({ action: 'sessions.login' }), 'no session').to.have.length(0)
        // The IdP behaving again, the same user signs in.
        expect((await (await signIn('ada')).result).to).to.equal('console')
      })

      it("refuses a disabled user and another account holding the user's address; unlinking ends the user's sessions, and links again only by a verified email", async () => {
        const first = await (await signIn('ada')).result
        expect((await rejection((await signIn('heir')).result)).code).to.equal('SSO_FAILED')
        await f.services.users.disable(f.ctx, 'ada@corp.example')
        expect((await rejection((await signIn('ada')).result)).code).to.equal('SSO_FAILED')
        await f.services.users.enable(f.ctx, 'ada@corp.example')

        const unlinked = await f.services.users.unlink(f.ctx, 'ada@corp.example', { provider: 'corp' })
        expect(unlinked).to.deep.equal({ user: 'ada@corp.example', provider: 'corp', unlinked: 1 })
        if (first.to !== 'console') throw new Error('expected the console')
        expect((await rejection(f.services.sessions.refresh(first.tokens.refreshToken))).code, 'its sessions ended').to.equal('TOKEN_INVALID')
        expect((await rejection(f.services.users.unlink(f.ctx, 'ada@corp.example', { provider: 'corp' }))).code).to.equal('IDENTITY_NOT_FOUND')
        idp.accounts.ada!.email_verified = false
        expect((await rejection((await signIn('ada')).result)).code).to.equal('SSO_FAILED')
        idp.accounts.ada!.email_verified = true
        await (
          await signIn('ada')
        ).result
        expect(await refusals()).to.deep.equal(['user linked to another account at this provider', 'disabled', 'email not verified'])
      })

      it('signs a CLI in on another device (RFC 8628) where the provider is configured for it: pending until the person approves, the provider asked once per interval (5 s more after slow_down), then one session; an expired code and a provider without the grant refused', async () => {
        const notConfigured = await rejection(f.services.sso.startDevice('corp'))
        expect(notConfigured.code, 'deviceFlow is off by default').to.equal('SSO_UNAVAILABLE')
        expect(notConfigured.message).to.include('not configured for sign-in on another device')
        await open([provider({ deviceFlow: true })])
        const started = await f.services.sso.startDevice('corp')
        expect(started).to.deep.include({ verificationUri: `${idp.issuer}/device`, interval: 1 })
        expect(started.userCode).to.match(/^[A-Z]{4}-?[A-Z]{4}$/)
        const poll = () => f.services.sso.pollDevice({ handle: started.handle }, BROWSER)
        const asked = idp.tokenRequests
        expect(await poll(), 'before its interval: pending').to.deep.equal({ status: 'pending', interval: 1 })
        expect(idp.tokenRequests, 'the provider not asked before its interval').to.equal(asked)
        f.clock.advance(1000)
        const pending = { status: 'pending', interval: 1 }
        expect(await Promise.all([poll(), poll()]), 'not approved yet, two polls at once').to.deep.equal([pending, pending])
        expect(idp.tokenRequests, 'of two polls at once, one asks').to.equal(asked + 1)
        idp.slowDowns = 1
        f.clock.advance(1000)
        expect(await poll(), 'slow_down: the interval grows by 5 s').to.deep.equal({ status: 'pending', interval: 6 })
        f.clock.advance(1000)
        expect(await poll(), 'the longer interval holds for the next poll').to.deep.equal({ status: 'pending', interval: 5 })
        expect(idp.tokenRequests, 'asked once more, for the slow_down').to.equal(asked + 2)
        idp.failTokenRequests = 1
        f.clock.advance(5000)
        expect((await rejection(poll())).code, "a proxy's 502: out of reach for now").to.equal('SSO_UNAVAILABLE')
        expect(idp.tokenRequests).to.equal(asked + 3)
        expect(await poll(), 'the sign-in stays, its next turn an interval later').to.deep.equal({ status: 'pending', interval: 6 })
        await idp.approveDevice(started.userCode, 'ada')
        f.clock.advance(6000)
        // Slower than the interval: the answer is the approval, and a device code gets one; nothing cuts it short.
        idp.tokenAnswerDelayMs = 1200
        const asking = poll().finally(() => (idp.tokenAnswerDelayMs = 0))
        while (idp.tokenRequests < asked + 4) await new Promise((resolve) => setImmediate(resolve))
        f.clock.advance(30_000)
        expect(await poll(), 'while a poll asks, another waits, even past its interval').to.deep.equal({ status: 'pending', interval: 6 })
        expect(idp.tokenRequests).to.equal(asked + 4)
        const done = await asking
        if (done.status !== 'signed-in') throw new Error(`expected a session, got ${JSON.stringify(done)}`)
        expect((await f.services.sessions.verifyAccess(done.tokens.accessToken)).sub).to.equal(String(await userIdOf('ada@corp.example')))
        expect((await rejection(poll())).code, 'the handle is spent').to.equal('SSO_FAILED')
        const logins = await f.db.knex('gantry_audit_log').where({ action: 'sessions.login' })
        expect(
          logins.map((e: Record<string, unknown>) => JSON.parse(String(e.after)).method),
          'audited as a device sign-in',
        ).to.deep.equal(['sso:corp:device'])

        const late = await f.services.sso.startDevice('corp')
        await f.db.knex('gantry_sso_devices').update({ expires_at: 0 })
        expect((await rejection(f.services.sso.pollDevice({ handle: late.handle }, BROWSER))).code).to.equal('SSO_FAILED')
        expect(await refusals()).to.deep.equal(['device code expired'])
        expect((await rejection(f.services.sso.pollDevice({ handle: 'A'.repeat(32) }, BROWSER))).code, 'an unknown handle').to.equal('SSO_FAILED')

        await open([provider({ issuer: other.issuer, deviceFlow: true })])
        const refused = await rejection(f.services.sso.startDevice('corp'))
        expect(refused.code).to.equal('SSO_UNAVAILABLE')
        expect(refused.message).to.match(/^Identity provider corp refused a device sign-in: .*device_code is not allowed for this client\.$/)
      })

      it("signs in through a plain OAuth 2.0 provider (GitHub's shape): its user API read, an address counted only where the provider vouches for it", async () => {
        const github = (oauth2: Partial<NonNullable<SsoProviderConfig['oauth2']>> = {}) =>
          provider({
            scopes: ['email', 'profile'],
            oauth2: {
              authorizationEndpoint: `${idp.issuer}/auth`,
              tokenEndpoint: `${idp.issuer}/token`,
              userInfoEndpoint: `${idp.issuer}/user`,
              emailsEndpoint: `${idp.issuer}/user/emails`,
              ...oauth2,
            },
          })
        await open([github()])
        // Ada's address is private there (GET /user shows none): the emails endpoint vouches for it.
        const signedIn = await (await signIn('ada')).result
        if (signedIn.to !== 'console') throw new Error('expected the console')
        expect((await f.services.sessions.verifyAccess(signedIn.tokens.accessToken)).sub).to.equal(String(await userIdOf('ada@corp.example')))
        const identities = await f.services.users.identities(f.ctx, 'ada@corp.example')
        expect(identities.identities.map((i) => [i.provider, i.subject, i.email])).to.deep.equal([['corp', 'ada', 'ada@corp.example']])
        // Eve's address is unverified there: nothing vouches for it, so it reaches no account.
        expect((await rejection((await signIn('eve')).result)).code).to.equal('SSO_FAILED')

        // Without the emails endpoint (and no verified field named), a public address is only what its owner typed.
        await open([github({ emailsEndpoint: undefined })])
        idp.accounts.ada!.publicEmail = true
        try {
          expect((await rejection((await signIn('ada')).result)).code).to.equal('SSO_FAILED')
        } finally {
          idp.accounts.ada!.publicEmail = false
        }
        expect(await refusals()).to.deep.equal(['email not verified'])
        expect(await f.db.knex('gantry_user_identities')).to.have.length(0)
        // No device flow without OpenID Connect metadata.
        expect((await rejection(f.services.sso.startDevice('corp'))).code).to.equal('SSO_UNAVAILABLE')
        // An account id longer than an identity's subject holds (OpenID Connect bounds it; a user API does not).
        await open([github()])
        expect((await rejection((await signIn(LONG_ID)).result)).code).to.equal('SSO_FAILED')
        expect((await refusals()).at(-1)).to.equal('subject longer than 255 characters')
      })

      it('names only configured providers, and a viewer may not unlink', async () => {
        expect(f.services.sso.providers()).to.deep.equal([{ id: 'corp', name: 'Corp' }])
        expect((await rejection(f.services.sso.start('nope', CONSOLE))).code).to.equal('SSO_PROVIDER_UNKNOWN')
        const viewer: ActorContext = { actor: 'user:99', permissions: ['*:read'] }
        expect((await rejection(f.services.users.unlink(viewer, 'ada@corp.example', { provider: 'corp' }))).code).to.equal('FORBIDDEN')
      })
    })
  }
})
