/**
 * The rate-limit rules service on every dialect: set, list, remove, overrides, export/apply, the audit
 * row and the version bump of every change, the shared counters, permissions, and a database without
 * Gantry's tables. Time is a manual clock (override expiry moves only when a test says).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { createAuditService } from '../../../src/core/audit/audit.service.js'
import { manualClock } from '../../../src/core/clock.js'
import type { ActorContext } from '../../../src/core/context.js'
import { loginRules, ssoRules, tokenRules } from '../../../src/core/ratelimits/builtin-rules.js'
import { MAX_MATCH_WILDCARDS, type FileRule, type RuleView } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createRateLimitsService, type RateLimitsService } from '../../../src/core/ratelimits/ratelimits.service.js'
import { addStats, RULES_TABLE } from '../../../src/core/ratelimits/ratelimits.repo.js'
import { openDatabase } from '../../../src/db/connect.js'
import { createMemoryStore, createProbe, createRateLimiter } from '../../../src/ratelimit/index.js'
import { createTestDatabase, DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'
import { apiKeyDirectory } from '../../../src/core/apikeys/apikeys.directory.js'
import { oauthClientDirectory } from '../../../src/core/oauth/oauth-clients.directory.js'
import { userDirectory } from '../../../src/core/users/users.directory.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

/** The built-in rules checked inside their routes, all of them named (a service made here is given every route): the login's, the OAuth token endpoint's, single sign-on's. */
const LOGIN_RULES = [...loginRules(BUILTIN_RULE_ROUTES.login), ...tokenRules(BUILTIN_RULE_ROUTES.token!), ...ssoRules(BUILTIN_RULE_ROUTES.sso!)]

const viewer: ActorContext = { actor: 'user:7', permissions: ['*:read'], ip: '203.0.113.9' }
const operator: ActorContext = { actor: 'user:8', permissions: ['*:read', 'ratelimits:write'], ip: '203.0.113.10' }
/** The environment default the fixture's config would give (staging-like). */
const DEFAULTS = { limit: 100, window: '1m', burst: 20 }
const NO_COUNTS = { admitted: 0, refused: 0, shadowRefused: 0, storeErrors: 0, since: null }

