/**
 * The admin API, table-driven, on every dialect. The permission boundary and the 404s are generated from
 * the route table itself, so a new route is covered the day it is added; the scenario tables hold the
 * successes and the input errors, and a last test checks that every route succeeded at least once as admin.
 */
import { expect } from 'chai'
import type { Services } from '../../../src/core/services.js'
import { adminRoutes } from '../../../src/server/routes/admin.routes.js'
import type { RouteSpec } from '../../../src/server/routes/route.js'
import { createTestServer, USERS, type TestServer } from '../../helpers/server.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { auditRetentionScenarios } from './audit.scenarios.js'
import { backupScenarios } from './backups.scenarios.js'
import { apiKeyScenarios, auditScenarios, maintenanceScenarios, roleScenarios, signingKeyScenarios } from './access.scenarios.js'
import { adminFixture, local, run, type AdminFixture, type Scenario, type Vars, type Who } from '../../helpers/admin-fixture.js'
import { fileScenarios } from './files.scenarios.js'
import { featureFlag, flagScenarios } from './flags.scenarios.js'
import { oauthClientScenarios } from './oauth.scenarios.js'
import { rateLimitScenarios } from './ratelimits.scenarios.js'
import { userScenarios } from './users.scenarios.js'
import { webhookDelivery, webhookEndpoint, webhookScenarios } from './webhooks.scenarios.js'

/** The admin routes, built without services: the table is data, the handlers are not called here. */
const ROUTES: readonly RouteSpec[] = adminRoutes({ services: {} as Services })

/** A valid body for each route that takes one, so a 404 is about the target, not the input. */
const SAMPLE_BODIES: Readonly<Record<string, unknown>> = {
  'post /api/v1/admin/users': { email: 'sample@example.com', generatePassword: true },
  'patch /api/v1/admin/users/:email': { name: 'x' },
  'post /api/v1/admin/users/:email/password': { generatePassword: true },
  'post /api/v1/admin/users/:email/tokens': {},
  'post /api/v1/admin/users/:email/unlink': { provider: 'corp' },
  'post /api/v1/admin/roles': { name: 'sample', permissions: ['users:read'] },
  'patch /api/v1/admin/roles/:name': { description: 'x' },
  'post /api/v1/admin/api-keys': { name: 'sample', owner: USERS.viewer },
  'post /api/v1/admin/api-keys/:keyId/rotate': {},
  'post /api/v1/admin/oauth/clients': { name: 'sample', owner: USERS.viewer, scopes: ['users:read'] },
  'post /api/v1/admin/oauth/clients/:clientId/rotate': {},
  'put /api/v1/admin/maintenance': {},
  'put /api/v1/admin/rate-limits/rules/:name': { match: '* /sample', limit: 5, window: '1m' },
  'post /api/v1/admin/rate-limits/apply': { rules: [], dryRun: true },
  'post /api/v1/admin/rate-limits/test': { path: '/sample' },
  'put /api/v1/admin/rate-limits/overrides': { subject: 'ip:192.0.2.1', block: true },
  'post /api/v1/admin/webhooks': { url: 'http://127.0.0.1:9/sample', eventTypes: ['users.*'] },
  'patch /api/v1/admin/webhooks/:id': { description: 'x' },
  'post /api/v1/admin/webhooks/:id/rotate-secret': {},
  'post /api/v1/admin/webhooks/:id/replay': {},
  'post /api/v1/admin/flags': { key: 'sample-flag', type: 'boolean' },
  'patch /api/v1/admin/flags/:key': { enabled: true },
  'post /api/v1/admin/flags/:key/rules': { rule: { serve: { variant: 'on' } } },
  'put /api/v1/admin/flags/:key/rollout': { split: [{ variant: 'on', percent: 100 }] },
  'post /api/v1/admin/flags/:key/explain': { context: {} },
  'put /api/v1/admin/flags-file': { file: {}, dryRun: true },
  'put /api/v1/admin/flag-segments/:name': { conditions: [{ attribute: 'plan', operator: 'equals', values: ['pro'] }] },
  'post /api/v1/flags/evaluate': { context: {} },
  'post /api/v1/admin/audit/prune': { dryRun: true },
}

/** The query a route cannot do without. */
const SAMPLE_QUERIES: Readonly<Record<string, Record<string, string>>> = {
  'get /api/v1/admin/users/export': { format: 'csv' },
  'delete /api/v1/admin/rate-limits/overrides': { subject: 'ip:192.0.2.1' },
}

