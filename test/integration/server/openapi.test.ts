/**
 * GET /api/openapi.json against what the server does: a valid OpenAPI 3.1 document; every route the
 * Express app serves is in it and nothing else; each admin operation's x-permission is the permission the
 * server enforces; the 2xx answers of a walk through the API validate against the response schemas the
 * document declares (converted back to zod from the document's JSON Schema, so the test reads the document
 * as a client would, not the route table it was generated from); every error answered is a status and code
 * the operation lists; and every request body of the walk, with bodies the document refuses made from it,
 * is judged alike by the document (a JSON Schema 2020-12 validator) and the server (a 400 naming `errors`
 * exactly when the document refuses the body).
 */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { expect } from 'chai'
import type { Express } from 'express'
import request from 'supertest'
import { z } from 'zod'
import { backupContext } from '../../../src/backup-context.js'
import { takeBackup } from '../../../src/db/backups.js'
import { local } from '../../helpers/admin-fixture.js'
import { lostOrChanged } from '../../helpers/json-additions.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

type JsonSchema = Record<string, unknown>

interface Operation {
  readonly operationId: string
  readonly 'x-permission'?: string
  readonly 'x-gantry-operation'?: string
  readonly security: unknown[]
  readonly parameters: { name: string; in: string; required: boolean; schema: JsonSchema }[]
  readonly requestBody?: { content: Record<string, { schema: JsonSchema }> }
  readonly responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>
}

interface Document {
  readonly openapi: string
  readonly paths: Record<string, Record<string, Operation>>
  readonly components: { schemas: Record<string, JsonSchema> }
}

