/**
 * A real OpenID Connect identity provider on loopback for the tests of Gantry as a relying party:
 * oidc-provider (the certified Node.js implementation) behind a plain node:http server on 127.0.0.1,
 * with an in-memory account table and the clients a test registers.
 *
 * No browser is needed: `signIn` and `approveDevice` play the user's part by fetching the provider's own
 * development interaction pages (devInteractions: any login, any password) with a cookie jar of their own,
 * the way a browser would: follow the redirects, submit the login form, then the consent form.
 *
 *   const idp = await startTestIdp({ accounts: { alice: { email: 'alice@example.com', email_verified: true } }, clients: [...] })
 *   const callbackUrl = await idp.signIn(authorizationUrl.href, 'alice') // → https://rp.example/callback?code=…&state=…&iss=…
 *   await idp.close()
 *
 * Beside the provider: a GitHub-shaped user API (GET /user, GET /user/emails) for the tests of plain OAuth 2.0
 * providers, and hooks for a misbehaving provider (forged ID tokens, a device-flow interval).
 *
 * Quirks of oidc-provider 9:
 * - It publishes no TypeScript types: the little used here is typed in this file.
 * - It warns "Unsupported runtime" on Node 20 (it targets Node 22+) but works; it warns on every start that
 *   devInteractions and the in-memory adapter are for development only. These known warnings are dropped
 *   (see `quietly`), no other.
 * - Its default storage (the memory adapter) is one LRU per process shared by every Provider; ids and codes
 *   are random, so IdPs of different tests do not see each other's artifacts in practice.
 * - `authorization_response_iss_parameter_supported: true` is hard-wired into its discovery document and
 *   every authorization response (success or error) carries `iss` (RFC 9207): nothing to configure.
 * - PKCE: only S256 exists in v9 (`code_challenge_methods_supported: ['S256']`, plain is not implemented).
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type JWSHeaderParameters, type JWTPayload } from 'jose'

/** A user of the IdP, keyed by `sub` in `TestIdpOptions.accounts`. */
export interface TestAccount {
  email: string
  email_verified: boolean
  name?: string
  groups?: string[]
  /** The GitHub-shaped GET /user shows the email only where this is true (else null, as for a private address). */
  publicEmail?: boolean
}

/** A client registered at the IdP (OIDC client metadata; anything else given is passed on as is). */
export interface TestClient {
  client_id: string
  /** Absent: a public client (token_endpoint_auth_method 'none' unless given). */
  client_secret?: string
  /** Required when the client uses the authorization code grant. */
  redirect_uris?: string[]
  /** Default ['authorization_code']; a device-flow client: ['urn:ietf:params:oauth:grant-type:device_code']. */
  grant_types?: string[]
  /** Default ['code'] when grant_types has authorization_code, else []. */
  response_types?: string[]
  /** Default 'client_secret_post' with a secret, 'none' without one. */
  token_endpoint_auth_method?: string
}

export interface TestIdpOptions {
  /**
   * The account table, by sub. It is read on every token request, never copied: a test may change it
   * after start (flip email_verified, add groups, delete a user) and the next ID token shows it.
   */
  accounts: Record<string, TestAccount>
  clients: TestClient[]
  /**
   * Seconds between device-flow polls, added to each device authorization answer as `interval`; oidc-provider
   * sends none, and a client then waits the RFC's default of 5 s.
   */
  deviceInterval?: number
}

