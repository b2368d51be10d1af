/** Scenarios of /api/v1/admin/roles, /api-keys and /audit. */
import { expect } from 'chai'
import request from 'supertest'
import { USERS } from '../../helpers/server.js'
import { local, type AdminFixture, type Scenario } from '../../helpers/admin-fixture.js'

let roles = 0
/** A custom role made for one scenario. */
async function customRole(f: AdminFixture): Promise<{ name: string }> {
  const name = `custom-${++roles}`
  await f.server.services.roles.create(local, { name, permissions: ['audit:read'] })
  return { name }
}

/** GET /users with a key: what its scopes allow. */
async function usersWith(f: AdminFixture, key: string): Promise<number> {
  return (await request(f.server.app).get('/api/v1/admin/users').set('Authorization', `Bearer ${key}`)).status
}

export const roleScenarios: Scenario[] = [
  {
    name: 'lists every role with its permissions',
    method: 'get',
    path: '/roles',
    who: 'admin',
    status: 200,
    check: (res) => {
      expect(res.body.nextCursor).to.equal(null)
      expect(res.body.data.map((r: { name: string }) => r.name)).to.include.members(['admin', 'operator', 'viewer'])
    },
  },
  {
    name: 'creates a custom role',
    method: 'post',
    path: '/roles',
    who: 'admin',
    body: { name: 'auditor', description: 'reads the log', permissions: ['audit:read', 'audit:read'] },
    status: 201,
    check: (res) =>
      expect(res.body)
        .to.include({ name: 'auditor', builtin: false, users: 0 })
        .and.deep.include({ permissions: ['audit:read'] }),
  },
  {
    name: 'refuses a role that exists',
    method: 'post',
    path: '/roles',
    who: 'admin',
    body: { name: 'viewer', permissions: ['audit:read'] },
    status: 409,
    code: 'ROLE_EXISTS',
  },
  {
    name: 'refuses a malformed permission and an unknown field',
    method: 'post',
    path: '/roles',
    who: 'admin',
    body: { name: 'x', permissions: ['Users:Read'], inherits: 'viewer' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['permissions', 'inherits'],
  },
  {
    name: 'shows one role',
    method: 'get',
    path: '/roles/operator',
    who: 'admin',
    status: 200,
    check: (res) => expect(res.body).to.include({ name: 'operator', builtin: true }).and.have.property('users').at.least(1),
  },
  {
    name: 'refuses a malformed role name in the path',
    method: 'get',
    path: '/roles/Not%20A%20Role',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['name'],
  },
  {
    name: 'grants and revokes permissions of a custom role',
    method: 'patch',
    path: (v) => `/roles/${v.name}`,
    who: 'admin',
    setup: customRole,
    body: { grant: ['users:read'], revoke: ['audit:read'] },
    status: 200,
    check: (res) => expect(res.body.permissions).to.deep.equal(['users:read']),
  },
  {
    name: "refuses to revoke a built-in role's own permission",
    method: 'patch',
    path: '/roles/viewer',
    who: 'admin',
    body: { revoke: ['*:read'] },
    status: 409,
    code: 'ROLE_BUILTIN',
  },
  {
    name: 'refuses to change the admin role at all',
    method: 'patch',
    path: '/roles/admin',
    who: 'admin',
    body: { description: 'x' },
    status: 409,
    code: 'ROLE_BUILTIN',
  },
  {
    name: 'deletes a custom role',
    method: 'delete',
    path: (v) => `/roles/${v.name}`,
    who: 'admin',
    setup: customRole,
    status: 200,
    check: (res, _f, v) => expect(res.body).to.deep.equal({ deleted: v.name }),
  },
  {
    name: 'refuses to delete a role that users hold',
    method: 'delete',
    path: (v) => `/roles/${v.name}`,
    who: 'admin',
    setup: async (f) => {
      const role = await customRole(f)
      await f.user('holder', role.name)
      return role
    },
    status: 409,
    code: 'ROLE_IN_USE',
  },
]

export const apiKeyScenarios: Scenario[] = [
  {
    name: 'lists keys, never a secret',
    method: 'get',
    path: '/api-keys',
    who: 'admin',
    query: { owner: USERS.operator },
    setup: async (f) => f.apiKey(['users:read'], USERS.operator),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.data.map((k: { id: string }) => k.id)).to.include(v.id)
      expect(JSON.stringify(res.body)).to.not.include(v.key)
      expect(res.body.data[0]).to.not.have.any.keys('key', 'secret', 'secretHash')
    },
  },
  {
    name: 'refuses a list for an unknown owner',
    method: 'get',
    path: '/api-keys',
    who: 'admin',
    query: { owner: 'nobody@example.com' },
    status: 404,
    code: 'USER_NOT_FOUND',
  },
  {
    name: 'creates a key whose text is in this answer only, and which holds only its scopes',
    method: 'post',
    path: '/api-keys',
    who: 'admin',
    body: { name: 'ci', owner: USERS.operator, scopes: ['users:read'], expires: '90d' },
    status: 201,
    check: async (res, f) => {
      const key = res.body.key as string
      expect(key).to.match(/^gk_development_/)
      expect(res.body.apiKey)
        .to.include({ name: 'ci', owner: USERS.operator })
        .and.deep.include({ scopes: ['users:read'] })
      expect(await usersWith(f, key)).to.equal(200)
      const write = await request(f.server.app).post('/api/v1/admin/users').set('X-API-Key', key).send({ email: 'k@example.com', generatePassword: true })
      expect(write.status).to.equal(403)
      const audit = await f.server.services.audit.list(local, { action: 'apikeys.create' })
      for (const elsewhere of [JSON.stringify(audit), JSON.stringify(f.server.logs)]) expect(elsewhere).to.not.include(key)
    },
  },
  {
    name: 'an operator creates a key of its own',
    method: 'post',
    path: '/api-keys',
    who: 'operator',
    body: { name: 'mine', owner: USERS.operator },
    status: 201,
    check: (res) => expect(res.body.apiKey.scopes).to.include('*:read'),
  },
  {
    name: "refuses scopes beyond the owner's role",
    method: 'post',
    path: '/api-keys',
    who: 'admin',
    body: { name: 'x', owner: USERS.viewer, scopes: ['users:write'] },
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'an operator makes no key beyond its own permissions',
    method: 'post',
    path: '/api-keys',
    who: 'operator',
    body: { name: 'x', owner: USERS.admin, scopes: ['users:write'] },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'refuses a key without a name',
    method: 'post',
    path: '/api-keys',
    who: 'admin',
    body: { owner: USERS.admin },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['name'],
  },
  {
    name: 'shows one key: its owner and scopes, never its secret',
    method: 'get',
    path: (v) => `/api-keys/${v.id}`,
    who: 'admin',
    setup: (f) => f.apiKey(['users:read']),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body).to.include({ id: v.id, owner: USERS.admin, revoked: false })
      expect(res.body.scopes).to.deep.equal(['users:read'])
      expect(JSON.stringify(res.body)).to.not.include(v.key as string)
    },
  },
  {
    name: 'revokes a key: refused from the next request on',
    method: 'post',
    path: (v) => `/api-keys/${v.id}/revoke`,
    who: 'admin',
    setup: (f) => f.apiKey(['users:read']),
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.include({ id: v.id, revoked: true })
      expect(await usersWith(f, v.key as string)).to.equal(401)
    },
  },
  {
    name: 'rotates a key: a new text in this answer only, the old one ends after its grace',
    method: 'post',
    path: (v) => `/api-keys/${v.id}/rotate`,
    who: 'admin',
    setup: (f) => f.apiKey(['users:read']),
    body: { grace: '0s' },
    status: 200,
    check: async (res, f, v) => {
      expect(res.body.key).to.be.a('string').and.not.equal(v.key)
      expect(res.body.apiKey.id).to.equal(v.id)
      expect(await usersWith(f, v.key as string)).to.equal(401)
      expect(await usersWith(f, res.body.key)).to.equal(200)
    },
  },
  {
    name: 'refuses to rotate a revoked key',
    method: 'post',
    path: (v) => `/api-keys/${v.id}/rotate`,
    who: 'admin',
    setup: async (f) => {
      const key = await f.apiKey(['users:read'])
      await f.server.services.apikeys.revoke(local, key.id)
      return key
    },
    body: {},
    status: 409,
    code: 'APIKEY_REVOKED',
  },
  {
    name: 'refuses a malformed key id',
    method: 'post',
    path: '/api-keys/not_a-key/revoke',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['keyId'],
  },
  {
    name: 'refuses a malformed grace',
    method: 'post',
    path: (v) => `/api-keys/${v.id}/rotate`,
    who: 'admin',
    setup: (f) => f.apiKey(['users:read']),
    body: { grace: 'soon' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['grace'],
  },
]