/** `method path` of every route the Express app serves, read from its router stack (not from the route table). */
function servedRoutes(app: Express): string[] {
  const found: string[] = []
  const walk = (stack: unknown[]): void => {
    for (const layer of stack as { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }[]) {
      if (layer.route) {
        // The console's page and assets are HTML and files for a browser, not operations of the API.
        if (String(layer.route.path).startsWith('/console')) continue
        // router.all() answers 405 for the methods a path does not serve: not a route of its own.
        if (layer.route.methods._all) continue
        for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${layer.route.path}`)
      } else if (layer.handle?.stack) walk(layer.handle.stack)
    }
  }
  walk((app as unknown as { router: { stack: unknown[] } }).router.stack)
  return found.sort()
}

/** `method path` of every operation of the document, with Express's `:param` for `{param}`. */
function documentedRoutes(doc: Document): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`))
    .sort()
}

/** Whether a request body schema of the document accepts a body, read by a JSON Schema 2020-12 validator as a client would. */
function bodyJudge(): (schema: JsonSchema, body: unknown) => boolean {
  const ajv = new Ajv2020({ strict: false, validateFormats: false })
  const compiled = new Map<JsonSchema, ValidateFunction>()
  return (schema, body) => {
    let validate = compiled.get(schema)
    if (!validate) compiled.set(schema, (validate = ajv.compile(schema)))
    return validate(body)
  }
}

/** A 400 naming the fields its schema refused (`errors`): the server's refusal of a body for its shape. */
function refusedForShape(res: { status: number; body: { errors?: unknown } }): boolean {
  return res.status === 400 && Array.isArray(res.body.errors)
}

/**
 * Bodies the document refuses, each made from one it accepts: with an unknown field, without each required
 * field, and with each field given a value of a type its schema refuses (the first that it does).
 */
function refusedVariants(schema: JsonSchema, body: Record<string, unknown>, accepts: (body: unknown) => boolean): [string, unknown][] {
  const variants: [string, unknown][] = [['an unknown field', { ...body, notAField: true }]]
  for (const name of (schema.required as string[] | undefined) ?? [])
    variants.push([`no ${name}`, Object.fromEntries(Object.entries(body).filter(([key]) => key !== name))])
  for (const name of Object.keys(body)) {
    const wrong = [12345.5, 'not-a-value', true, [], {}, null].map((value) => ({ ...body, [name]: value })).find((variant) => !accepts(variant))
    if (wrong) variants.push([`${name}: ${JSON.stringify(wrong[name])}`, wrong])
  }
  return variants.filter(([, variant]) => !accepts(variant))
}

/** Whether the operation lists the error answer: its status, with its code among those the status names. */
function listsError(op: Operation, res: { status: number; body: { code?: unknown } }): boolean {
  const declared = op.responses[String(res.status)]
  return declared !== undefined && typeof res.body.code === 'string' && declared.description.includes(`\`${res.body.code}\``)
}

describe('GET /api/openapi.json', function () {
  let s: TestServer
  let server: Server
  let doc: Document
  let admin: string

  before(async () => {
    s = await createTestServer('sqlite')
    server = s.app.listen(0, '127.0.0.1')
    admin = await s.token('admin')
    const res = await request(server).get('/api/openapi.json').expect(200)
    expect(res.headers['content-type']).to.match(/^application\/json/)
    doc = res.body as Document
  })
  after(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await s?.cleanup()
  })

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator()
    const result = await validator.validate(doc as unknown as Record<string, unknown>)
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).to.deep.equal([])
    expect(result.valid).to.equal(true)
    expect(validator.version).to.equal('3.1')
    const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId))
    expect(new Set(ids).size, 'operationIds are unique').to.equal(ids.length)
  })

  it('only grows: against the committed document (test/snapshots/openapi-v1.json) nothing is removed or changed, key order aside', () => {
    // A deliberate break of /api/v1 needs a new version, not a new snapshot; an addition is taken into the
    // snapshot by copying the served document over it.
    const v1 = JSON.parse(readFileSync(new URL('../../snapshots/openapi-v1.json', import.meta.url), 'utf8')) as unknown
    expect(lostOrChanged(v1, doc)).to.deep.equal([])
  })

  it('lists every route the app serves, and only those', () => {
    const served = servedRoutes(s.app)
    expect(served.length).to.be.greaterThan(20)
    expect(documentedRoutes(doc)).to.deep.equal(served)
  })

  it('states who may call each operation: credentials, and the permission an admin route needs', async () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const where = `${method} ${path}`
        // Every operation of the table states its permission (the admin API, and flag evaluation for services).
        const admin = path.startsWith('/api/v1/admin/') || op['x-gantry-operation'] !== undefined
        if (admin) expect(op['x-permission'], where).to.match(/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/)
        else expect(op['x-permission'], where).to.equal(undefined)
        expect(op.security.length > 0, `${where} security`).to.equal(admin || path === '/api/v1/auth/me')
        // A route that needs credentials refuses an anonymous call with 401 and says how to authenticate.
        if (op.security.length > 0) {
          const res = await request(server)[method as 'get'](pathWith(path, 'nobody@example.com'))
          expect(res.status, where).to.equal(401)
          expect(res.headers['www-authenticate'], where).to.match(/^Bearer /)
          expect(listsError(op, res), `${where} lists ${res.body.code} under 401`).to.equal(true)
        }
      }
    }
  })

  it('enforces exactly the x-permission it states: a key scoped to it passes, a key scoped to another is refused', async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
    const permissions = [...new Set(operations.map(({ op }) => op['x-permission']).filter((p): p is string => p !== undefined))]
    expect(permissions).to.include.members(['users:read', 'users:write', 'roles:write', 'apikeys:write', 'audit:read'])
    const keys = new Map<string, string>()
    for (const permission of permissions) {
      const res = await request(server)
        .post('/api/v1/admin/api-keys')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: `only ${permission}`, owner: USERS.admin, scopes: [permission] })
        .expect(201)
      keys.set(permission, (res.body as { key: string }).key)
    }
    for (const { path, method, op } of operations) {
      const permission = op['x-permission']
      if (!permission) continue
      const where = `${method} ${path} (${permission})`
      // Targets that do not exist and an empty body: the permission is checked before either, and nothing changes.
      const call = (key: string) => {
        const agent = request(server)
        return agent[method as 'get'](pathWith(path, 'nobody@example.com'))
          .set('X-API-Key', key)
          .type('json')
          .send(method === 'get' || method === 'delete' ? undefined : '{}')
      }
      const allowed = await call(keys.get(permission)!)
      expect(allowed.status, `${where} with its own scope: ${allowed.text.slice(0, 200)}`).to.not.be.oneOf([401, 403])
      expect(allowed.status, where).to.be.below(500)
      if (allowed.status >= 400) expect(listsError(op, allowed), `${where} lists ${allowed.status} ${allowed.body.code}`).to.equal(true)
      const other = permissions.find((p) => p !== permission && !(permission.endsWith(':read') && p === permission.replace(':read', ':write')))!
      const refused = await call(keys.get(other)!)
      expect(refused.status, `${where} with ${other}: ${refused.text.slice(0, 200)}`).to.equal(403)
      expect(refused.body.code, where).to.equal('FORBIDDEN')
      expect(listsError(op, refused), `${where} lists 403 FORBIDDEN`).to.equal(true)
    }
  })

  it('declares request bodies as the edge reads them: unknown fields are refused, and the schema says so', async () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const schema = op.requestBody?.content['application/json']?.schema
        if (!schema) continue
        expect(schema.additionalProperties, `${method} ${path}`).to.equal(false)
      }
    }
    const res = await request(server).post('/api/v1/auth/login').send({ email: USERS.viewer, password: PASSWORD, remember: true }).expect(400)
    expect(res.body.errors).to.deep.equal([{ path: '', message: 'Unrecognized key: "remember"' }])
  })

  it('describes the 2xx answers and the request bodies of a walk through the API, and every error as a status, code and Problem it lists', async () => {
    const problem = z.fromJSONSchema(doc.components.schemas.Problem!)
    const judge = bodyJudge()
    const checked = new Set<string>()
    const checkedBodies = new Set<string>()
    const call = async (
      method: string,
      path: string,
      options: { body?: unknown; token?: string | null; key?: string; headers?: Record<string, string> } = {},
    ) => {
      const template = templateOf(path)
      const op = doc.paths[template]?.[method]
      expect(op, `${method} ${template} is documented`).to.not.equal(undefined)
      const send = (body: unknown) => {
        let req = request(server)[method as 'get'](path)
        if (options.token !== null) req = req.set('Authorization', `Bearer ${options.token ?? admin}`)
        if (options.key) req = req.set('X-API-Key', options.key)
        for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value)
        return body === undefined ? req : req.send(body as object)
      }
      // The body as the document judges it; first, bodies it refuses (made from this one) are refused alike.
      const schema = op!.requestBody?.content['application/json']?.schema
      const accepted = schema && options.body !== undefined ? judge(schema, options.body) : undefined
      if (schema && accepted && options.body !== null && typeof options.body === 'object' && !Array.isArray(options.body)) {
        for (const [what, variant] of refusedVariants(schema, options.body as Record<string, unknown>, (body) => judge(schema, body))) {
          const refused = await send(variant)
          expect(
            refusedForShape(refused),
            `${method} ${path} with ${what}, which the document refuses -> ${refused.status} ${refused.text.slice(0, 300)}`,
          ).to.equal(true)
        }
      }
      const res = await send(options.body)
      const where = `${method} ${path} -> ${res.status} ${res.text.slice(0, 300)}`
      if (accepted !== undefined) {
        expect(refusedForShape(res), `${where}: the document ${accepted ? 'accepts' : 'refuses'} the body`).to.equal(!accepted)
        checkedBodies.add(`${method} ${template}`)
      }
      if (res.status >= 400) {
        expect(res.headers['content-type'], where).to.match(/^application\/problem\+json/)
        expect(problem.safeParse(res.body).error?.issues ?? [], where).to.deep.equal([])
        expect(listsError(op!, res), `${where}: status and code listed (${Object.keys(op!.responses).join(', ')})`).to.equal(true)
        return res
      }
      const declared = op!.responses[String(res.status)]
      expect(declared, `${where}: status declared (${Object.keys(op!.responses).join(', ')})`).to.not.equal(undefined)
      const [mediaType, content] = Object.entries(declared!.content ?? {})[0] ?? []
      if (!content) return res
      expect(String(res.headers['content-type']).split(';')[0], `${where}: media type`).to.equal(mediaType)
      const body: unknown = JSON.parse(res.text)
      expect(z.fromJSONSchema(content.schema).safeParse(body).error?.issues ?? [], where).to.deep.equal([])
      checked.add(`${method} ${template}`)
      return res
    }

    await call('get', '/api/health', { token: null })
    await call('get', '/api/health/ready', { token: null })
    const login = await call('post', '/api/v1/auth/login', { token: null, body: { email: USERS.viewer, password: PASSWORD } })
    const refreshed = await call('post', '/api/v1/auth/refresh', { token: null, body: { refreshToken: login.body.refreshToken } })
    await call('get', '/api/v1/auth/me')
    await call('get', '/api/v1/auth/me', { token: refreshed.body.accessToken })
    await call('post', '/api/v1/auth/logout', { token: null, body: { refreshToken: refreshed.body.refreshToken } })
    // The console's session: its cookie comes back on the next call, as a browser would send it.
    const consoleHeaders = { 'X-Gantry-Console': '1', Origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
    const consoleLogin = await call('post', '/api/v1/auth/console/login', {
      token: null,
      headers: consoleHeaders,
      body: { email: USERS.viewer, password: PASSWORD },
    })
    const cookie = String(consoleLogin.headers['set-cookie']).split(';')[0]!
    await call('post', '/api/v1/auth/console/refresh', { token: null, headers: { ...consoleHeaders, Cookie: cookie } })
    await call('post', '/api/v1/auth/console/refresh', { token: null, headers: consoleHeaders })
    await call('post', '/api/v1/auth/console/logout', { token: null, headers: consoleHeaders })
    await call('get', '/api/v1/admin/traffic')
    // One real backup (SQLite: VACUUM INTO, no tool to install), so the list's answer has a manifest to validate.
    await takeBackup(await backupContext(s.runtime))
    await call('get', '/api/v1/admin/backups')

    await call('get', '/api/v1/admin/users?limit=2')
    await call('post', '/api/v1/admin/users', { body: { email: 'new@example.com', name: 'New', role: 'viewer', password: PASSWORD } })
    await call('post', '/api/v1/admin/users', { body: { email: 'generated@example.com', generatePassword: true } })
    await call('post', '/api/v1/admin/users', { body: { email: 'new@example.com', generatePassword: true } })
    await call('get', `/api/v1/admin/users/${encodeURIComponent('new@example.com')}`)
    await call('patch', '/api/v1/admin/users/new@example.com', { body: { name: 'Renamed' } })
    await call('post', '/api/v1/admin/users/new@example.com/disable')
    await call('post', '/api/v1/admin/users/new@example.com/enable')
    await call('post', '/api/v1/admin/users/new@example.com/unlock')
    await call('post', '/api/v1/admin/users/new@example.com/password', { body: { generatePassword: true } })
    await call('post', '/api/v1/admin/users/new@example.com/tokens', { body: { ttl: '5m' } })
    await call('delete', '/api/v1/admin/users/new@example.com/sessions')
    await call('get', '/api/v1/admin/users/new@example.com/identities')
    await call('post', '/api/v1/admin/users/new@example.com/unlink', { body: { provider: 'corp' } })
    await call('get', '/api/v1/auth/sso', { token: null })
    await call('post', '/api/v1/auth/sso/token', { token: null, body: { code: 'c'.repeat(32), verifier: 'v'.repeat(43) } })
    await call('post', '/api/v1/auth/sso/corp/device', { token: null })
    await call('post', '/api/v1/auth/sso/device/token', { token: null, body: { handle: 'h'.repeat(32) } })

    await call('get', '/api/v1/admin/roles')
    await call('post', '/api/v1/admin/roles', { body: { name: 'auditor', description: 'reads the audit log', permissions: ['audit:read'] } })
    await call('get', '/api/v1/admin/roles/auditor')
    await call('patch', '/api/v1/admin/roles/auditor', { body: { grant: ['users:read'] } })

    const created = await call('post', '/api/v1/admin/api-keys', { body: { name: 'ci', owner: USERS.operator, scopes: ['users:read'], expires: '30d' } })
    await call('get', '/api/v1/admin/api-keys?limit=5')
    await call('get', '/api/v1/admin/users?limit=1', { token: null, key: created.body.key })
    await call('get', '/api/v1/auth/me', { token: null, key: created.body.key })
    await call('post', `/api/v1/admin/api-keys/${created.body.apiKey.id}/rotate`, { body: { grace: '0s' } })
    await call('post', `/api/v1/admin/api-keys/${created.body.apiKey.id}/revoke`)
    await call('post', `/api/v1/admin/api-keys/${created.body.apiKey.id}/rotate`, { body: {} })
    const client = await call('post', '/api/v1/admin/oauth/clients', { body: { name: 'billing', owner: USERS.operator, scopes: ['users:read'] } })
    await call('get', '/api/v1/admin/oauth/clients?limit=5')
    await call('get', `/api/v1/admin/oauth/clients/${client.body.client.id}`)
    await call('post', `/api/v1/admin/oauth/clients/${client.body.client.id}/rotate`, { body: { grace: '0s' } })
    await call('post', `/api/v1/admin/oauth/clients/${client.body.client.id}/revoke`)
    await call('get', '/api/v1/admin/audit?limit=20')
    await call('get', '/api/v1/admin/audit/export?limit=2&since=1h')
    await call('post', '/api/v1/admin/audit/prune', { body: { olderThan: '3650d', dryRun: true } })
    await call('post', '/api/v1/admin/audit/prune', { body: { olderThan: 'never' } })
    await call('put', '/api/v1/admin/maintenance', { body: { retryAfter: 120, message: 'Upgrading' } })
    await call('get', '/api/v1/admin/maintenance')
    await call('delete', '/api/v1/admin/maintenance')

    // A rule on a path nothing serves: the walk's own requests spend no budget.
    await call('put', '/api/v1/admin/rate-limits/rules/api', { body: { match: '* /api/v1/things/*', limit: 100, window: '1m', burst: 20 } })
    await call('put', '/api/v1/admin/rate-limits/overrides', { body: { subject: 'ip:203.0.113.7', block: true, expires: '1h' } })
    await call('get', '/api/v1/admin/rate-limits')
    const file = await call('get', '/api/v1/admin/rate-limits/export')
    await call('post', '/api/v1/admin/rate-limits/apply', { body: { ...file.body, dryRun: true } })
    await call('post', '/api/v1/admin/rate-limits/test', { body: { method: 'GET', path: '/api/v1/things', ip: '203.0.113.7' } })
    await call('delete', '/api/v1/admin/rate-limits/overrides?subject=ip:203.0.113.7')
    await call('delete', '/api/v1/admin/rate-limits/rules/api')

    // Port 9 (discard) on loopback: nothing listens, so the test ping answers ok: false.
    const hook = await call('post', '/api/v1/admin/webhooks', { body: { url: 'http://127.0.0.1:9/walk', eventTypes: ['users.*'], description: 'walk' } })
    const hooks = `/api/v1/admin/webhooks/${hook.body.endpoint.id}`
    await call('get', '/api/v1/admin/webhooks')
    await call('get', hooks)
    await call('patch', hooks, { body: { description: 'walked', eventTypes: ['users.*', 'roles.*'] } })
    await call('post', `${hooks}/test`)
    await call('post', `${hooks}/rotate-secret`, { body: { grace: '1h' } })
    await call('post', `${hooks}/disable`)
    await call('post', `${hooks}/enable`)
    await call('patch', '/api/v1/admin/users/new@example.com', { body: { name: 'Hooked' } })
    const deliveries = await call('get', `${hooks}/deliveries?limit=5`)
    await call('post', `/api/v1/admin/webhooks/deliveries/${deliveries.body.data[0].id}/redeliver`)
    await call('post', `${hooks}/replay`, { body: { since: '1h' } })
    await call('post', '/api/v1/admin/webhooks/deliveries/999999/redeliver')
    await call('delete', hooks)

    // Feature flags: a segment, a flag whose rule names it, changed rule by rule, explained, evaluated as a
    // service does (a key scoped flags:evaluate), exported and applied back; a json flag's values any JSON.
    const plan = { attribute: 'plan', operator: 'equals', values: ['pro'] }
    await call('put', '/api/v1/admin/flag-segments/walk-pro', { body: { description: 'pro plans', conditions: [plan] } })
    await call('get', '/api/v1/admin/flag-segments')
    await call('post', '/api/v1/admin/flags', {
      body: { key: 'walk-flag', type: 'boolean', description: 'walk', rules: [{ segments: ['walk-pro'], serve: { variant: 'on' } }] },
    })
    await call('post', '/api/v1/admin/flags', {
      body: {
        key: 'walk-theme',
        type: 'json',
        variants: [
          { name: 'dark', value: { colours: ['#000', '#333'], contrast: 1.5, rounded: true } },
          { name: 'none', value: null },
        ],
        defaultVariant: 'dark',
        offVariant: 'none',
        enabled: true,
        lifetime: 'permanent',
      },
    })
    await call('post', '/api/v1/admin/flags', { body: { key: 'walk-flag', type: 'boolean' } })
    await call('get', '/api/v1/admin/flags?stale=false')
    await call('get', '/api/v1/admin/flags/walk-flag')
    await call('patch', '/api/v1/admin/flags/walk-flag', { body: { enabled: true, description: 'walked' } })
    await call('post', '/api/v1/admin/flags/walk-flag/rules', {
      body: { rule: { description: 'admins', conditions: [{ attribute: 'role', operator: 'in', values: ['admin'] }], serve: { variant: 'on' } }, position: 0 },
    })
    await call('put', '/api/v1/admin/flags/walk-flag/rollout', {
      body: {
        split: [
          { variant: 'on', percent: 25 },
          { variant: 'off', percent: 75 },
        ],
        by: 'userId',
      },
    })
    await call('post', '/api/v1/admin/flags/walk-flag/explain', { body: { context: { userId: '42', plan: 'pro', permissions: ['users:read'] } } })
    const evaluator = await call('post', '/api/v1/admin/api-keys', { body: { name: 'evaluator', owner: USERS.admin, scopes: ['flags:evaluate'] } })
    await call('post', '/api/v1/flags/evaluate', { token: null, key: evaluator.body.key, body: { key: 'walk-flag', context: { userId: '42', role: 'admin' } } })
    await call('post', '/api/v1/flags/evaluate', { token: null, key: evaluator.body.key, body: { context: { userId: '42' } } })
    await call('post', '/api/v1/flags/evaluate', { token: null, key: evaluator.body.key, body: { key: 'no-such-flag' } })
    const flagsFile = await call('get', '/api/v1/admin/flags-file')
    await call('put', '/api/v1/admin/flags-file', { body: { file: flagsFile.body, dryRun: true } })
    await call('put', '/api/v1/admin/flags-file', { body: { file: { flags: [], segments: [{ name: 'walk-applied', conditions: [plan] }] } } })
    await call('delete', '/api/v1/admin/flags/walk-flag/rules/0')
    await call('delete', '/api/v1/admin/flag-segments/walk-pro')
    await call('delete', '/api/v1/admin/flags/walk-flag')
    await call('delete', '/api/v1/admin/flag-segments/walk-pro')
    await call('get', '/api/v1/admin/flags/walk-flag')

    await call('delete', '/api/v1/admin/users/new@example.com')
    await call('delete', '/api/v1/admin/roles/auditor')
    // Errors along the way are problems too.
    await call('get', '/api/v1/admin/users/new@example.com')
    await call('post', '/api/v1/admin/roles', { body: { name: 'Bad Name', permissions: [] } })
    await call('delete', '/api/v1/admin/roles/admin')

    const jsonOperations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => Object.values(op.responses).some((r) => r.content?.['application/json']))
        .map(([method]) => `${method} ${path}`),
    )
    expect(checked.size, `checked ${[...checked].join(', ')}`).to.be.at.least(Math.ceil(jsonOperations.length * 0.75))
    const bodyOperations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op.requestBody?.content['application/json'])
        .map(([method]) => `${method} ${path}`),
    )
    expect([...checkedBodies].sort(), 'every JSON request body is checked').to.deep.equal(bodyOperations.sort())
  })

  it("states the rules across a body's fields as the server applies them: a password or generatePassword, a limit or a block, something to change", async () => {
    const judge = bodyJudge()
    const cases: [method: 'post' | 'patch' | 'put', path: string, body: Record<string, unknown>, accepted: boolean][] = [
      ['post', '/api/v1/admin/users', { email: 'rule-1@example.com', password: PASSWORD }, true],
      ['post', '/api/v1/admin/users', { email: 'rule-2@example.com', generatePassword: true }, true],
      ['post', '/api/v1/admin/users', { email: 'rule-3@example.com', password: PASSWORD, generatePassword: false }, true],
      ['post', '/api/v1/admin/users', { email: 'rule-4@example.com' }, false],
      ['post', '/api/v1/admin/users', { email: 'rule-4@example.com', generatePassword: false }, false],
      ['post', '/api/v1/admin/users', { email: 'rule-4@example.com', password: PASSWORD, generatePassword: true }, false],
      ['post', '/api/v1/admin/users/rule-1@example.com/password', { password: PASSWORD }, true],
      ['post', '/api/v1/admin/users/rule-1@example.com/password', { generatePassword: true }, true],
      ['post', '/api/v1/admin/users/rule-1@example.com/password', {}, false],
      ['post', '/api/v1/admin/users/rule-1@example.com/password', { password: PASSWORD, generatePassword: true }, false],
      ['patch', '/api/v1/admin/users/rule-1@example.com', {}, false],
      ['patch', '/api/v1/admin/users/rule-1@example.com', { name: 'Rule One' }, true],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.1', block: true }, true],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.2', block: true, window: '1m' }, true],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.3', limit: 5, window: '1m' }, true],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.4', limit: 5, window: '1m', block: false }, true],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.5' }, false],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.5', block: false }, false],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.5', limit: 5 }, false],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.5', limit: 5, block: true }, false],
      ['put', '/api/v1/admin/rate-limits/overrides', { subject: 'ip:198.51.100.5', limit: 5, window: '1m', block: true }, false],
      ['post', '/api/v1/admin/roles', { name: 'no-permission', permissions: [] }, false],
    ]
    for (const [method, path, body, accepted] of cases) {
      const where = `${method} ${path} ${JSON.stringify(body)}`
      const schema = doc.paths[templateOf(path)]?.[method]?.requestBody?.content['application/json']?.schema
      expect(schema, where).to.not.equal(undefined)
      expect(judge(schema!, body), `${where}: the document ${accepted ? 'accepts' : 'refuses'} it`).to.equal(accepted)
      const res = await request(server)[method](path).set('Authorization', `Bearer ${admin}`).send(body)
      expect(res.status < 300 ? 'accepted' : refusedForShape(res) ? 'refused' : res.status, `${where} -> ${res.text.slice(0, 300)}`).to.equal(
        accepted ? 'accepted' : 'refused',
      )
    }
  })

  it('answers 429 on exactly the operations that list it: under a rule of one request an hour on every path', async () => {
    const limited = await createTestServer('sqlite')
    try {
      await limited.services.rateLimits.set(local, 'everything', { match: '* /*', limit: 1, window: '1h', burst: 1 })
      await limited.rateLimits.refresh()
      // The one request the rule allows, spent on a route behind the limits.
      await request(limited.app).get('/api/v1/auth/me')
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          const res = await request(limited.app)[method as 'get'](pathWith(path, 'nobody@example.com'))
          const where = `${method} ${path} -> ${res.status} ${res.text.slice(0, 200)}`
          expect(res.status === 429, where).to.equal('429' in op.responses)
          if (res.status === 429) {
            expect(res.headers['retry-after'], where).to.match(/^\d+$/)
            expect(listsError(op, res), where).to.equal(true)
          }
        }
      }
    } finally {
      await limited.cleanup()
    }
  })
})

