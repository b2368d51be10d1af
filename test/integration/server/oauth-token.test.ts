/**
 * Gantry as an OAuth 2.0 authorization server for machine clients (client-credentials grant), driven by
 * clients we did not write: openid-client (metadata, the grant with client_secret_basic and
 * client_secret_post, RFC 7009 revocation) and jose (the RFC 9068 access token verified through the JWKS).
 *
 * The issuer is an https URL, as RFC 8414 wants it, so the metadata names https endpoints on that origin.
 * The test server listens on a loopback port chosen at listen time, after the environment (and with it the
 * issuer) is fixed, so the clients reach it through a customFetch that sends the issuer's origin to the
 * listening server — what DNS and a TLS-terminating proxy do in front of a real one. Everything else the
 * clients take from the metadata as served.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import * as oidc from 'openid-client'
import { localContext } from '../../../src/core/context.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'

const ISSUER = 'https://gantry.example.test'
const AUDIENCE = 'gantry-admin-api'
const FORM = 'application/x-www-form-urlencoded'
/** The standing of a client is trusted for at most this long (oauth-clients.service.ts): past it, taken rights show. */
const STANDING_TTL_MS = 1000

interface TestClient {
  readonly id: string
  readonly secret: string
}

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, unknown>
}

/** What an openid-client call rejected with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

/**
 * The RFC 6749 error an openid-client call was refused with: from a ResponseBodyError (error in the body),
 * or from a WWWAuthenticateChallengeError — what openid-client throws for any 401 that carries a challenge,
 * as invalid_client must when the client used HTTP Basic (RFC 6749 §5.2); its body is left unread on it.
 */
async function oauthError(promise: Promise<unknown>): Promise<{ kind: string; status: number; error: unknown; challenge?: string }> {
  const err = await rejection(promise)
  if (err instanceof oidc.ResponseBodyError) return { kind: 'body', status: err.status, error: err.error }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const body = (await err.response.json()) as { error?: unknown }
    return { kind: 'challenge', status: err.status, error: body.error, challenge: err.cause[0]?.scheme }
  }
  throw err
}