export const auditScenarios: Scenario[] = [
  {
    name: 'lists audit entries of remote changes, with actor and address',
    method: 'get',
    path: '/audit',
    who: 'admin',
    query: { action: 'roles.create', limit: '1', since: '1h' },
    setup: async (f) => {
      const created = await request(f.server.app)
        .post('/api/v1/admin/roles')
        .set(await f.headers('admin'))
        .send({ name: 'audited', permissions: ['users:read'] })
      expect(created.status).to.equal(201)
      return {}
    },
    status: 200,
    check: (res) => {
      expect(res.body.data).to.have.length(1)
      expect(res.body.data[0]).to.include({ action: 'roles.create', targetId: 'audited' })
      expect(res.body.data[0].actor).to.match(/^user:\d+$/)
      expect(res.body.data[0].ip).to.be.a('string')
    },
  },
  {
    name: 'refuses a time that is neither ISO 8601 nor a duration',
    method: 'get',
    path: '/audit',
    who: 'admin',
    query: { since: 'yesterday' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['since'],
  },
]

export const signingKeyScenarios: Scenario[] = [
  {
    name: 'lists the signing keys, metadata only',
    method: 'get',
    path: '/signing-keys',
    who: 'admin',
    status: 200,
    check: (res) => {
      expect(res.body.data[0]).to.include({ state: 'current', alg: 'EdDSA', retiredAt: null })
      expect(JSON.stringify(res.body)).to.not.match(/"(d|x|private_?jwk|privateJwk)"/i)
    },
  },
  {
    name: 'rotates the signing key; tokens signed with the previous one still verify',
    method: 'post',
    path: '/signing-keys/rotate',
    who: 'admin',
    setup: async (f) => {
      await f.headers('viewer') // a token signed with the key about to retire
      return {}
    },
    status: 201,
    check: async (res, f) => {
      expect(res.body.current).to.include({ state: 'current' })
      expect(res.body.previous).to.include({ state: 'previous' })
      expect(
        (
          await request(f.server.app)
            .get('/api/v1/auth/me')
            .set(await f.headers('viewer'))
        ).status,
      ).to.equal(200)
    },
  },
  { name: 'an operator rotates no signing key', method: 'post', path: '/signing-keys/rotate', who: 'operator', status: 403, code: 'FORBIDDEN' },
]

export const maintenanceScenarios: Scenario[] = [
  {
    name: 'shows maintenance mode off',
    method: 'get',
    path: '/maintenance',
    who: 'admin',
    status: 200,
    check: (res) => expect(res.body).to.include({ enabled: false }),
  },
  {
    name: 'turns maintenance mode on with a Retry-After and a message',
    method: 'put',
    path: '/maintenance',
    who: 'operator',
    body: { retryAfter: 300, message: 'Upgrading' },
    status: 200,
    check: (res) => {
      expect(res.body).to.include({ enabled: true, retryAfter: 300, message: 'Upgrading' })
      expect(res.body.by).to.match(/^user:\d+$/)
    },
  },
  {
    name: 'refuses a Retry-After out of range and unknown fields',
    method: 'put',
    path: '/maintenance',
    who: 'admin',
    body: { retryAfter: 0, until: 'noon' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['retryAfter', 'until'],
  },
  {
    name: 'turns it on again as admin, with the defaults',
    method: 'put',
    path: '/maintenance',
    who: 'admin',
    body: {},
    status: 200,
    check: (res) => expect(res.body).to.include({ enabled: true, retryAfter: 120, message: null }),
  },
  {
    name: 'turns maintenance mode off',
    method: 'delete',
    path: '/maintenance',
    who: 'admin',
    status: 200,
    check: (res) => expect(res.body).to.include({ enabled: false }),
  },
]