/** The document's template a concrete path belongs to. */
function templateOf(path: string): string {
  const bare = path.split('?')[0]!
  return bare
    .replace(/^(\/api\/v1\/admin\/users)\/(?!export$|import$)[^/]+/, '$1/{email}')
    .replace(/^(\/api\/v1\/admin\/roles)\/[^/]+/, '$1/{name}')
    .replace(/^(\/api\/v1\/admin\/api-keys)\/[^/]+/, '$1/{keyId}')
    .replace(/^(\/api\/v1\/admin\/oauth\/clients)\/[^/]+/, '$1/{clientId}')
    .replace(/^(\/api\/v1\/admin\/rate-limits\/rules)\/[^/]+/, '$1/{name}')
    .replace(/^(\/api\/v1\/admin\/webhooks\/deliveries)\/[^/]+/, '$1/{deliveryId}')
    .replace(/^(\/api\/v1\/admin\/webhooks)\/(?!deliveries\/)[^/]+/, '$1/{id}')
    .replace(/^(\/api\/v1\/admin\/flags)\/[^/]+\/rules\/[^/]+$/, '$1/{key}/rules/{index}')
    .replace(/^(\/api\/v1\/admin\/flags)\/(?!\{key\})[^/]+/, '$1/{key}')
    .replace(/^(\/api\/v1\/admin\/flag-segments)\/[^/]+/, '$1/{name}')
    .replace(/^(\/api\/v1\/auth\/sso)\/(?!device\/token$)([^/]+)\/(start|callback|device)$/, '$1/{provider}/$3')
}

/** A path of a template with every parameter set to `value`. */
function pathWith(template: string, value: string): string {
  return template.replace(/\{[^}]+\}/g, encodeURIComponent(value))
}