/** Path parameters that exist (for the boundary) and that do not (for the 404s), with the code of each 404. */
const EXISTING: Readonly<Record<string, string>> = { email: USERS.operator, name: 'operator', index: '0' }
/** Path parameters whose targets have random ids (API keys, OAuth clients, webhook endpoints, deliveries): made per scenario, their vars hold the id under the parameter's name. */
const MADE: Readonly<Record<string, (f: AdminFixture) => Promise<Vars>>> = {
  keyId: async (f) => ({ keyId: (await f.apiKey(['users:read'])).id }),
  clientId: async (f) => ({ clientId: (await f.oauthClient(['users:read'])).id }),
  id: async (f) => ({ id: (await webhookEndpoint(f)).id }),
  deliveryId: async (f) => ({ deliveryId: (await webhookDelivery(f)).deliveryId }),
  // A flag with one rule, so that its rule 0 exists too.
  key: async (f) => featureFlag(f, { rules: [{ conditions: [], serve: { variant: 'on' } }] }),
}
const MISSING: Readonly<Record<string, [string, string]>> = {
  email: ['nobody@example.com', 'USER_NOT_FOUND'],
  name: ['nosuchrole', 'ROLE_NOT_FOUND'],
  keyId: ['NoSuchKey1', 'APIKEY_NOT_FOUND'],
  clientId: ['NoSuchClient1', 'OAUTH_CLIENT_NOT_FOUND'],
  id: ['ep_NoSuchEndpoint00000000', 'WEBHOOK_NOT_FOUND'],
  deliveryId: ['999999', 'DELIVERY_NOT_FOUND'],
  key: ['no-such-flag', 'FLAG_NOT_FOUND'],
  // A rule of a flag that does not exist: the flag's 404.
  index: ['0', 'FLAG_NOT_FOUND'],
}
/** Where a route's 404 differs from its parameter's; null: the route makes what it names (PUT of a rule creates it). */
const MISSING_BY_ROUTE: Readonly<Record<string, [string, string] | null>> = {
  'put /api/v1/admin/rate-limits/rules/:name': null,
  'delete /api/v1/admin/rate-limits/rules/:name': ['nosuchrule', 'RATELIMIT_RULE_NOT_FOUND'],
  'put /api/v1/admin/flag-segments/:name': null,
  'delete /api/v1/admin/flag-segments/:name': ['no-such-segment', 'FLAG_SEGMENT_NOT_FOUND'],
}
/** Reads whose input is a request described in a body (`ratelimit test`, `flags evaluate`): POST, yet a read. */
const READS_BY_POST: ReadonlySet<string> = new Set(['post /api/v1/admin/rate-limits/test', 'post /api/v1/admin/flags/:key/explain'])
/**
 * Routes for services rather than operators (flag evaluation for other languages): outside /api/v1/admin,
 * under a permission of their own that is neither read nor write — a viewer, who reads everything, lacks it.
 */
const SERVICE_ROUTES: ReadonlySet<string> = new Set(['post /api/v1/flags/evaluate'])

const fill = (path: string, value: (param: string) => string): string => path.replace(/:([A-Za-z]+)/g, (_m, p: string) => value(p))
const key = (spec: RouteSpec): string => `${spec.method} ${spec.path}`
const writes = (spec: RouteSpec): boolean => spec.method !== 'get' && !READS_BY_POST.has(key(spec))

/** Who must be refused where, and who may read: generated from each route's declared permission. */
function boundaryScenarios(): Scenario[] {
  return ROUTES.flatMap((spec): Scenario[] => {
    const made = /:([A-Za-z]+)/.exec(spec.path)?.[1]
    const setup = made === undefined ? undefined : MADE[made]
    const path = (vars: Vars): string => fill(spec.path, (p) => (vars[p] ?? EXISTING[p]) as string)
    const base = {
      method: spec.method,
      path,
      ...(setup ? { setup } : {}),
      body: SAMPLE_BODIES[key(spec)],
      query: SAMPLE_QUERIES[key(spec)],
    }
    const bounded = (who: Who, label: string, status: number, code?: string): Scenario => ({
      ...base,
      name: `${label}: ${key(spec)} -> ${status}`,
      who,
      status,
      code,
    })
    return [
      bounded('anonymous', 'no credentials', 401, 'UNAUTHENTICATED'),
      bounded(
        { scopes: ['audit:read'] },
        'a key scoped to audit:read',
        spec.permission === 'audit:read' ? 200 : 403,
        spec.permission === 'audit:read' ? undefined : 'FORBIDDEN',
      ),
      // A viewer reads everything (given the input a read needs) and writes nothing (nor evaluates flags for services).
      writes(spec) ? bounded('viewer', 'a viewer', 403, 'FORBIDDEN') : bounded('viewer', 'a viewer', 200),
    ]
  })
}

