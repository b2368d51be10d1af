/**
 * The credential source against the real Gantry app (SQLite): login, reuse, refresh as the access token
 * expires, refresh after a 401, the end of a session — and two CLI processes refreshing at once, which
 * must both succeed without tripping refresh-token reuse detection.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { createApiClient, credentialSource, openCredentialsStore, type CredentialsStore, type StoredCredential } from '../../../src/client/index.js'
import { localContext } from '../../../src/core/context.js'
import { GantryError } from '../../../src/core/errors.js'
import { sessionTokensSchema } from '../../../src/core/sessions/sessions.schema.js'
import { whoamiSchema } from '../../../src/core/sessions/whoami.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

const run = promisify(execFile)
interface Outcome {
  readonly authorization?: string
  readonly error?: string
  readonly refreshes: number
}

const CHILD = join(import.meta.dirname, '..', '..', 'helpers', 'refresh-child.ts')

describe('credential source against the real server', function () {
  let server: TestServer
  let listening: Server
  let url: string
  let configHome: string
  let store: CredentialsStore

  before(async () => {
    server = await createTestServer('sqlite')
    listening = server.app.listen(0, '127.0.0.1')
    await once(listening, 'listening')
    url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`
  })
  beforeEach(() => {
    configHome = mkdtempSync(join(tmpdir(), 'gantry-source-'))
    store = openCredentialsStore({ env: { XDG_CONFIG_HOME: configHome }, platform: 'linux' })
  })
  afterEach(() => rmSync(configHome, { recursive: true, force: true }))
  after(async () => {
    listening?.closeAllConnections()
    listening?.close()
    await server?.cleanup()
  })

  const anonymous = () => createApiClient({ baseUrl: url, retries: 0 })
  let refreshCalls = 0
  const refresh = async (refreshToken: string) => {
    refreshCalls++
    return (await anonymous()).request({
      method: 'POST',
      path: '/api/v1/auth/refresh',
      body: { refreshToken },
      schema: sessionTokensSchema,
      authenticate: false,
    })
  }
  /**
   * Logs in as the operator and stores the session, its access token said to expire in `expiresInMs`.
   * Through the service: the login route throttles repeated logins of one account (one test goes over HTTP).
   */
  const loginAndStore = async (expiresInMs: number): Promise<StoredCredential & { kind: 'session' }> => {
    const tokens = await server.services.sessions.login(USERS.operator, PASSWORD, localContext('local:test@host'))
    const stored = {
      kind: 'session' as const,
      email: USERS.operator,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessExpiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    }
    await store.set(url, stored)
    return stored
  }
  const me = async (authorization: string) =>
    (await createApiClient({ baseUrl: url, retries: 0, credentials: { authorization: async () => authorization } })).request({
      method: 'GET',
      path: '/api/v1/auth/me',
      schema: whoamiSchema,
    })

  it('NOT_LOGGED_IN naming the URL when nothing is stored and no variable is set', async () => {
    const err = await credentialSource({ url, store, env: {}, refresh })
      .authorization()
      .catch((e: unknown) => e)
    expect(err).to.be.instanceOf(GantryError)
    expect((err as GantryError).code).to.equal('NOT_LOGGED_IN')
    expect((err as GantryError).exit).to.equal(2)
    expect((err as GantryError).message).to.equal(`Not logged in to ${url}.`)
  })

  it('logs in over HTTP through the client, and the stored session authenticates', async () => {
    const tokens = await (
      await anonymous()
    ).request({
      method: 'POST',
      path: '/api/v1/auth/login',
      body: { email: USERS.viewer, password: PASSWORD },
      schema: sessionTokensSchema,
      authenticate: false,
    })
    await store.set(url, {
      kind: 'session',
      email: USERS.viewer,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessExpiresAt: tokens.expiresAt,
    })
    const api = await createApiClient({ baseUrl: url, credentials: credentialSource({ url, store, env: {}, refresh }) })
    expect((await api.request({ method: 'GET', path: '/api/v1/auth/me', schema: whoamiSchema })).user.email).to.equal(USERS.viewer)
  })

  it('GANTRY_API_KEY, then GANTRY_TOKEN, override the store', async () => {
    await loginAndStore(600_000)
    expect(await credentialSource({ url, store, env: { GANTRY_API_KEY: 'gk_key', GANTRY_TOKEN: 'tok' }, refresh }).authorization()).to.equal('Bearer gk_key')
    const token = credentialSource({ url, store, env: { GANTRY_TOKEN: 'tok', GANTRY_API_KEY: '' }, refresh })
    expect(await token.authorization()).to.equal('Bearer tok')
    expect(await token.rejected?.()).to.equal(false)
  })

  it('reuses a stored access token until it is about to expire; a stored API key is sent as it is', async () => {
    const stored = await loginAndStore(600_000)
    refreshCalls = 0
    const source = credentialSource({ url, store, env: {}, refresh })
    expect(await source.authorization()).to.equal(`Bearer ${stored.accessToken}`)
    expect(refreshCalls).to.equal(0)
    await store.set(`${url}/`, { kind: 'apiKey', apiKey: 'gk_dev_stored' })
    expect(await source.authorization()).to.equal('Bearer gk_dev_stored')
  })

  it('refreshes a session expiring within 30 s under the lock and saves the rotated pair', async () => {
    const stored = await loginAndStore(10_000)
    refreshCalls = 0
    const source = credentialSource({ url, store, env: {}, refresh })
    const authorization = await source.authorization()
    expect(authorization).to.not.equal(`Bearer ${stored.accessToken}`)
    expect(refreshCalls).to.equal(1)
    const now = (await store.get(url)) as StoredCredential & { kind: 'session' }
    expect(now.refreshToken).to.not.equal(stored.refreshToken)
    expect(`Bearer ${now.accessToken}`).to.equal(authorization)
    expect(Date.parse(now.accessExpiresAt)).to.be.greaterThan(server.clock.now() + 60_000)
    expect((await me(authorization)).user.email).to.equal(USERS.operator)
    // Fresh now: the next call sends it without refreshing.
    expect(await source.authorization()).to.equal(authorization)
    expect(refreshCalls).to.equal(1)
  })

  it('after a 401 the client refreshes once and the request goes through', async () => {
    const stored = await loginAndStore(600_000)
    await store.set(url, { ...stored, accessToken: 'not-a-valid-token' })
    const api = await createApiClient({ baseUrl: url, retries: 0, credentials: credentialSource({ url, store, env: {}, refresh }) })
    expect((await api.request({ method: 'GET', path: '/api/v1/auth/me', schema: whoamiSchema })).user.email).to.equal(USERS.operator)
    expect(((await store.get(url)) as { accessToken: string }).accessToken).to.not.equal('not-a-valid-token')
  })

  it('a session whose refresh token was revoked ends in NOT_LOGGED_IN, naming the URL', async () => {
    const stored = await loginAndStore(5_000)
    await server.services.sessions.logout(stored.refreshToken)
    const err = await credentialSource({ url, store, env: {}, refresh })
      .authorization()
      .catch((e: unknown) => e)
    expect((err as GantryError).code).to.equal('NOT_LOGGED_IN')
    expect((err as GantryError).message).to.equal(`The session on ${url} has ended (expired or revoked).`)
    expect((err as GantryError).message).to.not.include(stored.refreshToken)
  })

  it('two CLI processes refreshing at once both succeed, and the session family stays alive', async function () {
    this.timeout(30_000)
    const stored = await loginAndStore(5_000)
    const barrier = mkdtempSync(join(configHome, 'barrier-'))
    const child = () =>
      run(process.execPath, ['--import', 'tsx', CHILD, url, configHome, barrier, '2'], { timeout: 20_000 }).then(
        ({ stdout }): Outcome => JSON.parse(stdout) as Outcome,
        (err: { stdout?: string; message: string }): Outcome => ({ error: err.stdout || err.message, refreshes: -1 }),
      )
    const results = await Promise.all([child(), child()])
    for (const result of results) expect(result.error, JSON.stringify(result)).to.equal(undefined)
    // Exactly one of them refreshed; the other found the refreshed session when it got the lock.
    expect(results.map((r) => r.refreshes).sort()).to.deep.equal([0, 1])
    const [a, b] = results.map((r) => r.authorization as string)
    expect(a).to.equal(b)
    expect(a).to.not.equal(`Bearer ${stored.accessToken}`)
    expect((await me(a as string)).user.email).to.equal(USERS.operator)
    // Not revoked: the stored (rotated) refresh token still rotates.
    const now = (await store.get(url)) as StoredCredential & { kind: 'session' }
    expect(now.refreshToken).to.not.equal(stored.refreshToken)
    const next = await server.services.sessions.refresh(now.refreshToken)
    expect(next.accessToken).to.be.a('string')
  })
})