export interface TestIdp {
  /** http://127.0.0.1:PORT (no trailing slash), as in the discovery document and every `iss`. */
  readonly issuer: string
  /** The same object as `options.accounts`. */
  readonly accounts: Record<string, TestAccount>
  /** The public key set the IdP signs with (what its jwks_uri serves). */
  readonly jwks: { keys: JWK[] }
  /**
   * Drives a browser's part of the authorization code flow for `sub`: GETs `authorizationUrl`, signs in on
   * the login page, grants (or with `consent: false`, refuses) consent, and returns the URL the IdP
   * finally redirects to on the client's redirect URI (code, state, iss; or error=access_denied), without
   * following it. Throws when the IdP answers anything else (an error page for a bad request, say).
   */
  signIn(authorizationUrl: string, sub: string, options?: { consent?: boolean }): Promise<string>
  /** The user's side of the device flow: enter `userCode` at /device, confirm it, sign in as `sub`, consent. */
  approveDevice(userCode: string, sub: string): Promise<void>
  /**
   * Signs `claims` exactly as given (nothing added) with the IdP's private key, header {alg, kid, typ: 'JWT'}
   * unless `header` overrides it: an ID token the RP cannot tell from a real one by its signature.
   */
  signIdToken(claims: JWTPayload, header?: Partial<JWSHeaderParameters>): Promise<string>
  /**
   * A misbehaving IdP: while set, the ID token of each token answer is replaced by what this returns for
   * the claims of the one the IdP issued (its signature left to the test: `signIdToken` for a forgery only
   * the claims give away, another IdP's for a foreign key). Undefined again: the IdP behaves.
   */
  forgeIdTokens: ((issued: JWTPayload) => Promise<string>) | undefined
  /**
   * A provider that finds the client polling too fast: the next this-many `authorization_pending` answers
   * of its token endpoint are `slow_down` instead (RFC 8628 §3.5). oidc-provider itself never sends it.
   */
  slowDowns: number
  /** A provider failing for now: the next this-many requests to its token endpoint get a proxy's 502 page. */
  failTokenRequests: number
  /** A slow provider: each answer of its token endpoint is held this long first. */
  tokenAnswerDelayMs: number
  /** POST requests to the token endpoint so far: how often a client asked it (a device flow's polls among them). */
  readonly tokenRequests: number
  close(): Promise<void>
}

/** What this file uses of oidc-provider's Provider (the package publishes no types). */
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  /** The access tokens it issued, by value (opaque tokens, its default). */
  AccessToken: { find(token: string): Promise<{ accountId: string } | undefined> }
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => Provider

/** The bits of a Koa context the page renderers below touch. */
interface KoaContext {
  body: unknown
  type: string
}

const ALG = 'RS256'

/** The warnings every test run would otherwise print; any other output of oidc-provider goes through. */
const KNOWN_WARNINGS = [
  'Unsupported runtime',
  'a quick start development-only feature devInteractions is enabled',
  'a quick start development-only in-memory adapter is used',
]

/** Runs `fn` with console.warn dropping the known warnings of oidc-provider. */
async function quietly<T>(fn: () => T | Promise<T>): Promise<T> {
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    const [first] = args
    if (typeof first === 'string' && KNOWN_WARNINGS.some((known) => first.includes(known))) return
    warn(...args)
  }
  try {
    return await fn()
  } finally {
    console.warn = warn
  }
}

let providerClass: Promise<ProviderClass> | undefined
/** oidc-provider, loaded once (its import prints the runtime warning, hence the lazy load inside `quietly`). */
const loadProvider = () =>
  (providerClass ??= quietly(async () => {
    // @ts-expect-error -- oidc-provider publishes no types (and @types/oidc-provider is not installed); typed above.
    const module = (await import('oidc-provider')) as { default: ProviderClass }
    return module.default
  }))

/** The simplest pages for the device flow's three steps (the defaults log a notice each and pull in web fonts). */
const page = (title: string, content: string) => `<!DOCTYPE html><html><head><title>${title}</title></head><body>${content}</body></html>`
const deviceFlowPages = {
  userCodeInputSource(ctx: KoaContext, form: string, _out: unknown, err?: Error) {
    // An error (an unknown, expired or used code) is named in the page so that approveDevice can report it.
    ctx.body = page('Enter code', `${err ? `<p id="error">${err.name}: ${err.message}</p>` : ''}${form}`)
  },
  userCodeConfirmSource(ctx: KoaContext, form: string) {
    ctx.body = page('Confirm device', form)
  },
  successSource(ctx: KoaContext) {
    ctx.body = page('Signed in', '<p id="device-success">Your device is signed in.</p>')
  },
}