for (const dialect of DIALECTS) {
  describe(`rate-limit rules service on ${dialect}`, function () {
    let f: IdentityFixture
    let clock: ReturnType<typeof manualClock>
    let store: ReturnType<typeof createMemoryStore>
    let rl: RateLimitsService

    beforeEach(async function () {
      await requireDialect(this, dialect)
      clock = manualClock(Date.UTC(2026, 5, 1))
      store = createMemoryStore({ clock })
      f = await identityFixture(dialect, { clock, rateLimits: { defaults: DEFAULTS, probe: createProbe({ store, shared: false, clock }) } })
      rl = f.services.rateLimits
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    /** The rate-limit audit rows, oldest first. */
    const audited = async () => (await f.services.audit.list(f.ctx, { limit: 500 })).data.filter((e) => e.action.startsWith('ratelimits.')).reverse()
    const names = (views: readonly { name: string }[]) => views.map((v) => v.name)

    describe('set', () => {
      it('creates a rule only with match, limit and window; burst defaults to the limit, the rest to ip/enforce/open/enabled', async () => {
        const incomplete: Array<[Record<string, unknown>, string]> = [
          [{ limit: 5, window: '1m' }, 'match'],
          [{ match: '* /api/*', window: '1m' }, 'limit'],
          [{ match: '* /api/*', limit: 5 }, 'window'],
        ]
        for (const [input, missing] of incomplete) {
          const err = await rejection(rl.set(f.ctx, 'api', input))
          expect(err.code, JSON.stringify(input)).to.equal('INVALID_INPUT')
          expect(err.message).to.include(`needs its match, limit and window (missing: ${missing})`)
          // Door-neutral: the fields and the reason, which each door words as flags or body fields.
          expect(err.details).to.deep.include({ fields: [missing], reason: 'rule-incomplete' })
        }
        expect(await rl.version()).to.equal(0)
        const view = await rl.set(f.ctx, 'api', { match: 'get /api/*', limit: 5, window: '1m' })
        expect(view).to.deep.equal({
          name: 'api',
          match: 'GET /api/*',
          key: 'ip',
          limit: 5,
          window: '1m',
          burst: 5,
          mode: 'enforce',
          onStoreError: 'open',
          enabled: true,
          source: 'database',
          counts: NO_COUNTS,
          updatedAt: new Date(clock.now()).toISOString(),
        } satisfies RuleView)
        expect(await rl.version()).to.equal(1)
      })

      it('a patch changes only the given fields', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', key: 'user', limit: 10, window: '1m', burst: 3, onStoreError: 'closed' })
        clock.advance(5000)
        const patched = await rl.set(f.ctx, 'api', { limit: 20 })
        expect(patched).to.deep.include({
          match: '* /api/*',
          key: 'user',
          limit: 20,
          window: '1m',
          burst: 3,
          mode: 'enforce',
          onStoreError: 'closed',
          enabled: true,
          updatedAt: new Date(clock.now()).toISOString(),
        })
        const shadowed = await rl.set(f.ctx, 'api', { mode: 'shadow', enabled: false, window: '90s' })
        expect(shadowed).to.deep.include({
          match: '* /api/*',
          key: 'user',
          limit: 20,
          window: '90s',
          burst: 3,
          mode: 'shadow',
          onStoreError: 'closed',
          enabled: false,
        })
        // Disabled rules are listed, never enforced.
        expect(names((await rl.snapshot()).rules)).to.deep.equal(['default'])
        expect((await rl.list(f.ctx)).data.find((r) => r.name === 'api')).to.deep.include({ enabled: false, source: 'database' })
      })

      it('`default` starts from the config default and replaces it in the chain', async () => {
        const view = await rl.set(f.ctx, 'default', { limit: 200 })
        expect(view).to.deep.include({ name: 'default', match: '* /*', key: 'ip', limit: 200, window: '1m', burst: 20, source: 'database' })
        const snapshot = await rl.snapshot()
        expect(snapshot.rules.map((r) => [r.name, r.limit])).to.deep.equal([['default', 200]])
        // The stored default keeps the config default's exemptions: health and /metrics are never counted.
        expect(snapshot.rules[0]?.exempt).to.include('/metrics')
        const list = await rl.list(f.ctx)
        expect(list.data.map((r) => [r.name, r.source])).to.deep.equal([
          ['login-ip', 'builtin'],
          ['login-account', 'builtin'],
          ['oauth-token-ip', 'builtin'],
          ['oauth-token-client', 'builtin'],
          ['default', 'database'],
        ])
      })

      it('a stored `default` goes first in the chain even when set after other rules', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        await rl.set(f.ctx, 'default', { burst: 40 })
        expect(names((await rl.snapshot()).rules)).to.deep.equal(['default', 'api'])
      })

      it("refuses the built-in rules' names, a malformed name, and out-of-range figures", async () => {
        for (const name of ['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'sso-ip']) {
          const err = await rejection(rl.set(f.ctx, name, { limit: 1000 }))
          expect(err.code).to.equal('INVALID_INPUT')
          expect(err.message).to.match(/built-in rule of the sign-in routes/)
        }
        for (const [name, input] of [
          ['has space', { match: '* /x', limit: 1, window: '1m' }],
          ['a:b', { match: '* /x', limit: 1, window: '1m' }],
          ['ok', { match: 'nopath', limit: 1, window: '1m' }],
          ['ok', { match: '* /x', limit: 0, window: '1m' }],
          ['ok', { match: '* /x', limit: 1, window: '500ms' }],
          ['ok', { match: '* /x', limit: 1, window: '2d' }],
          ['ok', { match: '* /x', limit: 1, window: '1m', burst: 0 }],
          ['ok', { match: '* /x', limit: 1, window: '1m', key: 'account' }],
        ] as const) {
          expect((await rejection(rl.set(f.ctx, name, input as never))).code, `${name} ${JSON.stringify(input)}`).to.equal('INVALID_INPUT')
        }
        expect(await rl.version()).to.equal(0)
        expect(await audited()).to.deep.equal([])
      })

      it(`refuses a match path with more than ${MAX_MATCH_WILDCARDS} "*", naming the field and the cap, through set and apply alike`, async () => {
        const path = (wildcards: number) => `/${'*a'.repeat(wildcards)}`
        const viaSet = await rejection(rl.set(f.ctx, 'api', { match: `* ${path(MAX_MATCH_WILDCARDS + 1)}`, limit: 1, window: '1m' }))
        expect([viaSet.code, viaSet.message]).to.deep.equal(['INVALID_INPUT', `match: a match path has at most ${MAX_MATCH_WILDCARDS} "*".`])
        const viaApply = await rejection(rl.apply(f.ctx, { rules: [{ name: 'api', match: `GET ${path(MAX_MATCH_WILDCARDS + 1)}`, limit: 1, window: '1m' }] }))
        expect([viaApply.code, viaApply.message]).to.deep.equal(['INVALID_INPUT', `rules.0.match: a match path has at most ${MAX_MATCH_WILDCARDS} "*".`])
        expect(await rl.version()).to.equal(0)
        expect((await rl.set(f.ctx, 'api', { match: `* ${path(MAX_MATCH_WILDCARDS)}`, limit: 1, window: '1m' })).match).to.equal(
          `* ${path(MAX_MATCH_WILDCARDS)}`,
        )
      })

      it('a set that changes nothing bumps no version and writes no audit row', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        const before = await rl.list(f.ctx)
        clock.advance(1000)
        const again = await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '60s', burst: 5, enabled: true })
        expect(again).to.deep.equal(before.data.find((r) => r.name === 'api'))
        expect(await rl.set(f.ctx, 'api', {})).to.deep.equal(again)
        expect(await rl.version()).to.equal(1)
        expect(await audited()).to.have.length(1)
      })
    })

    describe('list', () => {
      it('the login rules (built in), the config default, then the stored rules in order, with counts and overrides', async () => {
        const empty = await rl.list(viewer)
        expect(empty).to.deep.include({ version: 0, overrides: [], nextCursor: null })
        expect(empty.data.map((r) => [r.name, r.source, r.key, r.limit, r.window, r.burst, r.onStoreError])).to.deep.equal([
          ['login-ip', 'builtin', 'ip', 100, '15m', 20, 'local'],
          ['login-account', 'builtin', 'account', 10, '15m', 5, 'local'],
          ['oauth-token-ip', 'builtin', 'ip', 600, '15m', 60, 'local'],
          ['oauth-token-client', 'builtin', 'client', 60, '15m', 20, 'local'],
          ['default', 'config', 'ip', 100, '1m', 20, 'open'],
        ])
        for (const rule of empty.data) expect(rule.counts).to.deep.equal(NO_COUNTS)

        for (const name of ['b-rule', 'a-rule', 'c-rule']) await rl.set(f.ctx, name, { match: `* /${name}`, limit: 5, window: '1m' })
        await rl.addCounts({
          'a-rule': { admitted: 3, refused: 1, shadowRefused: 0, storeErrors: 2 },
          'login-ip': { admitted: 7, refused: 0, shadowRefused: 0, storeErrors: 0 },
        })
        const list = await rl.list(viewer)
        expect(names(list.data)).to.deep.equal(['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'default', 'b-rule', 'a-rule', 'c-rule'])
        expect(list.version).to.equal(3)
        expect(list.data.find((r) => r.name === 'a-rule')?.counts).to.deep.equal({
          admitted: 3,
          refused: 1,
          shadowRefused: 0,
          storeErrors: 2,
          since: new Date(clock.now()).toISOString(),
        })
        expect(list.data.find((r) => r.name === 'login-ip')?.counts).to.include({ admitted: 7 })
        expect(list.data.find((r) => r.name === 'b-rule')?.counts).to.deep.equal(NO_COUNTS)
      })

      it('an unlimited environment lists only the login rules until a rule is set', async () => {
        const unlimited = createRateLimitsService({
          knex: f.db.knex,
          clock,
          audit: f.services.audit,
          directory: userDirectory,
          apiKeys: apiKeyDirectory,
          oauthClients: oauthClientDirectory,
          routes: BUILTIN_RULE_ROUTES,
          defaults: null,
        })
        // Given every route, sso-ip too (createServices leaves it out where no identity provider is configured).
        expect(names((await unlimited.list(f.ctx)).data)).to.deep.equal(['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'sso-ip'])
        expect((await unlimited.snapshot()).rules).to.deep.equal([])
        // Without a config default, `default` is a new rule like any other.
        expect((await rejection(unlimited.set(f.ctx, 'default', { limit: 5 }))).code).to.equal('INVALID_INPUT')
      })
    })

    describe('remove', () => {
      it('removes a stored rule, its overrides and its counts; an unknown one is RATELIMIT_RULE_NOT_FOUND', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', block: true })
        await rl.addCounts({ api: { admitted: 1, refused: 1, shadowRefused: 0, storeErrors: 0 } })
        expect(await rl.remove(f.ctx, 'api')).to.deep.equal({ removed: 'api', version: 3 })
        const list = await rl.list(f.ctx)
        expect(names(list.data)).to.not.include('api')
        expect(list.overrides).to.deep.equal([])
        // Set again: it starts from no counts.
        expect((await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })).counts).to.deep.equal(NO_COUNTS)

        const err = await rejection(rl.remove(f.ctx, 'nothing-here'))
        expect(err.code).to.equal('RATELIMIT_RULE_NOT_FOUND')
        expect((await rejection(rl.remove(f.ctx, 'login-ip'))).code).to.equal('INVALID_INPUT')
        // The config default is not stored: nothing to remove.
        expect((await rejection(rl.remove(f.ctx, 'default'))).code).to.equal('RATELIMIT_RULE_NOT_FOUND')
        expect(await rl.version()).to.equal(4)
      })

      it("removes a rule stored under a built-in rule's name before it was reserved, leaving the built-in rule and its overrides", async () => {
        await rl.set(f.ctx, 'legacy', { match: 'POST /oauth/token', limit: 5, window: '1m' })
        await f.db.knex(RULES_TABLE).where({ name: 'legacy' }).update({ name: 'oauth-token-ip' })
        await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'oauth-token-ip', limit: 1000, window: '15m' })
        expect(
          (await rl.snapshot()).rules.map((r) => r.name),
          'in the chain, beside the built-in rule',
        ).to.include('oauth-token-ip')
        expect((await rl.remove(f.ctx, 'oauth-token-ip')).removed).to.equal('oauth-token-ip')
        const snapshot = await rl.snapshot()
        expect(snapshot.rules.map((r) => r.name)).to.not.include('oauth-token-ip')
        expect(
          snapshot.login.map((r) => r.name),
          'the built-in rule stays',
        ).to.include('oauth-token-ip')
        expect(
          (await rl.list(f.ctx)).overrides.map((o) => [o.rule, o.subject]),
          "the built-in rule's override stays",
        ).to.deep.equal([['oauth-token-ip', 'ip:203.0.113.7']])
        const again = await rejection(rl.remove(f.ctx, 'oauth-token-ip'))
        expect([again.code, again.message]).to.deep.equal([
          'INVALID_INPUT',
          '"oauth-token-ip" is a built-in rule of the sign-in routes; it cannot be changed or removed (an override can change it for one subject).',
        ])
      })

      it('removing a stored `default` brings back the config default', async () => {
        await rl.set(f.ctx, 'default', { limit: 1, burst: 1 })
        expect((await rl.snapshot()).rules[0]).to.include({ name: 'default', limit: 1 })
        await rl.remove(f.ctx, 'default')
        const snapshot = await rl.snapshot()
        expect(snapshot.rules.map((r) => [r.name, r.limit, r.burst])).to.deep.equal([['default', 100, 20]])
        expect((await rl.list(f.ctx)).data.find((r) => r.name === 'default')?.source).to.equal('config')
      })
    })

    describe('overrides', () => {
      it('gives an address its own figures for one rule, as the limiter sees it', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        const view = await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', limit: 50, window: '1m', reason: 'partner' })
        expect(view).to.deep.include({
          rule: 'api',
          subject: 'ip:203.0.113.7',
          limit: 50,
          window: '1m',
          burst: 50,
          blocked: false,
          reason: 'partner',
          expiresAt: null,
        })
        expect((await rl.snapshot()).overrides).to.deep.equal([
          { rule: 'api', subjectType: 'ip', subject: '203.0.113.7', limit: 50, windowMs: 60_000, burst: 50, blocked: false, expiresAt: undefined },
        ])
        expect((await rl.list(f.ctx)).overrides).to.deep.equal([view])

        // Changing it replaces it (one per rule and subject), and the audit row has both sides.
        const changed = await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', limit: 60, window: '1m', burst: 10 })
        expect(changed).to.deep.include({ id: view.id, limit: 60, burst: 10, reason: '' })
        expect((await rl.list(f.ctx)).overrides).to.have.length(1)
        const last = (await audited()).at(-1)
        expect(last).to.deep.include({ action: 'ratelimits.override', targetType: 'ratelimit-override', targetId: 'api ip:203.0.113.7' })
        expect(last?.before).to.deep.include({ limit: 50 })
        expect(last?.after).to.deep.include({ limit: 60 })
        // The built-in login-ip rule counts by address too: it may be overridden for one.
        expect(await rl.override(f.ctx, { subject: 'ip:198.51.100.1', rule: 'login-ip', block: true })).to.deep.include({ rule: 'login-ip', blocked: true })
      })

      it('a user override names the user by email and stores the id the limiter sees; an API key one by key id', async () => {
        const user = await f.services.users.create(f.ctx, { email: 'alice@example.com', role: 'viewer', generatePassword: true })
        const key = await f.services.apikeys.create(f.ctx, { name: 'ci', owner: 'alice@example.com' })
        await rl.set(f.ctx, 'per-user', { match: '* /api/*', key: 'user', limit: 5, window: '1m' })
        await rl.set(f.ctx, 'per-key', { match: '* /api/*', key: 'apiKey', limit: 5, window: '1m' })

        const byUser = await rl.override(f.ctx, { subject: 'user:Alice@Example.com', rule: 'per-user', limit: 100, window: '1m' })
        expect(byUser.subject).to.equal('user:alice@example.com')
        const byKey = await rl.override(f.ctx, { subject: `apikey:${key.apiKey.id}`, rule: 'per-key', block: true })
        expect(byKey.subject).to.equal(`apikey:${key.apiKey.id}`)
        // `*`: every rule keyed on that kind.
        await rl.override(f.ctx, { subject: 'user:alice@example.com', limit: 7, window: '1m' })
        const overrides = (await rl.snapshot()).overrides
        expect(overrides.map((o) => [o.rule, o.subjectType, o.subject, o.blocked])).to.deep.equal([
          ['per-user', 'user', String(user.user.id), false],
          ['per-key', 'apiKey', key.apiKey.id, true],
          ['*', 'user', String(user.user.id), false],
        ])

        expect((await rejection(rl.override(f.ctx, { subject: 'user:nobody@example.com', rule: 'per-user', limit: 1, window: '1m' }))).code).to.equal(
          'USER_NOT_FOUND',
        )
        expect((await rejection(rl.override(f.ctx, { subject: 'apikey:NoSuchKey1', rule: 'per-key', block: true }))).code).to.equal('APIKEY_NOT_FOUND')
      })

      it("the rule must exist and count by the subject's kind; the input must be a limit with a window, or a block", async () => {
        await rl.set(f.ctx, 'per-user', { match: '* /api/*', key: 'user', limit: 5, window: '1m' })
        const version = await rl.version()
        expect((await rejection(rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'no-such-rule', block: true }))).code).to.equal(
          'RATELIMIT_RULE_NOT_FOUND',
        )
        const wrongKind = await rejection(rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'per-user', block: true }))
        expect(wrongKind.code).to.equal('INVALID_INPUT')
        expect(wrongKind.message).to.match(/counts by user/)
        // The login-account rule counts by account, which no override subject is.
        expect((await rejection(rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'login-account', block: true }))).code).to.equal('INVALID_INPUT')
        for (const input of [
          { subject: 'ip:203.0.113.7' }, // neither
          { subject: 'ip:203.0.113.7', block: true, limit: 5, window: '1m' }, // both
          { subject: 'ip:203.0.113.7', limit: 5 }, // no window
          { subject: 'ip:not-an-ip', block: true },
          { subject: 'host:example.com', block: true },
          { subject: 'ip:203.0.113.7', block: true, expires: 'soon' },
        ]) {
          expect((await rejection(rl.override(f.ctx, input))).code, JSON.stringify(input)).to.equal('INVALID_INPUT')
        }
        expect(await rl.version()).to.equal(version)
      })

      it('a block with an expiry refuses until then (the limiter checks expiry itself), then leaves the lists', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        const view = await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', block: true, expires: '10m', reason: 'abuse' })
        expect(view).to.deep.include({
          blocked: true,
          limit: null,
          window: null,
          burst: null,
          reason: 'abuse',
          expiresAt: new Date(clock.now() + 600_000).toISOString(),
        })
        const snapshot = await rl.snapshot()
        const limiter = createRateLimiter({ rules: snapshot.rules, overrides: snapshot.overrides, store, clock })
        const from = (ip: string) => limiter.check({ method: 'GET', path: '/api/x', ip })
        const blocked = await from('203.0.113.7')
        expect(blocked).to.deep.include({ allowed: false, rule: 'api', retryAfterSeconds: 600 })
        expect(blocked.headers['Retry-After']).to.equal('600')
        expect((await from('203.0.113.8')).allowed).to.equal(true)

        clock.advance(599_000)
        expect((await from('203.0.113.7')).retryAfterSeconds).to.equal(1)
        clock.advance(1000)
        expect((await from('203.0.113.7')).allowed).to.equal(true) // a limiter built before the expiry sees it too
        expect((await rl.snapshot()).overrides).to.deep.equal([])
        expect((await rl.list(f.ctx)).overrides).to.deep.equal([])
      })

      it('an IPv6 override is stored in the spelling the server sees, whatever spelling it was given in', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        expect((await rl.override(f.ctx, { subject: 'ip:2001:DB8:0:0:0:0:0:1', rule: 'api', block: true })).subject).to.equal('ip:2001:db8::1')
        const snapshot = await rl.snapshot()
        const limiter = createRateLimiter({ rules: snapshot.rules, overrides: snapshot.overrides, store, clock })
        expect((await limiter.check({ method: 'GET', path: '/api/x', ip: '2001:db8::1' })).allowed).to.equal(false)
        expect((await limiter.check({ method: 'GET', path: '/api/x', ip: '2001:db8::2' })).allowed).to.equal(true)
        expect((await rl.removeOverride(f.ctx, { subject: 'ip:2001:db8:0::1', rule: 'api' })).removed.subject).to.equal('ip:2001:db8::1')
      })

      it('removeOverride removes one (rule `*` unless named) and says which; a missing one is RATELIMIT_OVERRIDE_NOT_FOUND', async () => {
        await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' })
        const forApi = await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', block: true })
        const forAll = await rl.override(f.ctx, { subject: 'ip:203.0.113.7', limit: 1, window: '1m' })
        const removed = await rl.removeOverride(f.ctx, { subject: 'ip:203.0.113.7' })
        expect(removed).to.deep.equal({ removed: forAll, version: 4 })
        expect((await rl.list(f.ctx)).overrides).to.deep.equal([forApi])
        const err = await rejection(rl.removeOverride(f.ctx, { subject: 'ip:203.0.113.7' }))
        expect(err.code).to.equal('RATELIMIT_OVERRIDE_NOT_FOUND')
        expect((await rl.removeOverride(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api' })).removed).to.deep.equal(forApi)
        expect((await rl.snapshot()).overrides).to.deep.equal([])
        expect(await rl.version()).to.equal(5)
        const last = (await audited()).at(-1)
        expect(last).to.deep.include({ action: 'ratelimits.override.remove', targetId: 'api ip:203.0.113.7', after: null })
        expect(last?.before).to.deep.equal(forApi)
      })
    })

    describe('export and apply', () => {
      const FILE: FileRule[] = [
        { name: 'a', match: '* /api/a/*', limit: 10, window: '1m' },
        { name: 'b', match: 'POST /api/b', key: 'user', limit: 5, window: '90s', burst: 2, mode: 'shadow', onStoreError: 'closed' },
        { name: 'c', match: '* /api/c', key: 'global', limit: 1000, window: '1h', onStoreError: 'local', enabled: false },
      ]

      it('export writes what apply reads back: applying an export changes nothing and bumps nothing', async () => {
        await rl.apply(f.ctx, { rules: FILE })
        await rl.set(f.ctx, 'default', { limit: 50 })
        const exported = await rl.export(viewer)
        expect(exported.rules.map((r) => r.name)).to.deep.equal(['default', 'a', 'b', 'c'])
        expect(exported.rules[2]).to.deep.equal({
          name: 'b',
          match: 'POST /api/b',
          key: 'user',
          limit: 5,
          window: '90s',
          burst: 2,
          mode: 'shadow',
          onStoreError: 'closed',
          enabled: true,
        })
        expect(exported.rules[3]).to.deep.include({ burst: 1000, enabled: false })
        const version = await rl.version()
        const auditRows = (await audited()).length
        const result = await rl.apply(f.ctx, { rules: exported.rules, prune: true })
        expect(result).to.deep.equal({ added: [], changed: [], removed: [], kept: [], unchanged: ['default', 'a', 'b', 'c'], applied: false, version })
        expect(await rl.version()).to.equal(version)
        expect(await audited()).to.have.length(auditRows)
        expect(await rl.export(f.ctx)).to.deep.equal(exported)
      })

      it('says what it adds, changes (by field), removes with prune, keeps without, and leaves unchanged', async () => {
        const first = await rl.apply(f.ctx, { rules: FILE })
        expect(first).to.deep.equal({ added: ['a', 'b', 'c'], changed: [], removed: [], kept: [], unchanged: [], applied: true, version: 1 })
        const next: FileRule[] = [
          { name: 'a', match: '* /api/a/*', limit: 10, window: '1m' },
          { name: 'b', match: 'GET /api/b', key: 'user', limit: 6, window: '90s', burst: 2, mode: 'enforce', onStoreError: 'closed' },
          { name: 'd', match: '* /api/d', limit: 3, window: '1s' },
        ]
        const kept = await rl.apply(operator, { rules: next })
        expect(kept).to.deep.equal({
          added: ['d'],
          changed: [
            {
              name: 'b',
              fields: ['match', 'limit', 'mode'],
              changes: [
                { field: 'match', from: 'POST /api/b', to: 'GET /api/b' },
                { field: 'limit', from: 5, to: 6 },
                { field: 'mode', from: 'shadow', to: 'enforce' },
              ],
            },
          ],
          removed: [],
          kept: ['c'],
          unchanged: ['a'],
          applied: true,
          version: 2,
        })
        // The file's order, then the rules it leaves out.
        expect((await rl.export(f.ctx)).rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'd', 'c'])
        expect((await rl.export(f.ctx)).rules[1]).to.deep.include({ match: 'GET /api/b', limit: 6, mode: 'enforce' })

        const pruned = await rl.apply(f.ctx, { rules: next, prune: true })
        expect(pruned).to.deep.equal({ added: [], changed: [], removed: ['c'], kept: [], unchanged: ['a', 'b', 'd'], applied: true, version: 3 })
        expect((await rl.export(f.ctx)).rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'd'])

        const rows = (await audited()).filter((e) => e.action === 'ratelimits.apply')
        expect(rows.map((e) => e.actor)).to.deep.equal(['local:test@host', 'user:8', 'local:test@host'])
        expect((rows[1]?.before as { rules: { name: string }[] }).rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'c'])
        expect(rows[1]?.after).to.deep.include({ added: ['d'], kept: ['c'] })
        expect((rows[1]?.after as { rules: { name: string }[] }).rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'd', 'c'])
      })

      it('is atomic: a bad rule, a reserved or duplicated name anywhere in the file changes nothing', async () => {
        await rl.apply(f.ctx, { rules: FILE })
        const before = await rl.export(f.ctx)
        const bad: unknown[][] = [
          [
            { name: 'new', match: '* /new', limit: 1, window: '1m' },
            { name: 'a', match: '* /api/a/*', limit: 0, window: '1m' },
          ],
          [
            { name: 'new', match: '* /new', limit: 1, window: '1m' },
            { name: 'x', match: 'no path', limit: 1, window: '1m' },
          ],
          [
            { name: 'new', match: '* /new', limit: 1, window: '1m' },
            { name: 'login-ip', match: '* /x', limit: 1, window: '1m' },
          ],
          [
            { name: 'new', match: '* /new', limit: 1, window: '1m' },
            { name: 'new', match: '* /new2', limit: 1, window: '1m' },
          ],
          [{ name: 'new', match: '* /new', limit: 1, window: '1m', extra: true, key: 'account' }],
        ]
        for (const rules of bad) {
          const err = await rejection(rl.apply(f.ctx, { rules: rules as FileRule[], prune: true }))
          expect(err.code, JSON.stringify(rules).slice(-80)).to.equal('INVALID_INPUT')
        }
        expect(await rl.export(f.ctx)).to.deep.equal(before)
        expect(await rl.version()).to.equal(1)
      })

      it('a dry run shows the diff, changes nothing and bumps no version', async () => {
        await rl.apply(f.ctx, { rules: FILE })
        const before = await rl.export(f.ctx)
        const auditRows = (await audited()).length
        const dry = await rl.apply(f.ctx, {
          rules: [{ ...FILE[0], limit: 11 } as FileRule, { name: 'z', match: '* /z', limit: 1, window: '1m' }],
          prune: true,
          dryRun: true,
        })
        expect(dry).to.deep.equal({
          added: ['z'],
          changed: [
            {
              name: 'a',
              fields: ['limit', 'burst'],
              changes: [
                { field: 'limit', from: 10, to: 11 },
                { field: 'burst', from: 10, to: 11 },
              ],
            },
          ],
          removed: ['b', 'c'],
          kept: [],
          unchanged: [],
          applied: false,
          version: 1,
        })
        expect(await rl.export(f.ctx)).to.deep.equal(before)
        expect(await rl.version()).to.equal(1)
        expect(await audited()).to.have.length(auditRows)
      })
    })

    it('every change is audited with before/after and bumps the version exactly once', async () => {
      const steps: [string, () => Promise<unknown>, string, boolean, boolean][] = [
        // what, change, action, has before, has after
        ['create', () => rl.set(f.ctx, 'api', { match: '* /api/*', limit: 5, window: '1m' }), 'ratelimits.set', false, true],
        ['patch', () => rl.set(operator, 'api', { limit: 6 }), 'ratelimits.set', true, true],
        ['set default', () => rl.set(f.ctx, 'default', { limit: 7 }), 'ratelimits.set', false, true],
        ['override', () => rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api', block: true }), 'ratelimits.override', false, true],
        ['remove override', () => rl.removeOverride(f.ctx, { subject: 'ip:203.0.113.7', rule: 'api' }), 'ratelimits.override.remove', true, false],
        ['apply', () => rl.apply(f.ctx, { rules: [{ name: 'other', match: '* /o', limit: 1, window: '1m' }] }), 'ratelimits.apply', true, true],
        ['remove', () => rl.remove(f.ctx, 'api'), 'ratelimits.remove', true, false],
      ]
      for (const [i, [what, step, action, hasBefore, hasAfter]] of steps.entries()) {
        clock.advance(1000)
        await step()
        expect(await rl.version(), what).to.equal(i + 1)
        const rows = await audited()
        expect(rows, what).to.have.length(i + 1)
        const row = rows[i]
        expect(row?.action, what).to.equal(action)
        expect(row?.at, what).to.equal(new Date(clock.now()).toISOString())
        expect(row?.before === null, `${what}: before`).to.equal(!hasBefore)
        expect(row?.after === null, `${what}: after`).to.equal(!hasAfter)
      }
      const rows = await audited()
      expect(rows[1]).to.deep.include({ actor: 'user:8', ip: '203.0.113.10', targetType: 'ratelimit', targetId: 'api' })
      expect(rows[1]?.before).to.deep.include({ limit: 5 })
      expect(rows[1]?.after).to.deep.equal({
        name: 'api',
        match: '* /api/*',
        key: 'ip',
        limit: 6,
        window: '1m',
        burst: 5,
        mode: 'enforce',
        onStoreError: 'open',
        enabled: true,
      })
      expect(rows[6]?.before).to.deep.include({ name: 'api', limit: 6 })
    })

    it("concurrent changes from two instances each get their own version, and none loses another's fields", async () => {
      const other = createRateLimitsService({
        knex: f.db.knex,
        clock,
        audit: f.services.audit,
        directory: userDirectory,
        apiKeys: apiKeyDirectory,
        oauthClients: oauthClientDirectory,
        routes: BUILTIN_RULE_ROUTES,
        defaults: DEFAULTS,
      })
      await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? rl : other).set(f.ctx, `r${i}`, { match: `* /r${i}`, limit: 5, window: '1m' })))
      expect(await rl.version()).to.equal(8)
      expect(await audited()).to.have.length(8)
      expect(
        names((await rl.snapshot()).rules)
          .filter((n) => n !== 'default')
          .sort(),
      ).to.deep.equal(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'])
      // Patches of one rule at once: each starts from the one before, so every field given survives.
      await Promise.all([
        rl.set(f.ctx, 'r0', { limit: 7 }),
        other.set(f.ctx, 'r0', { burst: 3 }),
        rl.set(f.ctx, 'r0', { mode: 'shadow' }),
        other.set(f.ctx, 'r0', { onStoreError: 'closed' }),
      ])
      expect((await rl.export(f.ctx)).rules.find((r) => r.name === 'r0')).to.deep.include({ limit: 7, burst: 3, mode: 'shadow', onStoreError: 'closed' })
      expect(await rl.version()).to.equal(12)
      const rows = await audited()
      expect(rows).to.have.length(12)
      // Each audit row's `before` is the `after` of the change before it.
      const ofR0 = rows.filter((e) => e.targetId === 'r0')
      for (let i = 1; i < ofR0.length; i++) expect(ofR0[i]?.before).to.deep.equal(ofR0[i - 1]?.after)
    })

    it('addCounts: what every instance adds sums up exactly, also when the calls run at once', async () => {
      const other = createRateLimitsService({
        knex: f.db.knex,
        clock,
        audit: f.services.audit,
        directory: userDirectory,
        apiKeys: apiKeyDirectory,
        oauthClients: oauthClientDirectory,
        routes: BUILTIN_RULE_ROUTES,
        defaults: DEFAULTS,
      })
      const delta = { admitted: 1, refused: 2, shadowRefused: 3, storeErrors: 4 }
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? rl : other).addCounts({ default: delta, 'login-ip': { ...delta, admitted: 10 } })))
      await rl.addCounts({})
      const list = await rl.list(f.ctx)
      expect(list.data.find((r) => r.name === 'default')?.counts).to.deep.equal({
        admitted: 20,
        refused: 40,
        shadowRefused: 60,
        storeErrors: 80,
        since: new Date(clock.now()).toISOString(),
      })
      expect(list.data.find((r) => r.name === 'login-ip')?.counts).to.include({ admitted: 200, refused: 40 })
      expect(await rl.version()).to.equal(0) // counting is no change
    })

    it('removing a stored default keeps the overrides of "default": the config default is in force again under that name; expired overrides are swept', async () => {
      await rl.set(f.ctx, 'default', { limit: 200 })
      await rl.override(f.ctx, { subject: 'ip:203.0.113.7', rule: 'default', block: true })
      await rl.override(f.ctx, { subject: 'ip:198.51.100.1', block: true, expires: '1m' })
      await rl.remove(f.ctx, 'default')
      expect((await rl.list(f.ctx)).overrides.map((o) => [o.rule, o.subject])).to.deep.equal([
        ['default', 'ip:203.0.113.7'],
        ['*', 'ip:198.51.100.1'],
      ])
      clock.advance(60_000)
      await rl.set(f.ctx, 'other', { match: '/x', limit: 1, window: '1m' }) // any change sweeps
      expect(await f.db.knex('gantry_rate_limit_overrides').select('subject')).to.deep.equal([{ subject: '203.0.113.7' }])
    })

    it('addCounts drops the counts of rules that no longer exist (a flush after a remove must not bring the row back)', async () => {
      await rl.set(f.ctx, 'gone', { match: '* /api/*', limit: 5, window: '1m' })
      await rl.remove(f.ctx, 'gone')
      await rl.addCounts({ gone: { admitted: 1, refused: 0, shadowRefused: 0, storeErrors: 0 } })
      expect(await f.db.knex('gantry_rate_limit_stats').select('rule')).to.deep.equal([])
    })

    if (dialect !== 'sqlite') {
      // (SQLite does not enforce the column's length, which is how this makes one upsert of a flush fail.)
      it('addCounts adds a flush whole or not at all: a failed one is retried whole without counting twice', async () => {
        const delta = { admitted: 5, refused: 0, shadowRefused: 0, storeErrors: 0 }
        // The repository's own failure (the driver's error): the flusher logs it and retries the flush.
        const err = await addStats(f.db.knex, { 'a-first': delta, [`z-${'x'.repeat(100)}`]: delta }, clock.now()).then(
          () => expect.fail('expected a rejection'),
          (e: unknown) => e,
        )
        expect(err).to.be.instanceOf(Error)
        expect((await rl.list(f.ctx)).data.find((r) => r.name === 'default')?.counts).to.deep.equal(NO_COUNTS)
        expect(await f.db.knex('gantry_rate_limit_stats').select('rule')).to.deep.equal([])
      })
    }

    it("test: says which rule decides, from the store's state, spending nothing", async () => {
      const alice = 'alice@example.com'
      await f.services.users.create(f.ctx, { email: alice, role: 'viewer', generatePassword: true })
      await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 2, window: '1m' })
      const snapshot = await rl.snapshot()
      const chain = createRateLimiter({ rules: snapshot.rules, store, clock })
      for (let i = 0; i < 2; i++) expect((await chain.check({ method: 'GET', path: '/api/x', ip: '203.0.113.7' })).allowed).to.equal(true)

      const refused = await rl.test(viewer, { method: 'get', path: '/api/x', ip: '203.0.113.7' })
      expect(refused).to.deep.include({ allowed: false, decidedBy: 'api', shared: false })
      expect(refused.steps.find((s) => s.rule === 'api')).to.deep.include({ matched: true, wouldAdmit: false, remaining: 0, source: 'database' })
      expect(refused.steps.find((s) => s.rule === 'default')).to.deep.include({ matched: true, wouldAdmit: true, source: 'config' })
      const again = await rl.test(viewer, { method: 'GET', path: '/api/x', ip: '203.0.113.7' })
      expect(again).to.deep.equal(refused) // nothing spent

      const other = await rl.test(viewer, { path: '/api/x', ip: '203.0.113.8' })
      expect(other).to.deep.include({ allowed: true, decidedBy: 'api' })
      expect(other.steps.find((s) => s.rule === 'login-ip')).to.deep.include({ matched: false, source: 'builtin' })

      // The login rules: login-account counts by the login's email, as the login route does.
      const login = createRateLimiter({ rules: snapshot.login, store, clock })
      for (let i = 0; i < 5; i++) await login.check({ method: 'POST', path: '/api/v1/auth/login', ip: `198.51.100.${i}`, account: alice })
      const account = await rl.test(viewer, { method: 'POST', path: '/api/v1/auth/login', ip: '198.51.100.99', user: 'Alice@Example.com' })
      expect(account.steps.find((s) => s.rule === 'login-account')).to.deep.include({ matched: true, wouldAdmit: false })
      expect(account).to.deep.include({ allowed: false, decidedBy: 'login-account' })
      expect((await rejection(rl.test(viewer, { path: '/api/x', user: 'nobody@example.com' }))).code).to.equal('USER_NOT_FOUND')
    })

    it('permissions: a viewer reads (list, export, test), writes nothing (FORBIDDEN); nobody reads without ratelimits:read', async () => {
      await rl.set(f.ctx, 'api', { match: '* /api/*', limit: 2, window: '1m' })
      expect(names((await rl.list(viewer)).data)).to.include('api')
      expect((await rl.export(viewer)).rules).to.have.length(1)
      expect((await rl.test(viewer, { path: '/api/x' })).allowed).to.equal(true)
      for (const attempt of [
        rl.set(viewer, 'api', { limit: 3 }),
        rl.set(viewer, 'new', { match: '* /n', limit: 3, window: '1m' }),
        rl.remove(viewer, 'api'),
        rl.override(viewer, { subject: 'ip:203.0.113.7', block: true }),
        rl.removeOverride(viewer, { subject: 'ip:203.0.113.7' }),
        rl.apply(viewer, { rules: [], prune: true }),
        rl.apply(viewer, { rules: [], prune: true, dryRun: true }),
      ]) {
        const err = await rejection(attempt)
        expect(err.code).to.equal('FORBIDDEN')
        expect(err.details).to.deep.equal({ required: 'ratelimits:write' })
      }
      const nobody: ActorContext = { actor: 'anonymous', permissions: [] }
      for (const attempt of [rl.list(nobody), rl.export(nobody), rl.test(nobody, { path: '/' })]) {
        const err = await rejection(attempt)
        expect(err.code).to.equal('FORBIDDEN')
        expect(err.details).to.deep.equal({ required: 'ratelimits:read' })
      }
      expect(await rl.version()).to.equal(1)
      expect((await rl.set(operator, 'api', { limit: 3 })).limit).to.equal(3)
    })
  })

  describe(`rate-limit rules service on ${dialect} without Gantry's tables`, function () {
    it('snapshot: the config default and the login rules, version 0; list shows them', async function () {
      await requireDialect(this, dialect)
      const testDb = await createTestDatabase(dialect)
      const root = mkdtempSync(join(tmpdir(), 'gantry-rl-'))
      const db = await openDatabase(testDb.url, root)
      try {
        const clock = manualClock()
        const rl = createRateLimitsService({
          knex: db.knex,
          clock,
          audit: createAuditService({ knex: db.knex, clock }),
          directory: userDirectory,
          apiKeys: apiKeyDirectory,
          oauthClients: oauthClientDirectory,
          routes: BUILTIN_RULE_ROUTES,
          defaults: DEFAULTS,
        })
        const snapshot = await rl.snapshot()
        expect(snapshot.version).to.equal(0)
        expect(snapshot.rules.map((r) => [r.name, r.key, r.limit, r.windowMs, r.burst])).to.deep.equal([['default', 'ip', 100, 60_000, 20]])
        expect(snapshot.login).to.deep.equal(LOGIN_RULES)
        expect(snapshot.overrides).to.deep.equal([])
        expect(await rl.version()).to.equal(0)
        const local: ActorContext = { actor: 'local:test@host', permissions: ['*'] }
        const list = await rl.list(local)
        expect(list.data.map((r) => [r.name, r.source])).to.deep.equal([
          ['login-ip', 'builtin'],
          ['login-account', 'builtin'],
          ['oauth-token-ip', 'builtin'],
          ['oauth-token-client', 'builtin'],
          ['sso-ip', 'builtin'],
          ['default', 'config'],
        ])
        expect(list.version).to.equal(0)
        expect(await rl.export(local)).to.deep.equal({ rules: [] })
        const unlimited = createRateLimitsService({
          knex: db.knex,
          clock,
          audit: createAuditService({ knex: db.knex, clock }),
          directory: userDirectory,
          apiKeys: apiKeyDirectory,
          oauthClients: oauthClientDirectory,
          routes: BUILTIN_RULE_ROUTES,
          defaults: null,
        })
        expect((await unlimited.snapshot()).rules).to.deep.equal([])
        expect(await db.knex.schema.hasTable('gantry_rate_limit_rules')).to.equal(false)
      } finally {
        await db.close()
        await testDb.drop()
        rmSync(root, { recursive: true, force: true })
      }
    })
  })
}
