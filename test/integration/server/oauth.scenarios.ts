/** Scenarios of /api/v1/admin/oauth/clients: OAuth clients of the client-credentials grant, owned credentials like API keys. */
import { expect } from 'chai'
import request from 'supertest'
import { USERS } from '../../helpers/server.js'
import { local, type AdminFixture, type Scenario } from '../../helpers/admin-fixture.js'

/** The token endpoint's answer to a client's id and secret (client_secret_post): its status and access token, if any. */
async function tokenOf(f: AdminFixture, clientId: string, clientSecret: string): Promise<{ status: number; token?: string }> {
  const res = await request(f.server.app)
    .post('/oauth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })
  return { status: res.status, token: res.body.access_token as string | undefined }
}

/** GET /users with a client's access token: what its scopes allow. */
async function usersWith(f: AdminFixture, token: string): Promise<number> {
  return (await request(f.server.app).get('/api/v1/admin/users').set('Authorization', `Bearer ${token}`)).status
}

export const oauthClientScenarios: Scenario[] = [
  {
    name: 'lists clients of an owner, never a secret',
    method: 'get',
    path: '/oauth/clients',
    who: 'admin',
    query: { owner: USERS.operator },
    setup: (f) => f.oauthClient(['users:read'], USERS.operator),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.data.map((c: { id: string }) => c.id)).to.include(v.id)
      expect(res.body.data.every((c: { owner: string }) => c.owner === USERS.operator)).to.equal(true)
      expect(JSON.stringify(res.body)).to.not.include(v.secret)
      expect(res.body.data[0]).to.not.have.any.keys('secret', 'clientSecret', 'secretHash')
    },
  },
  {
    name: 'refuses a list for an unknown owner',
    method: 'get',
    path: '/oauth/clients',
    who: 'admin',
    query: { owner: 'nobody@example.com' },
    status: 404,
    code: 'USER_NOT_FOUND',
  },
  {
    name: 'creates a client whose secret is in this answer only, and whose tokens hold only its scopes',
    method: 'post',
    path: '/oauth/clients',
    who: 'admin',
    body: { name: 'billing', owner: USERS.operator, scopes: ['users:read'] },
    status: 201,
    check: async (res, f) => {
      const secret = res.body.clientSecret as string
      expect(secret).to.match(/^gcs_development_/)
      expect(res.body.client)
        .to.include({ name: 'billing', owner: USERS.operator, revoked: false })
        .and.deep.include({ scopes: ['users:read'] })
      const issued = await tokenOf(f, res.body.client.id as string, secret)
      expect(issued.status).to.equal(200)
      expect(await usersWith(f, issued.token as string)).to.equal(200)
      const write = await request(f.server.app)
        .post('/api/v1/admin/users')
        .set('Authorization', `Bearer ${issued.token}`)
        .send({ email: 'c@example.com', generatePassword: true })
      expect(write.status).to.equal(403)
      const audit = await f.server.services.audit.list(local, { action: 'oauth.clients.create' })
      expect(audit.data.length).to.be.at.least(1)
      for (const elsewhere of [JSON.stringify(audit), JSON.stringify(f.server.logs)]) expect(elsewhere).to.not.include(secret)
    },
  },
  {
    name: "refuses scopes beyond the owner's role",
    method: 'post',
    path: '/oauth/clients',
    who: 'admin',
    body: { name: 'x', owner: USERS.viewer, scopes: ['users:write'] },
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'an operator, without oauth:write, creates no client',
    method: 'post',
    path: '/oauth/clients',
    who: 'operator',
    body: { name: 'mine', owner: USERS.operator },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'refuses a client without a name',
    method: 'post',
    path: '/oauth/clients',
    who: 'admin',
    body: { owner: USERS.admin },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['name'],
  },
  {
    name: 'shows one client: its owner and scopes, never its secret',
    method: 'get',
    path: (v) => `/oauth/clients/${v.id}`,
    who: 'admin',
    setup: (f) => f.oauthClient(['users:read']),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body).to.include({ id: v.id, owner: USERS.admin, revoked: false })
      expect(res.body.scopes).to.deep.equal(['users:read'])
      expect(JSON.stringify(res.body)).to.not.include(v.secret as string)
    },
  },
  {
    name: 'revokes a client: no token from the next request on',
    method: 'post',
    path: (v) => `/oauth/clients/${v.id}/revoke`,
    who: 'admin',
    setup: (f) => f.oauthClient(['users:read']),
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.include({ id: v.id, revoked: true })
      expect((await tokenOf(f, v.id as string, v.secret as string)).status).to.equal(401)
    },
  },
  {
    name: 'rotates a client with no grace: a new secret in this answer only, the old one and its tokens end at once',
    method: 'post',
    path: (v) => `/oauth/clients/${v.id}/rotate`,
    who: 'admin',
    setup: async (f) => {
      const client = await f.oauthClient(['users:read'])
      const issued = await tokenOf(f, client.id, client.secret)
      expect(issued.status).to.equal(200)
      return { ...client, token: issued.token as string }
    },
    body: { grace: '0s' },
    status: 200,
    check: async (res, f, v) => {
      expect(res.body.clientSecret).to.be.a('string').and.not.equal(v.secret)
      expect(res.body.client.id).to.equal(v.id)
      expect(await usersWith(f, v.token as string)).to.equal(401)
      expect((await tokenOf(f, v.id as string, v.secret as string)).status).to.equal(401)
      const issued = await tokenOf(f, v.id as string, res.body.clientSecret as string)
      expect(issued.status).to.equal(200)
      expect(await usersWith(f, issued.token as string)).to.equal(200)
    },
  },
  {
    name: 'rotates a client with the default grace: the previous secret still works',
    method: 'post',
    path: (v) => `/oauth/clients/${v.id}/rotate`,
    who: 'admin',
    setup: (f) => f.oauthClient(['users:read']),
    body: {},
    status: 200,
    check: async (res, f, v) => {
      expect(res.body.client.graceEndsAt).to.be.a('string')
      expect((await tokenOf(f, v.id as string, v.secret as string)).status).to.equal(200)
    },
  },
  {
    name: 'refuses to rotate a revoked client',
    method: 'post',
    path: (v) => `/oauth/clients/${v.id}/rotate`,
    who: 'admin',
    setup: async (f) => {
      const client = await f.oauthClient(['users:read'])
      await f.server.services.oauthClients.revoke(local, client.id)
      return client
    },
    body: {},
    status: 409,
    code: 'OAUTH_CLIENT_REVOKED',
  },
  {
    name: 'refuses a malformed client id',
    method: 'post',
    path: '/oauth/clients/not_a-client/revoke',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['clientId'],
  },
  {
    name: 'refuses a malformed grace',
    method: 'post',
    path: (v) => `/oauth/clients/${v.id}/rotate`,
    who: 'admin',
    setup: (f) => f.oauthClient(['users:read']),
    body: { grace: 'soon' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['grace'],
  },
]