describe('server: OAuth 2.0 client-credentials grant, with openid-client and jose', function () {
  this.timeout(30_000)
  const local = localContext('local:test@host')
  let server: TestServer
  let http: Server
  let base: string
  let serial = 0

  before(async () => {
    server = await createTestServer('sqlite', { environment: { auth: { algorithm: 'EdDSA', issuer: ISSUER, audience: AUDIENCE } } })
    http = server.app.listen(0, '127.0.0.1')
    await once(http, 'listening')
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  })
  after(async () => {
    if (http) {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    }
    await server?.cleanup()
  })

  /** The clients' fetch: the issuer's origin is this listening server. */
  const onTestServer = (url: string): string => (url.startsWith(`${ISSUER}/`) ? `${base}${url.slice(ISSUER.length)}` : url)
  const throughTestServer: oidc.CustomFetch = (url, options) => fetch(onTestServer(url), options as RequestInit)

  const serverMetadata = async (): Promise<oidc.ServerMetadata> => {
    const res = await fetch(`${base}/.well-known/oauth-authorization-server`)
    expect(res.status).to.equal(200)
    return (await res.json()) as oidc.ServerMetadata
  }

  /** openid-client's Configuration for a client, from the metadata as served; `post` for client_secret_post. */
  const configFor = async (client: TestClient, method: 'basic' | 'post' = 'basic'): Promise<oidc.Configuration> => {
    const auth = method === 'basic' ? oidc.ClientSecretBasic(client.secret) : oidc.ClientSecretPost(client.secret)
    const config = new oidc.Configuration(await serverMetadata(), client.id, undefined, auth)
    config[oidc.customFetch] = throughTestServer
    return config
  }

  /** A user to own clients, made through the users service. */
  const newOwner = async (role: 'admin' | 'operator' | 'viewer'): Promise<string> => {
    const email = `owner-${++serial}@example.com`
    await server.services.users.create(local, { email, role, generatePassword: true })
    return email
  }

  /** A client made through the OAuth clients service: its id and its secret (shown this once). */
  const newClient = async (owner: string, scopes: string[]): Promise<TestClient> => {
    const { client, clientSecret } = await server.services.oauthClients.create(local, { name: `client ${++serial}`, owner, scopes })
    expect(clientSecret).to.match(new RegExp(`^gcs_[a-z0-9-]+_${client.id}_`))
    return { id: client.id, secret: clientSecret }
  }

  const grant = async (client: TestClient, scope?: string, method: 'basic' | 'post' = 'basic') =>
    oidc.clientCredentialsGrant(await configFor(client, method), scope === undefined ? {} : { scope })

  /** A verifier that knows only the JWKS URL; the time is the server's (its manual clock signs iat and exp). */
  const verifyAccessToken = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL('/.well-known/jwks.json', base)), {
      typ: 'at+jwt',
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      requiredClaims: ['client_id', 'scope', 'sub', 'exp', 'iat', 'jti'],
      currentDate: new Date(server.clock.now()),
    })

  /** A call of the admin API (or /auth/me) with a Bearer token. */
  const api = async (token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
  }

  /** A hand-made request to the token (or revocation) endpoint: what openid-client would never send. */
  const rawForm = async (path: string, form: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body: form })
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
  }
  const basic = (client: TestClient, secret = client.secret): string =>
    `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(secret)}`).toString('base64')}`

  const listUsers = (token: string) => api(token, 'GET', '/api/v1/admin/users')
  const createUser = (token: string) =>
    api(token, 'POST', '/api/v1/admin/users', { email: `made-${++serial}@example.com`, role: 'viewer', generatePassword: true })

  it('publishes RFC 8414 metadata that openid-client discovers under the https issuer', async () => {
    const res = await fetch(`${base}/.well-known/oauth-authorization-server`)
    expect(res.status).to.equal(200)
    expect(res.headers.get('content-type')).to.match(/^application\/json/)
    const metadata = (await res.json()) as Record<string, unknown>
    expect(metadata).to.deep.include({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
    })
    expect(metadata.token_endpoint_auth_methods_supported).to.have.members(['client_secret_basic', 'client_secret_post'])
    expect(metadata.revocation_endpoint_auth_methods_supported).to.have.members(['client_secret_basic', 'client_secret_post'])
    // The JWKS it names is served (its first key is made when the first token needs it: the next test verifies through it).
    const jwks = await fetch(onTestServer(String(metadata.jwks_uri)))
    expect(jwks.status).to.equal(200)
    expect(((await jwks.json()) as { keys?: unknown }).keys).to.be.an('array')

    // openid-client's discovery (RFC 8414 well-known path, issuer identical to the one asked for) takes it.
    const discovered = await oidc.discovery(new URL(ISSUER), 'any-client', undefined, oidc.ClientSecretBasic('unused'), {
      algorithm: 'oauth2',
      [oidc.customFetch]: throughTestServer,
    })
    expect(discovered.serverMetadata()).to.include({ issuer: ISSUER, token_endpoint: `${ISSUER}/oauth/token` })
  })

  it('issues an RFC 9068 access token to openid-client with client_secret_basic and with client_secret_post, which jose verifies through the JWKS', async () => {
    const owner = await newOwner('operator')
    const client = await newClient(owner, ['users:read', 'audit:read'])
    for (const method of ['basic', 'post'] as const) {
      const tokens = await grant(client, 'users:read', method)
      expect(tokens.token_type).to.equal('bearer') // openid-client lower-cases it
      expect(tokens.scope).to.equal('users:read')
      expect(tokens.expires_in)
        .to.be.a('number')
        .within(1, 24 * 3600)
      const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token)
      expect(protectedHeader).to.include({ alg: 'EdDSA', typ: 'at+jwt' })
      expect(payload).to.include({ iss: ISSUER, aud: AUDIENCE, client_id: client.id, sub: client.id, scope: 'users:read' })
      expect(payload.exp).to.be.a('number')
      expect(payload.iat).to.be.a('number')
      // expires_in counts whole seconds from the server's now (ms), exp from iat (whole seconds): at most 1 s apart.
      expect((payload.exp as number) * 1000 - server.clock.now()).to.be.within((tokens.expires_in ?? 0) * 1000, ((tokens.expires_in ?? 0) + 1) * 1000)
      expect(payload.iat).to.be.at.most(Math.floor(server.clock.now() / 1000))
      expect(payload.jti).to.be.a('string').with.length.greaterThan(0)
    }
    // No scope asked: all of the client's.
    const all = await grant(client)
    expect(all.scope?.split(' ')).to.have.members(['users:read', 'audit:read'])
    expect((await verifyAccessToken(all.access_token)).payload.scope).to.equal(all.scope)
  })

  it('works on the admin API for exactly its scopes, as client:<id> acting for its owner', async () => {
    const owner = await newOwner('admin')
    const client = await newClient(owner, ['users:read'])
    const { access_token: token } = await grant(client, 'users:read')
    expect((await listUsers(token)).status).to.equal(200)
    const write = await createUser(token)
    expect(write.status).to.equal(403)
    expect(write.body).to.deep.include({ status: 403 })
    expect((await api(token, 'GET', '/api/v1/admin/audit')).status).to.equal(403)

    const me = await api(token, 'GET', '/api/v1/auth/me')
    expect(me.status, JSON.stringify(me.body)).to.equal(200)
    expect(me.body.actor).to.equal(`client:${client.id}`)
    expect((me.body.user as { email: string }).email).to.equal(owner)
    expect(me.body.permissions).to.deep.equal(['users:read'])
    expect(me.body.apiKeyId).to.equal(null)
    expect(me.body.expiresAt).to.be.a('string')
  })

  it('refuses what it should with RFC 6749 errors: invalid_scope, invalid_client (401, WWW-Authenticate, audited), unsupported_grant_type, invalid_request', async () => {
    const owner = await newOwner('operator')
    const first = await newClient(owner, ['users:read'])
    // Rotated without grace: the first secret is well-formed but no longer this client's.
    const rotated = await server.services.oauthClients.rotate(local, first.id, { grace: '0s' })
    const client: TestClient = { id: first.id, secret: rotated.clientSecret }

    // A scope beyond the client's (its owner, an operator, holds audit:read; the client does not).
    expect(await oauthError(grant(client, 'users:read audit:read'))).to.deep.equal({ kind: 'body', status: 400, error: 'invalid_scope' })

    // A wrong secret: openid-client sees a 401 with a Basic challenge and invalid_client in the body.
    const wrong: TestClient = { id: client.id, secret: first.secret }
    expect(await oauthError(grant(wrong, 'users:read'))).to.deep.equal({ kind: 'challenge', status: 401, error: 'invalid_client', challenge: 'basic' })
    // On the wire, with a mistyped secret (its check fails): the same answer.
    const raw = await rawForm('/oauth/token', 'grant_type=client_credentials', { authorization: basic(client, `${client.secret.slice(0, -1)}!`) })
    expect(raw.status).to.equal(401)
    expect(raw.headers.get('www-authenticate')).to.match(/^Basic realm=/)
    expect(raw.headers.get('cache-control')).to.equal('no-store')
    expect(raw.body).to.include({ error: 'invalid_client' })
    const audited = await server.services.audit.list(local, { action: 'oauth.token-refused' })
    const mine = audited.data.filter((e) => e.targetId === client.id)
    expect(mine.map((e) => (e.after as { reason?: string }).reason)).to.have.members(['unknown client or wrong secret', 'malformed secret'])
    for (const entry of mine) expect(entry).to.include({ actor: 'anonymous', targetType: 'oauth-client' })

    // Another grant type: openid-client sends it as it would, Gantry answers unsupported_grant_type.
    expect(await oauthError(oidc.genericGrantRequest(await configFor(client), 'password', { username: owner, password: 'x' }))).to.deep.equal({
      kind: 'body',
      status: 400,
      error: 'unsupported_grant_type',
    })

    // A parameter sent twice (RFC 6749 §3.2), and both client authentication methods at once (§2.3).
    const twice = await rawForm('/oauth/token', 'grant_type=client_credentials&scope=users%3Aread&scope=users%3Aread', { authorization: basic(client) })
    expect(twice.status).to.equal(400)
    expect(twice.body).to.include({ error: 'invalid_request' })
    const both = await rawForm('/oauth/token', `grant_type=client_credentials&client_id=${client.id}&client_secret=${encodeURIComponent(client.secret)}`, {
      authorization: basic(client),
    })
    expect(both.status).to.equal(400)
    expect(both.body).to.include({ error: 'invalid_request' })

    // The client itself is fine all along.
    expect((await grant(client, 'users:read')).scope).to.equal('users:read')
  })

  it("takes rights away from live tokens within a second: a revoked client's token is refused, a demoted owner's client loses the role's rights", async () => {
    // Revoking the client.
    const owner = await newOwner('operator')
    const revoked = await newClient(owner, ['users:read'])
    const { access_token: token } = await grant(revoked)
    expect((await listUsers(token)).status).to.equal(200)
    await server.services.oauthClients.revoke(local, revoked.id)
    server.clock.advance(STANDING_TTL_MS + 1)
    expect((await listUsers(token)).status).to.equal(401)
    expect((await api(token, 'GET', '/api/v1/auth/me')).status).to.equal(401)
    expect(await oauthError(grant(revoked))).to.include({ status: 401, error: 'invalid_client' })

    // Demoting the owner: an admin's client with *:read and users:write, the owner made a viewer.
    const admin = await newOwner('admin')
    const client = await newClient(admin, ['*:read', 'users:write'])
    const { access_token: strong } = await grant(client)
    const made = await createUser(strong)
    expect(made.status, JSON.stringify(made.body)).to.equal(201)
    const createdId = String((made.body.user as { id: number }).id)
    const entry = (await server.services.audit.list(local, { action: 'users.create' })).data.find((e) => e.targetId === createdId)
    expect(entry?.actor).to.equal(`client:${client.id}`)

    await server.services.users.update(local, admin, { role: 'viewer' })
    server.clock.advance(STANDING_TTL_MS + 1)
    expect((await createUser(strong)).status).to.equal(403)
    expect((await listUsers(strong)).status).to.equal(200)
    const me = await api(strong, 'GET', '/api/v1/auth/me')
    expect(me.status).to.equal(200)
    expect(me.body.permissions).to.deep.equal(['*:read'])
    // A new token is within the new rights too: users:write is no longer the client's to ask for.
    expect(await oauthError(grant(client, 'users:write'))).to.include({ status: 400, error: 'invalid_scope' })
  })

  it("revokes tokens per RFC 7009: by the client that holds one (200, then refused), never another client's (400 unauthorized_client), an unknown token answered 200", async () => {
    const owner = await newOwner('operator')
    const one = await newClient(owner, ['users:read'])
    const other = await newClient(owner, ['users:read'])
    const oneConfig = await configFor(one)
    const otherConfig = await configFor(other)
    const { access_token: oneToken } = await oidc.clientCredentialsGrant(oneConfig, { scope: 'users:read' })
    const { access_token: otherToken } = await oidc.clientCredentialsGrant(otherConfig, { scope: 'users:read' })
    expect((await listUsers(oneToken)).status).to.equal(200)

    // Another client's token: refused, and the token lives on.
    expect(await oauthError(oidc.tokenRevocation(otherConfig, oneToken))).to.deep.equal({ kind: 'body', status: 400, error: 'unauthorized_client' })
    expect((await listUsers(oneToken)).status).to.equal(200)

    // Its own client: 200 (openid-client resolves), and the token is refused from then on.
    await oidc.tokenRevocation(oneConfig, oneToken)
    expect((await listUsers(oneToken)).status).to.equal(401)
    server.clock.advance(STANDING_TTL_MS + 1)
    expect((await listUsers(oneToken)).status).to.equal(401)
    expect((await listUsers(otherToken)).status).to.equal(200)
    // Revoking it again, or a token that is none of Gantry's: 200 all the same.
    await oidc.tokenRevocation(oneConfig, oneToken)
    await oidc.tokenRevocation(oneConfig, 'not-a-token-at-all')
    const unknown = await rawForm('/oauth/revoke', 'token=eyJhbGciOiJFZERTQSJ9.e30.AAAA', { authorization: basic(one) })
    expect(unknown.status).to.equal(200)
    // The client gets a new token that works.
    const { access_token: fresh } = await oidc.clientCredentialsGrant(oneConfig)
    expect((await listUsers(fresh)).status).to.equal(200)
  })

  it('limits token requests per client (oauth-token-client: burst 20): the 21st quick one is 429, another client still gets tokens', async () => {
    // A full budget for the per-address rule (oauth-token-ip, burst 60) too, whatever the tests before asked.
    server.clock.advance(15 * 60_000)
    const owner = await newOwner('operator')
    const busy = await newClient(owner, ['users:read'])
    const calm = await newClient(owner, ['users:read'])
    const config = await configFor(busy)
    for (let i = 0; i < 20; i++) expect((await oidc.clientCredentialsGrant(config)).access_token, `request ${i + 1}`).to.be.a('string')

    const limited = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': FORM, authorization: basic(busy) },
      body: 'grant_type=client_credentials',
    })
    expect(limited.status).to.equal(429)
    expect(limited.headers.get('retry-after')).to.match(/^[1-9]\d*$/)
    expect(limited.headers.get('content-type')).to.match(/^application\/problem\+json/)
    const problem = (await limited.json()) as { status?: number }
    expect(problem.status).to.equal(429)
    expect(limited.headers.get('ratelimit')).to.match(/"oauth-token-client";r=0;t=[1-9]\d*/)
    expect(limited.headers.get('ratelimit-policy')).to.include('"oauth-token-client";q=60;w=900')
    // openid-client meets the same 429: not an OAuth error body, the response itself is the cause.
    const viaClient = await rejection(oidc.clientCredentialsGrant(config))
    expect(viaClient).to.not.be.instanceOf(oidc.ResponseBodyError)
    expect((viaClient.cause as Response).status).to.equal(429)

    // The limit is the client's own: another client (same address, same owner) is not touched.
    expect((await grant(calm, 'users:read')).scope).to.equal('users:read')
    // And it refills at 60 per 15 minutes: 15 s later the busy client has one more.
    server.clock.advance(15_000)
    expect((await oidc.clientCredentialsGrant(config)).access_token).to.be.a('string')
    expect((await rejection(oidc.clientCredentialsGrant(config))).cause).to.have.property('status', 429)

    // A fleet that needs more gets an override of its own, and only it: `ratelimit override client:ID`.
    await server.services.rateLimits.override(local, { subject: `client:${busy.id}`, rule: 'oauth-token-client', limit: 1000, window: '15m' })
    expect(
      ((await rejection(server.services.rateLimits.override(local, { subject: 'client:nosuchclient', limit: 5, window: '1m' }))) as { code?: string }).code,
    ).to.equal('OAUTH_CLIENT_NOT_FOUND')
    await server.rateLimits.refresh()
    for (let i = 0; i < 25; i++) expect((await oidc.clientCredentialsGrant(config)).access_token, `overridden ${i + 1}`).to.be.a('string')
  })
})
