/**
 * Table-driven scenarios over the admin API: who calls (a seeded user, an API key with given scopes, or
 * nobody), what they send, and what must come back. A scenario's setup makes its own targets (fresh emails,
 * role names, keys) through the services, so scenarios do not depend on each other's order.
 */
import { expect } from 'chai'
import request, { type Response } from 'supertest'
import { localContext } from '../../src/core/context.js'
import type { HttpMethod } from '../../src/server/routes/route.js'
import { USERS, type TestServer } from './server.js'

/** A seeded user, an API key of the admin with these scopes, or no credentials at all. */
export type Who = keyof typeof USERS | 'anonymous' | { readonly scopes: readonly string[] }

/** What a setup made, for the path, body and checks of its scenario. */
export type Vars = Readonly<Record<string, string>>

export interface Scenario {
  readonly name: string
  readonly method: HttpMethod
  readonly path: string | ((vars: Vars) => string)
  readonly who: Who
  readonly query?: Readonly<Record<string, string>>
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
  /** Read the answer as text whatever its type (streamed exports): `res.body` is the string. */
  readonly raw?: boolean
  readonly setup?: (f: AdminFixture) => Promise<Vars>
  readonly status: number
  /** For errors: the problem's code. */
  readonly code?: string
  /** For 400s: the fields the problem's `errors` must name. */
  readonly errors?: readonly string[]
  readonly check?: (res: Response, f: AdminFixture, vars: Vars) => unknown
}

export const ADMIN_API = '/api/v1/admin'
export const local = localContext('local:test@host')

/** A test server with cached credentials. */
export interface AdminFixture {
  readonly server: TestServer
  /** The headers that present `who`'s credentials. */
  headers(who: Who): Promise<Record<string, string>>
  /** A user made for one scenario: `<prefix>-<n>@example.com`. */
  user(prefix: string, role?: string): Promise<string>
  /** A key of `owner` (default the admin) with these scopes: its id and full text. */
  apiKey(scopes: readonly string[], owner?: string): Promise<{ id: string; key: string }>
  /** An OAuth client of `owner` (default the admin) with these scopes: its client_id and secret. */
  oauthClient(scopes: readonly string[], owner?: string): Promise<{ id: string; secret: string }>
}

/** Wraps a test server. */
export function adminFixture(server: TestServer): AdminFixture {
  const tokens = new Map<string, string>()
  const keys = new Map<string, string>()
  let n = 0
  const f: AdminFixture = {
    server,
    async headers(who): Promise<Record<string, string>> {
      if (who === 'anonymous') return {}
      if (typeof who === 'object') {
        const scopes = who.scopes.join(' ')
        if (!keys.has(scopes)) keys.set(scopes, (await f.apiKey(who.scopes)).key)
        return { 'X-API-Key': keys.get(scopes) as string }
      }
      if (!tokens.has(who)) tokens.set(who, await server.token(who))
      return { Authorization: `Bearer ${tokens.get(who)}` }
    },
    async user(prefix, role = 'viewer') {
      const email = `${prefix}-${++n}@example.com`
      await server.services.users.create(local, { email, role, generatePassword: true })
      return email
    },
    async apiKey(scopes, owner = USERS.admin) {
      const created = await server.services.apikeys.create(local, { name: `key-${++n}`, owner, scopes: [...scopes] })
      return { id: created.apiKey.id, key: created.key }
    },
    async oauthClient(scopes, owner = USERS.admin) {
      const created = await server.services.oauthClients.create(local, { name: `client-${++n}`, owner, scopes: [...scopes] })
      return { id: created.client.id, secret: created.clientSecret }
    },
  }
  return f
}

/** Sends one scenario's request. */
export async function send(
  f: AdminFixture,
  s: Pick<Scenario, 'method' | 'path' | 'who' | 'query' | 'headers' | 'body' | 'raw'>,
  vars: Vars = {},
): Promise<Response> {
  let req = request(f.server.app)[s.method](pathOf(s, vars))
  req = req.set({ ...(await f.headers(s.who)), ...s.headers })
  if (s.query) req = req.query(s.query)
  if (s.raw) req = req.buffer(true).parse(text)
  return s.body === undefined ? req : req.send(s.body as object)
}

/** The full path a scenario calls (paths in tables are relative to /api/v1/admin unless they start with /api/). */
export function pathOf(s: Pick<Scenario, 'path'>, vars: Vars): string {
  const path = typeof s.path === 'function' ? s.path(vars) : s.path
  return path.startsWith('/api/') ? path : `${ADMIN_API}${path}`
}

/** Runs a scenario: setup, request, the status, the problem shape of an error, then its own checks. Returns the path called. */
export async function run(f: AdminFixture, s: Scenario): Promise<string> {
  const vars = s.setup ? await s.setup(f) : {}
  const res = await send(f, s, vars)
  expect(res.status, `${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`).to.equal(s.status)
  if (s.status >= 400) expectProblem(res, s.code, s.errors)
  await s.check?.(res, f, vars)
  return pathOf(s, vars)
}

/** An error answer: problem+json with a code, no stack; 401s ask for credentials; 400s name their fields. */
export function expectProblem(res: Response, code?: string, fields?: readonly string[]): void {
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
  expect(res.body).to.include({ status: res.status })
  expect(res.body.code).to.be.a('string')
  if (code) expect(res.body.code).to.equal(code)
  expect(JSON.stringify(res.body)).to.not.match(/\bat .+\.(ts|js):\d+/)
  // The API speaks in body fields: no CLI flag in what it tells the caller (core errors are door-neutral).
  const told = JSON.stringify([res.body.detail, res.body.hint, res.body.errors])
  expect(told, 'a problem names no CLI flag').to.not.match(/(^|[\s("'`])--[a-z]/)
  if (res.status === 401) expect(res.headers['www-authenticate']).to.equal('Bearer realm="gantry"')
  if (fields) {
    expect(res.body.errors, 'errors').to.be.an('array')
    const paths = (res.body.errors as { path: string; message: string }[]).map((e) => (e.path === '' ? e.message : e.path))
    for (const field of fields)
      expect(
        paths.some((p) => p.includes(field)),
        `errors name ${field}: ${JSON.stringify(paths)}`,
      ).to.equal(true)
  }
}

/** Reads a streamed text body (CSV or JSON lines) whole. */
export function text(res: unknown, done: (err: Error | null, body: string) => void): void {
  const stream = res as NodeJS.ReadableStream
  let body = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => (body += chunk))
  stream.on('end', () => done(null, body))
}
