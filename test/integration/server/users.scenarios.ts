/** Scenarios of /api/v1/admin/users and a user's sessions (tokens issue / revoke). */
import { expect } from 'chai'
import request from 'supertest'
import { insertIdentity } from '../../../src/core/users/identities.repo.js'
import { USERS } from '../../helpers/server.js'
import { local, type AdminFixture, type Scenario, type Vars } from '../../helpers/admin-fixture.js'

const STRONG = 'another long passphrase 2'

let subjects = 0
/** A user made for one scenario, with an identity at provider `corp` as a first single sign-on would link it (gantry_user_identities). */
async function linkedUser(f: AdminFixture): Promise<Vars> {
  const email = await f.user('linked')
  const { id } = await f.server.services.users.get(local, email)
  const subject = `corp-subject-${++subjects}`
  const { knex } = await f.server.runtime.database()
  await insertIdentity(knex, { userId: id, provider: 'corp', subject, email: `sso.${email}`, at: f.server.clock.now() })
  return { email, subject }
}

export const userScenarios: Scenario[] = [
  {
    name: 'lists users a page at a time',
    method: 'get',
    path: '/users',
    who: 'admin',
    query: { limit: '2' },
    status: 200,
    check: async (res, f) => {
      expect(res.body.data).to.have.length(2)
      expect(res.body.data[0]).to.have.keys('id', 'email', 'name', 'role', 'status', 'lockedUntil', 'lastLoginAt', 'createdAt', 'updatedAt')
      const next = await request(f.server.app)
        .get('/api/v1/admin/users')
        .query({ limit: '2', cursor: res.body.nextCursor })
        .set(await f.headers('admin'))
      expect(next.status).to.equal(200)
      expect(next.body.data[0].id).to.be.greaterThan(res.body.data[1].id)
    },
  },
  {
    name: 'filters the list by role',
    method: 'get',
    path: '/users',
    who: 'viewer',
    query: { role: 'operator' },
    status: 200,
    check: (res) => {
      expect(res.body.data.map((u: { email: string }) => u.email)).to.include(USERS.operator)
      expect(res.body.data.every((u: { role: string }) => u.role === 'operator')).to.equal(true)
    },
  },
  {
    name: 'refuses a limit out of range',
    method: 'get',
    path: '/users',
    who: 'admin',
    query: { limit: '0' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['limit'],
  },
  {
    name: 'refuses an unknown query field',
    method: 'get',
    path: '/users',
    who: 'admin',
    query: { colour: 'red' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['colour'],
  },
  { name: 'refuses a cursor it did not make', method: 'get', path: '/users', who: 'admin', query: { cursor: 'garbage' }, status: 400, code: 'INVALID_INPUT' },
  {
    name: 'creates a user with a generated password, shown in this answer only',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: 'New.Hire@Example.com', name: 'New Hire', role: 'operator', generatePassword: true },
    status: 201,
    check: async (res, f) => {
      expect(res.body.user).to.include({ email: 'new.hire@example.com', role: 'operator', status: 'active' })
      const password = res.body.password as string
      expect(password).to.have.length.greaterThan(11)
      const shown = await request(f.server.app)
        .get('/api/v1/admin/users/new.hire@example.com')
        .set(await f.headers('admin'))
      const audit = await f.server.services.audit.list(local, { action: 'users.create' })
      for (const elsewhere of [JSON.stringify(shown.body), JSON.stringify(audit), JSON.stringify(f.server.logs)]) expect(elsewhere).to.not.include(password)
      expect(audit.data[0]?.actor).to.match(/^user:\d+$/)
      const login = await request(f.server.app).post('/api/v1/auth/login').send({ email: 'new.hire@example.com', password })
      expect(login.status).to.equal(200)
    },
  },
  {
    name: 'creates a user with a given password, returning none',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: 'given@example.com', password: STRONG },
    status: 201,
    check: (res) => expect(res.body).to.have.keys('user'),
  },
  {
    name: 'refuses a bad email and an unknown field',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: 'not-an-email', generatePassword: true, admin: true },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['email', 'admin'],
  },
  {
    name: 'refuses a weak password',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: 'weak@example.com', password: 'short' },
    status: 400,
    code: 'PASSWORD_POLICY',
  },
  {
    name: 'refuses a new user without a password, naming the body fields',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: 'nopassword@example.com' },
    status: 400,
    code: 'MISSING_INPUT',
    check: (res) => expect(res.body.hint).to.equal('Send "password", or "generatePassword": true.'),
  },
  {
    name: 'refuses an email that exists',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: USERS.viewer, generatePassword: true },
    status: 409,
    code: 'USER_EXISTS',
  },
  {
    name: 'refuses an unknown role',
    method: 'post',
    path: '/users',
    who: 'admin',
    body: { email: 'norole@example.com', role: 'wizard', generatePassword: true },
    status: 404,
    code: 'ROLE_NOT_FOUND',
  },
  {
    name: 'refuses a body that is not JSON',
    method: 'post',
    path: '/users',
    who: 'admin',
    headers: { 'Content-Type': 'text/plain' },
    body: 'email=x',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'shows one user, the email normalised',
    method: 'get',
    path: '/users/VIEWER%40Example.com',
    who: 'admin',
    status: 200,
    check: (res) => expect(res.body).to.include({ email: USERS.viewer, role: 'viewer' }).and.not.have.any.keys('passwordHash', 'password_hash', 'password'),
  },
  {
    name: 'refuses a malformed email in the path',
    method: 'get',
    path: '/users/not-an-email',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['email'],
  },
  {
    name: "updates a user's name and role",
    method: 'patch',
    path: (v) => `/users/${v.email}`,
    who: 'admin',
    setup: async (f) => ({ email: await f.user('patch') }),
    body: { name: 'Renamed', role: 'operator' },
    status: 200,
    check: (res) => expect(res.body).to.include({ name: 'Renamed', role: 'operator' }),
  },
  { name: 'refuses a patch that changes nothing', method: 'patch', path: `/users/${USERS.viewer}`, who: 'admin', body: {}, status: 400, code: 'INVALID_INPUT' },
  {
    name: 'refuses a patch with an unknown field',
    method: 'patch',
    path: `/users/${USERS.viewer}`,
    who: 'admin',
    body: { name: 'x', status: 'disabled' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['status'],
  },
  {
    name: 'refuses to demote the last admin',
    method: 'patch',
    path: `/users/${USERS.admin}`,
    who: 'admin',
    body: { role: 'viewer' },
    status: 409,
    code: 'LAST_ADMIN',
  },
  {
    name: 'deletes a user',
    method: 'delete',
    path: (v) => `/users/${v.email}`,
    who: 'admin',
    setup: async (f) => ({ email: await f.user('gone') }),
    status: 200,
    check: (res, _f, v) => expect(res.body.deleted.email).to.equal(v.email),
  },
  { name: 'refuses to delete the last admin', method: 'delete', path: `/users/${USERS.admin}`, who: 'admin', status: 409, code: 'LAST_ADMIN' },
  {
    name: 'erases a user: deleted, and the answer names the pseudonym, never the email',
    method: 'delete',
    path: (v) => `/users/${v.email}`,
    who: 'admin',
    query: { erase: 'true' },
    setup: async (f) => ({ email: await f.user('erased') }),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.erased.pseudonym).to.match(/^erased-[0-9A-Za-z]{16}$/)
      expect(JSON.stringify(res.body.erased)).to.not.include(v.email)
    },
  },
  {
    name: "gives one person's data (subject access): their user row and the audit entries about them",
    method: 'get',
    path: (v) => `/users/${v.email}/data`,
    who: 'admin',
    setup: async (f) => ({ email: await f.user('subject') }),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.user.email).to.equal(v.email)
      expect(res.body).to.have.keys('exportedAt', 'user', 'role', 'apiKeys', 'oauthClients', 'identities', 'sessions', 'audit')
      expect(res.body.audit.some((e: { action: string }) => e.action === 'users.create')).to.equal(true)
      expect(JSON.stringify(res.body)).to.not.include('password')
    },
  },
  { name: 'answers 404 for the data of nobody', method: 'get', path: '/users/nobody@example.com/data', who: 'admin', status: 404, code: 'USER_NOT_FOUND' },
  {
    name: 'disables a user',
    method: 'post',
    path: (v) => `/users/${v.email}/disable`,
    who: 'admin',
    setup: async (f) => ({ email: await f.user('off') }),
    status: 200,
    check: (res) => expect(res.body.status).to.equal('disabled'),
  },
  {
    name: 'enables a disabled user',
    method: 'post',
    path: (v) => `/users/${v.email}/enable`,
    who: 'admin',
    setup: async (f) => {
      const email = await f.user('on')
      await f.server.services.users.disable(local, email)
      return { email }
    },
    status: 200,
    check: (res) => expect(res.body.status).to.equal('active'),
  },
  {
    name: 'unlocks a locked-out user',
    method: 'post',
    path: (v) => `/users/${v.email}/unlock`,
    who: 'admin',
    setup: async (f) => {
      const email = await f.user('locked')
      await f.server.services.users.setPassword(local, email, { password: STRONG })
      for (let i = 0; i < 5; i++) await f.server.services.users.verifyCredentials(email, 'wrong password here', local).catch(() => undefined)
      expect((await f.server.services.users.get(local, email)).lockedUntil).to.be.a('string')
      return { email }
    },
    status: 200,
    check: (res) => expect(res.body.lockedUntil).to.equal(null),
  },
  {
    name: 'sets a generated password, shown in this answer only',
    method: 'post',
    path: (v) => `/users/${v.email}/password`,
    who: 'admin',
    setup: async (f) => ({ email: await f.user('pw') }),
    body: { generatePassword: true },
    status: 200,
    check: (res) => expect(res.body.password).to.be.a('string').with.length.greaterThan(11),
  },
  {
    name: 'refuses a password and a generated one at once',
    method: 'post',
    path: `/users/${USERS.viewer}/password`,
    who: 'admin',
    body: { password: STRONG, generatePassword: true },
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'refuses a set-password without a password, naming the body fields (not the CLI flags)',
    method: 'post',
    path: `/users/${USERS.viewer}/password`,
    who: 'admin',
    body: {},
    status: 400,
    code: 'MISSING_INPUT',
    check: (res) => {
      expect(res.body.input).to.deep.equal({ fields: ['password', 'generatePassword'], reason: 'password-missing' })
      expect(res.body.hint).to.equal('Send "password", or "generatePassword": true.')
    },
  },
  {
    name: 'issues a script token acting as the user, shown in this answer only',
    method: 'post',
    path: `/users/${USERS.viewer}/tokens`,
    who: 'admin',
    body: { ttl: '1h' },
    status: 201,
    check: async (res, f) => {
      expect(res.body).to.include({ user: USERS.viewer })
      expect(Date.parse(res.body.expiresAt) - f.server.clock.now()).to.be.within(3_599_000, 3_600_000) // whole seconds
      const me = await request(f.server.app).get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.token}`)
      expect(me.body.user.email).to.equal(USERS.viewer)
      const audit = await f.server.services.audit.list(local, { action: 'tokens.issue' })
      expect(JSON.stringify(audit)).to.not.include(res.body.token)
    },
  },
  {
    name: 'an operator issues no token beyond its own permissions',
    method: 'post',
    path: `/users/${USERS.admin}/tokens`,
    who: 'operator',
    body: {},
    status: 403,
    code: 'FORBIDDEN',
  },
  { name: 'an operator issues a token for a viewer', method: 'post', path: `/users/${USERS.viewer}/tokens`, who: 'operator', body: {}, status: 201 },
  {
    name: 'refuses a token lifetime over 30 days',
    method: 'post',
    path: `/users/${USERS.viewer}/tokens`,
    who: 'admin',
    body: { ttl: '31d' },
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'revokes every session of a user',
    method: 'delete',
    path: (v) => `/users/${v.email}/sessions`,
    who: 'admin',
    setup: async (f) => {
      const email = await f.user('revoke')
      await f.server.services.users.setPassword(local, email, { password: STRONG })
      await f.server.services.sessions.login(email, STRONG, local)
      return { email }
    },
    status: 200,
    check: (res, _f, v) => expect(res.body).to.deep.equal({ user: v.email, refreshTokensRevoked: 1 }),
  },
  {
    name: "lists a user's identities at identity providers",
    method: 'get',
    path: (v) => `/users/${v.email}/identities`,
    who: 'admin',
    setup: linkedUser,
    status: 200,
    check: (res, f, v) => {
      expect(res.body.user).to.equal(v.email)
      expect(res.body.identities).to.have.length(1)
      expect(res.body.identities[0]).to.include({ provider: 'corp', subject: v.subject, email: `sso.${v.email}` })
      expect(Date.parse(res.body.identities[0].linkedAt)).to.equal(f.server.clock.now())
    },
  },
  {
    name: 'lists no identity of a user who never signed in through one',
    method: 'get',
    path: `/users/${USERS.viewer}/identities`,
    who: 'admin',
    status: 200,
    check: (res) => expect(res.body).to.deep.equal({ user: USERS.viewer, identities: [] }),
  },
  {
    name: "unlinks a user's identities at a provider, audited without the provider's email",
    method: 'post',
    path: (v) => `/users/${v.email}/unlink`,
    who: 'admin',
    setup: linkedUser,
    body: { provider: 'corp' },
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.deep.equal({ user: v.email, provider: 'corp', unlinked: 1 })
      expect((await f.server.services.users.identities(local, v.email as string)).identities).to.deep.equal([])
      const audit = await f.server.services.audit.list(local, { action: 'users.unlink' })
      expect(audit.data[0]?.after).to.deep.equal({ provider: 'corp', unlinked: 1 })
      expect(JSON.stringify(audit)).to.not.include(`sso.${v.email}`)
    },
  },
  {
    name: 'refuses to unlink an identity the user does not have',
    method: 'post',
    path: (v) => `/users/${v.email}/unlink`,
    who: 'admin',
    setup: async (f) => ({ email: await f.user('unlinked') }),
    body: { provider: 'corp' },
    status: 404,
    code: 'IDENTITY_NOT_FOUND',
  },
  {
    name: 'refuses a malformed provider id',
    method: 'post',
    path: (v) => `/users/${v.email}/unlink`,
    who: 'admin',
    setup: linkedUser,
    body: { provider: 'Not A Provider' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['provider'],
  },
]