/** Starts the IdP on a free loopback port. */
export async function startTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  // The issuer must be known before the Provider is made, so listen first and make it second.
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`

  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true })
  const kid = `test-idp-${randomBytes(6).toString('hex')}`
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' }
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' }] }
  const { accounts } = options

  const configuration = {
    jwks: { keys: [privateJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Every authorization request needs a code_challenge (S256, the only method oidc-provider 9 has).
    pkce: { required: () => true },
    // Each key but openid is a scope the client may ask for; its claims are what findAccount's claims() gives.
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // By default (true) an ID token issued with an access token carries only sub & co, the rest left to
    // userinfo; most IdPs put the scopes' claims in the ID token too, and that is what Gantry reads.
    conformIdTokenClaims: false,
    findAccount(_ctx: unknown, sub: string) {
      if (!Object.hasOwn(accounts, sub)) return undefined
      return {
        accountId: sub,
        // Read at each call, so a change to the table shows in the next token.
        claims: () => ({ sub, ...accounts[sub] }),
      }
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true, ...deviceFlowPages },
      clientCredentials: { enabled: false },
      rpInitiatedLogout: { enabled: false },
    },
    clients: options.clients.map((client) => {
      const grantTypes = client.grant_types ?? ['authorization_code']
      return {
        ...client,
        grant_types: grantTypes,
        response_types: client.response_types ?? (grantTypes.includes('authorization_code') ? ['code'] : []),
        token_endpoint_auth_method: client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_post' : 'none'),
      }
    }),
    // Short lives, long enough for any test (seconds). Numbers, so that the defaults' notices stay quiet.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      RefreshToken: 3600,
      Session: 3600,
    },
    // Only a browser sends Origin, and none comes here; the default logs a notice the first time.
    clientBasedCORS: () => false,
    // The error page for what cannot go back to the client (an unregistered redirect_uri, an unknown
    // client, a crash): plain text, so signIn's error shows it readably; a crash's own message too.
    renderError(ctx: KoaContext, out: Record<string, string>, error: Error) {
      ctx.type = 'text/plain'
      const lines = Object.entries(out).map(([key, value]) => `${key}: ${value}`)
      ctx.body = [...lines, ...(out.error === 'server_error' ? [`cause: ${error.message}`] : [])].join('\n')
    },
  }

  const Provider = await loadProvider()
  let provider: Provider
  try {
    provider = await quietly(() => new Provider(issuer, configuration))
  } catch (error) {
    server.close()
    throw error
  }
  const handle = provider.callback()
  let tokenRequests = 0
  server.on('request', (req, res) => {
    const forge = idp.forgeIdTokens
    if (req.method === 'POST' && req.url === TOKEN_PATH) {
      tokenRequests++
      if (idp.failTokenRequests > 0) {
        idp.failTokenRequests--
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>')
        return
      }
      if (forge)
        rewriteAnswer(res, async (answer) => (typeof answer.id_token === 'string' ? { ...answer, id_token: await forge(decodeJwt(answer.id_token)) } : answer))
      const delay = idp.tokenAnswerDelayMs
      if (delay > 0) rewriteAnswer(res, (answer) => sleep(delay, answer))
      if (idp.slowDowns > 0)
        rewriteAnswer(res, async (answer) => {
          if (answer.error !== 'authorization_pending' || idp.slowDowns <= 0) return answer
          idp.slowDowns--
          return { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' }
        })
    }
    const interval = options.deviceInterval
    if (interval !== undefined && req.method === 'POST' && req.url === DEVICE_AUTHORIZATION_PATH)
      rewriteAnswer(res, async (answer) => ({ ...answer, interval }))
    if (req.method === 'GET' && (req.url === USER_PATH || req.url === EMAILS_PATH)) return void answerUserApi(req, res)
    handle(req, res)
  })
  /**
   * A plain OAuth 2.0 provider's user API, GitHub's shape: GET /user (id, login, name, and the email only if
   * the account made it public) and GET /user/emails ([{ email, verified, primary }]), for the access token
   * in the Authorization header.
   */
  const answerUserApi = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    const found = token === undefined ? undefined : await provider.AccessToken.find(token)
    const account = found && Object.hasOwn(accounts, found.accountId) ? accounts[found.accountId] : undefined
    if (!found || !account) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Bad credentials"}')
      return
    }
    const body =
      req.url === USER_PATH
        ? {
            id: found.accountId,
            login: found.accountId,
            name: account.name ?? null,
            email: account.publicEmail ? account.email : null,
            groups: account.groups ?? [],
          }
        : [{ email: account.email, verified: account.email_verified, primary: true }]
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  const issuerOrigin = new URL(issuer).origin
  // devInteractions take any login; an unknown one would only fail later, as a server_error of the provider.
  const assertAccount = (sub: string) => {
    if (!Object.hasOwn(accounts, sub)) throw new Error(`no account "${sub}" in the test IdP (options.accounts)`)
  }
  let closed: Promise<void> | undefined

  const idp: TestIdp = {
    issuer,
    accounts,
    jwks,
    forgeIdTokens: undefined,
    slowDowns: 0,
    failTokenRequests: 0,
    tokenAnswerDelayMs: 0,
    get tokenRequests() {
      return tokenRequests
    },

    async signIn(authorizationUrl, sub, { consent = true } = {}) {
      assertAccount(sub)
      const browser = new Browser()
      const end = await browser.interact(new URL(authorizationUrl), sub, consent, issuerOrigin)
      if (end.kind === 'left') return end.location
      throw new Error(`signIn: the IdP answered ${end.status} at ${end.url} instead of redirecting to the client:\n${end.html.slice(0, 2000)}`)
    },

    async approveDevice(userCode, sub) {
      assertAccount(sub)
      const browser = new Browser()
      const device = new URL('/device', issuer)
      // 1. The code entry page: its form carries the xsrf token bound to the session cookie just set.
      const entry = await browser.fetch(device)
      const entryHtml = await entry.text()
      // 2. Submit the code: the IdP shows the confirmation page (another form, the code and the token again).
      const confirmation = await browser.fetch(device, { xsrf: field(entryHtml, 'xsrf'), user_code: userCode })
      const confirmationHtml = await confirmation.text()
      if (!/name="confirm"/.test(confirmationHtml)) {
        throw new Error(`approveDevice: user code ${userCode} not accepted (${confirmation.status}):\n${confirmationHtml.slice(0, 2000)}`)
      }
      // 3. Confirm: the IdP starts an authorization for the device's request, through login and consent.
      const confirmed = await browser.fetch(device, { xsrf: field(confirmationHtml, 'xsrf'), user_code: field(confirmationHtml, 'user_code'), confirm: 'yes' })
      const end = await browser.interact(confirmed, sub, true, issuerOrigin)
      if (end.kind === 'page' && end.html.includes('id="device-success"')) return
      const what = end.kind === 'left' ? `redirected to ${end.location}` : `answered ${end.status} at ${end.url}:\n${end.html.slice(0, 2000)}`
      throw new Error(`approveDevice: the IdP ${what}`)
    },

    signIdToken(claims, header = {}) {
      return new SignJWT(claims).setProtectedHeader({ alg: ALG, kid, typ: 'JWT', ...header }).sign(privateKey)
    },

    close() {
      closed ??= (async () => {
        server.closeAllConnections()
        server.close()
        await once(server, 'close')
      })()
      return closed
    },
  }
  return idp
}

/** The GitHub-shaped user API (answerUserApi). */
const USER_PATH = '/user'
const EMAILS_PATH = '/user/emails'

/** oidc-provider's token and device authorization endpoints (its default routes). */
const TOKEN_PATH = '/token'
const DEVICE_AUTHORIZATION_PATH = '/device/auth'

/**
 * Rewrites the JSON answer `res` is about to send with `change` (an error answer too: the change decides).
 * oidc-provider (Koa) sets its headers, then ends the response with the whole body in one call.
 */
function rewriteAnswer(res: ServerResponse, change: (answer: Record<string, unknown>) => Promise<Record<string, unknown>>): void {
  const end = res.end.bind(res) as (body?: string | Buffer) => ServerResponse
  res.end = ((body?: string | Buffer) => {
    if (body === undefined) return end(body)
    void change(JSON.parse(body.toString()) as Record<string, unknown>).then((changed) => {
      const text = JSON.stringify(changed)
      res.setHeader('content-length', Buffer.byteLength(text))
      end(text)
    })
    return res
  }) as ServerResponse['end']
}

/** Where a browser's walk through the IdP's pages ended. */
type End = { kind: 'left'; location: string } | { kind: 'page'; url: string; status: number; html: string }

/** The value of a form's input `name` in the provider's HTML (its attributes come in that order). */
function field(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]
  if (value === undefined) throw new Error(`no "${name}" field in the IdP's page:\n${html.slice(0, 2000)}`)
  return unescapeHtml(value)
}