/** An unknown user, role, key, OAuth client, webhook endpoint or delivery: 404 with the catalog code, for every route that names one. */
function notFoundScenarios(): Scenario[] {
  return ROUTES.filter((spec) => /:[A-Za-z]+/.test(spec.path) && MISSING_BY_ROUTE[key(spec)] !== null).map((spec) => {
    const param = /:([A-Za-z]+)/.exec(spec.path)?.[1] as string
    const missing = (p: string) => MISSING_BY_ROUTE[key(spec)] ?? (MISSING[p] as [string, string])
    const [, code] = missing(param)
    return {
      name: `unknown target: ${key(spec)}`,
      method: spec.method,
      path: fill(spec.path, (p) => missing(p)[0]),
      who: 'admin',
      body: SAMPLE_BODIES[key(spec)],
      status: 404,
      code,
    }
  })
}

/** The route a path and method reach, matched in table order as Express does. */
function routeOf(method: string, path: string): RouteSpec | undefined {
  return ROUTES.find((spec) => spec.method === method && new RegExp(`^${spec.path.replace(/:[A-Za-z]+/g, '[^/]+')}$`).test(path))
}

describe('admin routes (table)', () => {
  it('every route has a permission, and every route with a body has a sample body', () => {
    for (const spec of ROUTES) {
      const service = SERVICE_ROUTES.has(key(spec))
      expect(spec.path, key(spec)).to.match(service ? /^\/api\/v1\/(?!admin\/|auth\/)[a-z-]+\// : /^\/api\/v1\/admin\//)
      expect(spec.auth, key(spec)).to.equal('required')
      expect(spec.permission, key(spec)).to.match(service ? /^[a-z]+:(?!read$|write$|delete$)[a-z]+$/ : /^[a-z]+:(read|write|delete)$/)
      expect(spec.permission?.endsWith(':read'), `${key(spec)} reads with :read`).to.equal(spec.method === 'get' || READS_BY_POST.has(key(spec)))
      if (spec.body) expect(SAMPLE_BODIES, key(spec)).to.have.property(key(spec))
    }
  })
})

for (const dialect of DIALECTS) {
  describe(`admin API on ${dialect}`, function () {
    let server: TestServer
    let f: AdminFixture
    const succeeded = new Set<string>()
    before(async function () {
      await requireDialect(this, dialect)
      // EdDSA, so that the signing-key routes have keys to show; the first key exists before any token.
      server = await createTestServer(dialect, { environment: { auth: { algorithm: 'EdDSA' } } })
      await server.services.signingKeys.rotate(local)
      f = adminFixture(server)
    })
    after(async () => {
      await server?.cleanup()
    })

    const tables: [string, Scenario[]][] = [
      ['permission boundary', boundaryScenarios()],
      ['unknown targets', notFoundScenarios()],
      ['users and sessions', userScenarios],
      ['user files', fileScenarios],
      ['roles', roleScenarios],
      ['API keys', apiKeyScenarios],
      ['OAuth clients', oauthClientScenarios],
      ['audit', auditScenarios],
      ['audit retention and export', auditRetentionScenarios],
      ['signing keys', signingKeyScenarios],
      ['maintenance', maintenanceScenarios],
      ['rate limits', rateLimitScenarios],
      ['webhooks', webhookScenarios],
      ['feature flags', flagScenarios],
      ['backups', backupScenarios],
    ]
    for (const [title, scenarios] of tables) {
      describe(title, () => {
        for (const s of scenarios) {
          it(`${s.name} (${typeof s.who === 'string' ? s.who : `key ${s.who.scopes.join(',')}`})`, async () => {
            const path = await run(f, s)
            const spec = routeOf(s.method, path)
            if (spec && s.who === 'admin' && s.status < 300) succeeded.add(key(spec))
          })
        }
      })
    }

    // Mocha runs a suite's own tests before its child suites: this check is a child suite of its own, last.
    describe('coverage', () => {
      it('every route succeeded as admin at least once', () => {
        expect(ROUTES.map(key).filter((k) => !succeeded.has(k))).to.deep.equal([])
      })
    })
  })
}
