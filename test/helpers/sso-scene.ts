/**
 * A whole single sign-on scene on loopback: Gantry's HTTP server (SQLite) listening on 127.0.0.1 with one
 * provider `corp` configured, and the test IdP (test-idp.ts) with the matching client registered for the
 * server's callback. The port comes first: the IdP registers the callback, and the server's config names it.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTestServer, USERS, type TestServer } from './server.js'
import { startTestIdp, type TestAccount, type TestClient, type TestIdp } from './test-idp.js'

export interface SsoScene {
  /** http://127.0.0.1:PORT, where Gantry's server answers. */
  readonly base: string
  /** The callback registered at the IdP and named in the provider's config. */
  readonly callback: string
  readonly idp: TestIdp
  readonly server: TestServer
  close(): Promise<void>
}

export interface SsoSceneOptions {
  /** The IdP's accounts; default: `op`, the operator's verified address. */
  readonly accounts?: Record<string, TestAccount>
  /** More of the client's registration (grant types …), and more redirect URIs. */
  readonly client?: Partial<TestClient>
  /** More of the provider's config (deviceFlow …). */
  readonly provider?: Record<string, unknown>
  readonly deviceInterval?: number
}

export async function startSsoScene(options: SsoSceneOptions = {}): Promise<SsoScene> {
  const http = createServer()
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const callback = `${base}/api/v1/auth/sso/corp/callback`
  const secret = 'the client secret of an sso scene'
  const client: TestClient = {
    client_id: 'gantry',
    client_secret: secret,
    ...options.client,
    redirect_uris: [callback, ...(options.client?.redirect_uris ?? [])],
  }
  const idp = await startTestIdp({
    accounts: options.accounts ?? { op: { email: USERS.operator, email_verified: true } },
    clients: [client],
    ...(options.deviceInterval === undefined ? {} : { deviceInterval: options.deviceInterval }),
  })
  const provider = {
    id: 'corp',
    name: 'Corp',
    issuer: idp.issuer,
    clientId: client.client_id,
    clientSecret: secret,
    redirectUri: callback,
    allowedDomains: [USERS.operator.slice(USERS.operator.indexOf('@') + 1)],
    ...options.provider,
  }
  const server = await createTestServer('sqlite', { environment: { auth: { sso: { providers: [provider] } } } })
  http.on('request', server.app)
  return {
    base,
    callback,
    idp,
    server,
    async close() {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
      await server.cleanup()
      await idp.close()
    },
  }
}
