/**
 * Scenarios of /api/v1/admin/rate-limits. Rules made here match only paths no scenario calls (`/sample…`),
 * and overrides name documentation addresses (192.0.2.0/24), so that the test server's live rules (reloaded
 * every second) never throttle another scenario.
 */
import { expect } from 'chai'
import { local, type AdminFixture, type Scenario } from '../../helpers/admin-fixture.js'

let n = 0
/** A stored rule made for one scenario. */
async function rule(f: AdminFixture, input: Record<string, unknown> = {}): Promise<{ name: string }> {
  const name = `sample-${++n}`
  await f.server.services.rateLimits.set(local, name, { match: `* /sample/${name}`, limit: 10, window: '1m', ...input })
  return { name }
}

export const rateLimitScenarios: Scenario[] = [
  {
    name: 'lists the login rules, then the chain, with counts, and the version',
    method: 'get',
    path: '/rate-limits',
    who: 'admin',
    setup: (f) => rule(f),
    status: 200,
    check: (res, _f, v) => {
      const rules = res.body.data as { name: string; source: string; counts: unknown }[]
      expect(rules.slice(0, 2).map((r) => [r.name, r.source])).to.deep.equal([
        ['login-ip', 'builtin'],
        ['login-account', 'builtin'],
      ])
      expect(rules.find((r) => r.name === v.name)).to.deep.include({
        source: 'database',
        counts: { admitted: 0, refused: 0, shadowRefused: 0, storeErrors: 0, since: null },
      })
      expect(res.body.version).to.be.a('number').and.at.least(1)
      expect(res.body.nextCursor).to.equal(null)
    },
  },
  {
    name: 'an operator creates a rule (burst defaults to the limit); the change is audited with who and from where',
    method: 'put',
    path: '/rate-limits/rules/sample-created',
    who: 'operator',
    body: { match: 'post /sample/created', key: 'user', limit: 30, window: '1m', mode: 'shadow' },
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({
        name: 'sample-created',
        match: 'POST /sample/created',
        key: 'user',
        limit: 30,
        window: '1m',
        burst: 30,
        mode: 'shadow',
        onStoreError: 'open',
        enabled: true,
        source: 'database',
      })
      const entry = (await f.server.services.audit.list(local, { action: 'ratelimits.set' })).data.find((e) => e.targetId === 'sample-created')
      expect(entry?.actor).to.match(/^user:\d+$/)
      expect(entry?.ip).to.be.a('string')
      expect(entry?.before).to.equal(null)
      expect(entry?.after).to.deep.include({ limit: 30 })
    },
  },
  {
    name: 'changes only the given fields of a rule',
    method: 'put',
    path: (v) => `/rate-limits/rules/${v.name}`,
    who: 'admin',
    setup: (f) => rule(f, { burst: 4 }),
    body: { limit: 7, onStoreError: 'closed' },
    status: 200,
    check: (res) => expect(res.body).to.deep.include({ limit: 7, burst: 4, window: '1m', onStoreError: 'closed' }),
  },
  {
    name: 'refuses a new rule without a window, naming the missing body field',
    method: 'put',
    path: '/rate-limits/rules/sample-incomplete',
    who: 'admin',
    body: { match: '* /sample/x', limit: 5 },
    status: 400,
    code: 'INVALID_INPUT',
    check: (res) => {
      expect(res.body.input).to.deep.equal({ fields: ['window'], reason: 'rule-incomplete', rule: 'sample-incomplete' })
      expect(res.body.hint).to.match(/^Send "window" in the body/)
    },
  },
  {
    name: 'refuses out-of-range figures and unknown fields',
    method: 'put',
    path: '/rate-limits/rules/sample-bad',
    who: 'admin',
    body: { match: '* /sample/x', limit: 0, window: '1m', burst: 0, per: 'ip' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['limit', 'burst', 'per'],
  },
  {
    name: 'refuses to change a built-in login rule',
    method: 'put',
    path: '/rate-limits/rules/login-ip',
    who: 'admin',
    body: { limit: 100000 },
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'refuses a malformed rule name in the path',
    method: 'put',
    path: '/rate-limits/rules/not%20a%20name',
    who: 'admin',
    body: { limit: 5 },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['name'],
  },
  {
    name: 'removes a stored rule',
    method: 'delete',
    path: (v) => `/rate-limits/rules/${v.name}`,
    who: 'admin',
    setup: (f) => rule(f),
    status: 200,
    check: (res, _f, v) => expect(res.body).to.include({ removed: v.name }).and.have.property('version').a('number'),
  },
  {
    name: 'an operator removes a rule too',
    method: 'delete',
    path: (v) => `/rate-limits/rules/${v.name}`,
    who: 'operator',
    setup: (f) => rule(f),
    status: 200,
  },
  {
    name: 'exports the stored rules as apply reads them',
    method: 'get',
    path: '/rate-limits/export',
    who: 'admin',
    setup: (f) => rule(f, { mode: 'shadow' }),
    status: 200,
    check: (res, _f, v) =>
      expect(res.body.rules.find((r: { name: string }) => r.name === v.name)).to.deep.equal({
        name: v.name,
        match: `* /sample/${v.name}`,
        key: 'ip',
        limit: 10,
        window: '1m',
        burst: 10,
        mode: 'shadow',
        onStoreError: 'open',
        enabled: true,
      }),
  },
  {
    name: 'a dry run of apply shows the diff and changes nothing',
    method: 'post',
    path: '/rate-limits/apply',
    who: 'admin',
    setup: (f) => rule(f),
    body: { rules: [{ name: 'sample-dry', match: '* /sample/dry', limit: 1, window: '1m' }], dryRun: true },
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.deep.include({ added: ['sample-dry'], removed: [], applied: false })
      expect(res.body.kept).to.include(v.name)
      expect((await f.server.services.rateLimits.export(local)).rules.map((r) => r.name)).to.not.include('sample-dry')
    },
  },
  {
    name: 'an operator applies a file: the export round trip is then a no-op',
    method: 'post',
    path: '/rate-limits/apply',
    who: 'operator',
    setup: async (f) => {
      await f.server.services.rateLimits.apply(local, { rules: [{ name: 'sample-applied', match: '* /sample/applied', limit: 3, window: '1m' }] })
      return {}
    },
    body: { rules: [{ name: 'sample-applied', match: '* /sample/applied', limit: 3, window: '1m' }] },
    status: 200,
    check: (res) => expect(res.body).to.deep.include({ added: [], changed: [], applied: false }).and.have.property('unchanged').that.includes('sample-applied'),
  },
  {
    name: 'apply refuses a file with a bad rule, and names the field',
    method: 'post',
    path: '/rate-limits/apply',
    who: 'admin',
    body: {
      rules: [
        { name: 'sample-ok', match: '* /sample/ok', limit: 1, window: '1m' },
        { name: 'sample-no', match: '* /sample/no', limit: 1, window: 'forever' },
      ],
    },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['window'],
  },
  {
    name: 'test says what the login rules would do with a login, spending nothing',
    method: 'post',
    path: '/rate-limits/test',
    who: 'admin',
    body: { method: 'POST', path: '/api/v1/auth/login', ip: '192.0.2.9' },
    status: 200,
    check: (res) => {
      expect(res.body).to.deep.include({ allowed: true, shared: false })
      expect(res.body.steps.find((s: { rule: string }) => s.rule === 'login-ip')).to.deep.include({
        matched: true,
        wouldAdmit: true,
        remaining: 20,
        source: 'builtin',
      })
      expect(res.body.steps.find((s: { rule: string }) => s.rule === 'login-account')).to.deep.include({ matched: false, reason: 'the request has no account' })
    },
  },
  {
    name: 'a viewer may test (a read)',
    method: 'post',
    path: '/rate-limits/test',
    who: 'viewer',
    body: { path: '/sample/x' },
    status: 200,
    check: (res) => expect(res.body.allowed).to.equal(true),
  },
  {
    name: 'test refuses a path that is not one',
    method: 'post',
    path: '/rate-limits/test',
    who: 'admin',
    body: { path: 'sample' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['path'],
  },
  {
    name: 'overrides the login-ip rule for one address',
    method: 'put',
    path: '/rate-limits/overrides',
    who: 'admin',
    body: { subject: 'ip:192.0.2.10', rule: 'login-ip', limit: 1000, window: '15m', reason: 'office NAT' },
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({
        rule: 'login-ip',
        subject: 'ip:192.0.2.10',
        limit: 1000,
        window: '15m',
        burst: 1000,
        blocked: false,
        reason: 'office NAT',
        expiresAt: null,
      })
      expect((await f.server.services.rateLimits.list(local)).overrides.map((o) => o.subject)).to.include('ip:192.0.2.10')
    },
  },
  {
    name: 'an operator blocks an address for a while',
    method: 'put',
    path: '/rate-limits/overrides',
    who: 'operator',
    body: { subject: 'ip:192.0.2.11', block: true, expires: '1h' },
    status: 200,
    check: (res) => expect(res.body).to.deep.include({ rule: '*', blocked: true, limit: null }).and.have.property('expiresAt').a('string'),
  },
  {
    name: 'refuses an override of a rule that does not exist',
    method: 'put',
    path: '/rate-limits/overrides',
    who: 'admin',
    body: { subject: 'ip:192.0.2.12', rule: 'no-such-rule', block: true },
    status: 404,
    code: 'RATELIMIT_RULE_NOT_FOUND',
  },
  {
    name: 'refuses an override for a user who does not exist',
    method: 'put',
    path: '/rate-limits/overrides',
    who: 'admin',
    body: { subject: 'user:nobody@example.com', block: true },
    status: 404,
    code: 'USER_NOT_FOUND',
  },
  {
    name: 'refuses an override with both a limit and a block',
    method: 'put',
    path: '/rate-limits/overrides',
    who: 'admin',
    body: { subject: 'ip:192.0.2.12', block: true, limit: 5, window: '1m' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['limit'],
  },
  {
    name: 'refuses to remove an override that does not exist',
    method: 'delete',
    path: '/rate-limits/overrides',
    who: 'admin',
    query: { subject: 'ip:192.0.2.1', rule: 'login-ip' },
    status: 404,
    code: 'RATELIMIT_OVERRIDE_NOT_FOUND',
  },
  {
    name: 'removes the override of one address',
    method: 'delete',
    path: '/rate-limits/overrides',
    who: 'admin',
    setup: async (f) => {
      await f.server.services.rateLimits.override(local, { subject: 'ip:192.0.2.50', block: true })
      return {}
    },
    query: { subject: 'ip:192.0.2.50' },
    status: 200,
    check: async (res, f) => {
      expect(res.body.removed).to.deep.include({ rule: '*', subject: 'ip:192.0.2.50', blocked: true })
      expect((await f.server.services.rateLimits.list(local)).overrides.map((o) => o.subject)).to.not.include('ip:192.0.2.50')
    },
  },
  {
    name: 'refuses to remove an override without a subject',
    method: 'delete',
    path: '/rate-limits/overrides',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['subject'],
  },
]