const unescapeHtml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity] ?? '')

/** A cookie as a browser keeps it: by name and path (oidc-provider scopes its interaction cookies by path). */
interface Cookie {
  name: string
  value: string
  path: string
}

/** Just enough of a browser: a cookie jar, manual redirects, form posts. One per sign-in, like a private window. */
class Browser {
  readonly #cookies = new Map<string, Cookie>()

  /** GET `url`, or POST `form` to it url-encoded; keeps the cookies of the answer; never follows a redirect. */
  async fetch(url: URL, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {}
    const cookie = this.#cookieHeader(url)
    if (cookie) headers.cookie = cookie
    const res = await fetch(url, form ? { method: 'POST', headers, body: new URLSearchParams(form), redirect: 'manual' } : { headers, redirect: 'manual' })
    this.#store(res)
    return res
  }

  /**
   * Follows the IdP's redirects from `start` (a URL to GET, or an answer already had), signing in as `sub`
   * on a login page and consenting (or refusing) on a consent page, until a redirect leaves the issuer's
   * origin (returned, not followed) or a page that is no interaction comes.
   */
  async interact(start: URL | Response, sub: string, consent: boolean, issuerOrigin: string): Promise<End> {
    let res = start instanceof URL ? await this.fetch(start) : start
    let url = start instanceof URL ? start : new URL(res.url)
    for (let step = 0; step < 20; step++) {
      const location = res.headers.get('location')
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel()
        url = new URL(location, url)
        if (url.origin !== issuerOrigin) return { kind: 'left', location: url.href }
        res = await this.fetch(url)
        continue
      }
      const html = await res.text()
      // The devInteractions page at /interaction/<uid>: a form whose hidden `prompt` says login or consent.
      const prompt = res.status === 200 && /^\/interaction\/[^/]+$/.test(url.pathname) ? /name="prompt" value="(\w+)"/.exec(html)?.[1] : undefined
      if (prompt === 'login') {
        res = await this.fetch(this.#formAction(html, url), { prompt: 'login', login: sub, password: 'x' })
      } else if (prompt === 'consent' && consent) {
        res = await this.fetch(this.#formAction(html, url), { prompt: 'consent' })
      } else if (prompt === 'consent') {
        // The page's "cancel" link: the IdP ends the request with error=access_denied.
        res = await this.fetch(new URL(`${url.pathname}/abort`, url))
      } else {
        return { kind: 'page', url: url.href, status: res.status, html }
      }
      url = new URL(res.url || url)
    }
    throw new Error(`more than 20 steps through the IdP's pages, last at ${url.href}`)
  }

  #formAction(html: string, base: URL): URL {
    const action = /<form[^>]*\saction="([^"]+)"/.exec(html)?.[1]
    if (!action) throw new Error(`no form on the IdP's page ${base.href}:\n${html.slice(0, 2000)}`)
    return new URL(unescapeHtml(action), base)
  }

  #store(res: Response) {
    const requestPath = new URL(res.url).pathname
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const cookie: Cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: requestPath.replace(/\/[^/]*$/, '') || '/' }
      let expired = false
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=', 2)
        const lower = key.toLowerCase()
        if (lower === 'path' && value.startsWith('/')) cookie.path = value
        if (lower === 'expires' && Date.parse(value) <= Date.now()) expired = true
        if (lower === 'max-age' && Number(value) <= 0) expired = true
      }
      const key = `${cookie.name};${cookie.path}`
      if (expired) this.#cookies.delete(key)
      else this.#cookies.set(key, cookie)
    }
  }

  #cookieHeader(url: URL): string {
    const path = url.pathname
    return [...this.#cookies.values()]
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length) // the most specific first, as browsers send them
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }
}
