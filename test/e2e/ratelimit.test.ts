import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import {
  overrideViewSchema,
  ruleViewSchema,
  testResultSchema,
  type ApplyResult,
  type OverrideView,
  type RateLimitList,
  type RuleView,
  type RulesFile,
  type TestResult,
  type TestStep,
} from '../../src/core/ratelimits/ratelimits.schema.js'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { createTestDatabase, requireDialect, requireRedis, SERVICE_URLS, type TestDatabase } from '../helpers/services.js'

type Gantry = (args: readonly string[]) => Promise<CliResult>
interface ErrorBody {
  code: string
  message: string
  hint?: string
  details?: unknown
}
interface AuditEntry {
  action: string
  actor: string
  targetId: string | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

/**
 * A workspace on one database: development (unlimited) and production (protected) share it, `shared` adds
 * the machine's Redis; staging comes from the built-in defaults (500/1m burst 100, database ${DATABASE_URL}:
 * a file of its own).
 */
function workspace(database?: string): { root: string; gantry: Gantry } {
  const root = tempDir()
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  const url = database ?? `sqlite:${join(root, 'gantry.sqlite3')}`
  const environments = { development: { database: url }, production: { database: url }, shared: { database: url, redis: SERVICE_URLS.redis } }
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments }))
  const env = { DATABASE_URL: `sqlite:${join(root, 'staging.sqlite3')}` }
  return { root, gantry: (args) => runGantry(args, { cwd: root, env }) }
}

const ok = (r: CliResult): CliResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
  return r
}
const json = <T>(r: CliResult): T => parseJson<T>(ok(r))

/** A --json failure: the exit code, exactly one `Error (CODE): message` line on stderr, `{ error: { code, message, hint? } }` on stdout. */
function failed(r: CliResult, exit: number, code: string, message: RegExp): ErrorBody {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(exit)
  const { error } = parseJson<{ error: ErrorBody }>(r)
  expect(error.code).to.equal(code)
  expect(error.message).to.match(message).and.not.include('\n')
  expect(
    Object.keys(error).every((k) => ['code', 'message', 'hint', 'details'].includes(k)),
    Object.keys(error).join(),
  ).to.equal(true)
  if (error.hint !== undefined) expect(error.hint).to.be.a('string')
  expect(r.stderr).to.equal(`Error (${code}): ${error.message}\n`)
  return error
}

/**
 * The same failure in words: `Error (CODE): …` on one line; after it, for a flag or argument the parser
 * refused, the command's `Usage: …` line; at most a `Try: …` line last.
 */
function failedInWords(r: CliResult, exit: number, code: string): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(exit)
  const [first, ...rest] = r.stderr.replace(/\n$/, '').split('\n')
  expect(first).to.match(new RegExp(`^Error \\(${code}\\): \\S`))
  if (rest[0]?.startsWith('Usage: ')) expect(rest.shift()).to.match(/^Usage: gantry ratelimit \S+ /)
  expect(rest.length, r.stderr).to.be.at.most(1)
  for (const line of rest) expect(line).to.match(/^Try: \S/)
}

/** Runs at most `size` CLI calls at once (each is a node process; the machine may have few cores). */
async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<CliResult>, size = 4): Promise<CliResult[]> {
  const results: CliResult[] = []
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(run))))
  return results
}

/** A `set --json` result, checked to have exactly the documented fields. */
function ruleOf(r: CliResult): RuleView {
  const body = json<RuleView>(r)
  expect(Object.keys(body)).to.have.members(Object.keys(ruleViewSchema.shape))
  return ruleViewSchema.parse(body)
}
function overrideOf(r: CliResult): OverrideView {
  const body = json<OverrideView>(r)
  expect(Object.keys(body)).to.have.members(Object.keys(overrideViewSchema.shape))
  return overrideViewSchema.parse(body)
}
const listOf = async (gantry: Gantry, ...args: string[]): Promise<RateLimitList> => json<RateLimitList>(await gantry(['ratelimit', 'list', '--json', ...args]))
const exportOf = async (gantry: Gantry, ...args: string[]): Promise<RulesFile> => json<RulesFile>(await gantry(['ratelimit', 'export', '--json', ...args]))
/** The rate-limit entries of the audit log, oldest first. */
const auditOf = async (gantry: Gantry, ...args: string[]): Promise<AuditEntry[]> =>
  json<{ data: AuditEntry[] }>(await gantry(['audit', 'list', '--limit', '500', '--json', ...args]))
    .data.filter((e) => e.action.startsWith('ratelimits.'))
    .reverse()
/** Every entry is by the one local actor (`local:<os user>@<host>`). */
function byLocalActor(entries: readonly AuditEntry[]): void {
  expect(entries.length).to.be.above(0)
  expect(entries[0]?.actor).to.match(/^local:[^@\s]+@\S+$/)
  expect(new Set(entries.map((e) => e.actor)).size).to.equal(1)
}
/** A table's rows (after the header) as cells, split on runs of two or more spaces. */
const rowsOf = (block: string): string[][] =>
  block
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.trim().split(/\s{2,}/))

const NO_COUNTS = { admitted: 0, refused: 0, shadowRefused: 0, storeErrors: 0, since: null }
const LOGIN = [
  ['login-ip', 'POST /api/v1/auth/login', 'ip', '100/15m burst 20', 'enforce', 'local', 'builtin', '0', '0', '0', '0'],
  ['login-account', 'POST /api/v1/auth/login', 'account', '10/15m burst 5', 'enforce', 'local', 'builtin', '0', '0', '0', '0'],
  ['oauth-token-ip', 'POST /oauth/*', 'ip', '600/15m burst 60', 'enforce', 'local', 'builtin', '0', '0', '0', '0'],
  ['oauth-token-client', 'POST /oauth/*', 'client', '60/15m burst 20', 'enforce', 'local', 'builtin', '0', '0', '0', '0'],
]

describe('gantry ratelimit (built CLI)', function () {
  // A hang bound: the longest test runs the CLI about 25 times in a row (24 s on a quiet CI run).
  this.timeout(180_000)

  describe('on SQLite', () => {
    it('set creates a rule and patches one field at a time (--shadow/--enforce, --disable, --on-store-error); list shows the chain in order', async () => {
      const { gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      // Development is unlimited: the login rules and nothing else.
      const empty = await listOf(gantry)
      expect(empty).to.deep.include({ overrides: [], version: 0, nextCursor: null })
      expect(empty.data.map((r) => [r.name, r.source])).to.deep.equal([
        ['login-ip', 'builtin'],
        ['login-account', 'builtin'],
        ['oauth-token-ip', 'builtin'],
        ['oauth-token-client', 'builtin'],
      ])

      const created = ok(await gantry(['ratelimit', 'set', 'api', '--match', '* /api/*', '--limit', '100', '--window', '1m', '--burst', '20']))
      expect(created.stdout).to.equal('Rule api: 100/1m burst 20 per ip on * /api/*. Every server applies it within a second.\n')
      const patched = ruleOf(await gantry(['ratelimit', 'set', 'api', '--limit', '50', '--json']))
      expect(patched).to.deep.include({
        name: 'api',
        match: '* /api/*',
        key: 'ip',
        limit: 50,
        window: '1m',
        burst: 20,
        mode: 'enforce',
        onStoreError: 'open',
        enabled: true,
        source: 'database',
        counts: NO_COUNTS,
      })
      expect(Date.parse(patched.updatedAt ?? '')).to.be.closeTo(Date.now(), 60_000)

      expect(ruleOf(await gantry(['ratelimit', 'set', 'api', '--shadow', '--json']))).to.deep.include({ mode: 'shadow', limit: 50, burst: 20, enabled: true })
      expect(ok(await gantry(['ratelimit', 'set', 'api', '--enforce'])).stdout).to.equal(
        'Rule api: 50/1m burst 20 per ip on * /api/*. Every server applies it within a second.\n',
      )
      expect(ok(await gantry(['ratelimit', 'set', 'api', '--disable'])).stdout).to.equal(
        'Rule api: 50/1m burst 20 per ip on * /api/* (disabled). Every server applies it within a second.\n',
      )
      const closed = ruleOf(await gantry(['ratelimit', 'set', 'api', '--enable', '--on-store-error', 'closed', '--json']))
      expect(closed).to.deep.include({ mode: 'enforce', enabled: true, onStoreError: 'closed', limit: 50, burst: 20, match: '* /api/*' })
      // The same figures again change nothing: same rule, no version bump, no audit entry.
      expect(ruleOf(await gantry(['ratelimit', 'set', 'api', '--on-store-error', 'closed', '--json']))).to.deep.equal(closed)

      // `default` in development starts from nothing: it needs what any new rule needs.
      failedInWords(await gantry(['ratelimit', 'set', 'default', '--limit', '200']), 2, 'INVALID_INPUT')
      const def = ruleOf(await gantry(['ratelimit', 'set', 'default', '--match', '* /*', '--limit', '200', '--window', '1m', '--json']))
      expect(def).to.deep.include({ name: 'default', match: '* /*', key: 'ip', limit: 200, window: '1m', burst: 200, source: 'database' })
      ok(await gantry(['ratelimit', 'set', 'search', '--match', 'get /api/search', '--key', 'global', '--limit', '10', '--window', '1s']))

      // Four patches of four fields at once: each works from the state the one before committed.
      await inBatches([['--limit', '60'], ['--burst', '30'], ['--shadow'], ['--on-store-error', 'local']], (flags) =>
        gantry(['ratelimit', 'set', 'search', ...flags]).then(ok),
      )

      const list = await listOf(gantry)
      expect(list.data.map((r) => r.name)).to.deep.equal(['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'default', 'api', 'search'])
      expect(list.data.map((r) => r.source)).to.deep.equal(['builtin', 'builtin', 'builtin', 'builtin', 'database', 'database', 'database'])
      expect(list.data[6]).to.deep.include({
        match: 'GET /api/search',
        key: 'global',
        limit: 60,
        window: '1s',
        burst: 30,
        mode: 'shadow',
        onStoreError: 'local',
      })
      expect(list).to.deep.include({ overrides: [], version: 12, nextCursor: null })
      const table = ok(await gantry(['ratelimit', 'list'])).stdout
      expect(table.split('\n')[0]).to.match(/^NAME\s+MATCH\s+KEY\s+RATE\s+MODE\s+STORE DOWN\s+SOURCE\s+ADMITTED\s+REFUSED\s+SHADOW\s+ERRORS$/)
      expect(rowsOf(table)).to.deep.equal([
        ...LOGIN,
        ['default', '* /*', 'ip', '200/1m burst 200', 'enforce', 'open', 'database', '0', '0', '0', '0'],
        ['api', '* /api/*', 'ip', '50/1m burst 20', 'enforce', 'closed', 'database', '0', '0', '0', '0'],
        ['search', 'GET /api/search', 'global', '60/1s burst 30', 'shadow', 'local', 'database', '0', '0', '0', '0'],
      ])

      const log = await auditOf(gantry)
      expect(log.map((e) => e.action)).to.deep.equal(Array(12).fill('ratelimits.set'))
      byLocalActor(log)
      expect(log[1]).to.deep.include({ targetId: 'api' })
      expect(log[1]?.before).to.deep.include({ limit: 100, burst: 20 })
      expect(log[1]?.after).to.deep.equal({
        name: 'api',
        match: '* /api/*',
        key: 'ip',
        limit: 50,
        window: '1m',
        burst: 20,
        mode: 'enforce',
        onStoreError: 'open',
        enabled: true,
      })
      expect(log[0]?.before).to.equal(null)
    })

    it('set refuses bad input: exit 2, one line on stderr, { error } on stdout under --json, nothing stored', async () => {
      const { gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      ok(await gantry(['ratelimit', 'set', 'api', '--match', '* /api/*', '--limit', '100', '--window', '1m']))
      const rule = ['--match', '* /x', '--limit', '5', '--window', '1m']
      const cases: Array<[string[], RegExp]> = [
        [['x', '--match', '* /x', '--limit', '0', '--window', '1m'], /--limit.*greater than or equal to 1/],
        [['x', '--match', 'GET', '--limit', '5', '--window', '1m'], /a match is "METHOD \/path"/],
        [['x', '--match', 'GET /a /b', '--limit', '5', '--window', '1m'], /a match is "METHOD \/path"/],
        [['x', '--match', '* /x', '--limit', '5', '--window', '5ms'], /window is from 1s to 24h/],
        [['x', '--match', '* /x', '--limit', '5', '--window', '2d'], /window is from 1s to 24h/],
        [['x', ...rule, '--key', 'account'], /--key=account to be one of: ip, user, apiKey, global/],
        [['login-ip', '--limit', '5'], /"login-ip" is a built-in rule of the sign-in routes/],
        [['login-account', ...rule], /"login-account" is a built-in rule of the sign-in routes/],
        [['x', '--match', '* /x', '--limit', '5'], /There is no rule "x" yet: a new rule needs its match, limit and window \(missing: window\)/],
        [['bad:name', ...rule], /a rule name is letters, digits/],
        [['api', '--shadow', '--enforce'], /cannot also be provided/],
      ]
      const runs = await inBatches(cases, ([args]) => gantry(['ratelimit', 'set', ...args, '--json']))
      runs.forEach((r, i) => failed(r, 2, 'INVALID_INPUT', cases[i]?.[1] ?? /./))
      // The service names the missing field; the CLI words the next step with its flags.
      const incomplete = runs[cases.findIndex(([, message]) => message.source.includes('no rule'))]
      expect(JSON.parse(incomplete?.stdout ?? '{}').error.hint).to.equal('e.g. gantry ratelimit set api --match "* /api/*" --limit 100 --window 1m')
      // In words: a flag the parser refuses, a window the service refuses.
      const words = await inBatches([cases[0], cases[4]], (c) => gantry(['ratelimit', 'set', ...(c?.[0] ?? [])]))
      for (const r of words) {
        failedInWords(r, 2, 'INVALID_INPUT')
        expect(r.stdout).to.equal('')
      }
      expect((await listOf(gantry)).data.map((r) => r.name)).to.deep.equal(['login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'api'])
      expect((await auditOf(gantry)).map((e) => e.action)).to.deep.equal(['ratelimits.set'])
    })

    it('set default in staging starts from the config default (500/1m burst 100): --limit 200 keeps burst 100; remove brings the config default back', async () => {
      const { gantry } = workspace()
      ok(await gantry(['migrate', 'latest', '-e', 'staging']))
      const before = await listOf(gantry, '-e', 'staging')
      expect(before).to.deep.include({ overrides: [], version: 0, nextCursor: null })
      expect(before.data.map((r) => [r.name, r.source])).to.deep.equal([
        ['login-ip', 'builtin'],
        ['login-account', 'builtin'],
        ['oauth-token-ip', 'builtin'],
        ['oauth-token-client', 'builtin'],
        ['default', 'config'],
      ])
      expect(before.data[4]).to.deep.include({
        match: '* /*',
        key: 'ip',
        limit: 500,
        window: '1m',
        burst: 100,
        mode: 'enforce',
        onStoreError: 'open',
        enabled: true,
        updatedAt: null,
      })
      expect(rowsOf(ok(await gantry(['ratelimit', 'list', '-e', 'staging'])).stdout)).to.deep.equal([
        ...LOGIN,
        ['default', '* /*', 'ip', '500/1m burst 100', 'enforce', 'open', 'config', '0', '0', '0', '0'],
      ])
      expect(await exportOf(gantry, '-e', 'staging')).to.deep.equal({ rules: [] })

      const set = ruleOf(await gantry(['ratelimit', 'set', 'default', '--limit', '200', '-e', 'staging', '--json']))
      expect(set).to.deep.include({
        name: 'default',
        match: '* /*',
        key: 'ip',
        limit: 200,
        window: '1m',
        burst: 100,
        mode: 'enforce',
        enabled: true,
        source: 'database',
      })
      const after = await listOf(gantry, '-e', 'staging')
      expect(after.data.map((r) => [r.name, r.source, r.limit, r.burst])).to.deep.equal([
        ['login-ip', 'builtin', 100, 20],
        ['login-account', 'builtin', 10, 5],
        ['oauth-token-ip', 'builtin', 600, 60],
        ['oauth-token-client', 'builtin', 60, 20],
        ['default', 'database', 200, 100],
      ])
      expect(after.version).to.equal(1)

      expect(json(await gantry(['ratelimit', 'remove', 'default', '-e', 'staging', '--json']))).to.deep.equal({ removed: 'default', version: 2 })
      expect((await listOf(gantry, '-e', 'staging')).data[4]).to.deep.include({ name: 'default', source: 'config', limit: 500, burst: 100 })
      const log = await auditOf(gantry, '-e', 'staging')
      expect(log.map((e) => e.action)).to.deep.equal(['ratelimits.set', 'ratelimits.remove'])
      byLocalActor(log)
      expect(log[0]?.after).to.deep.include({ limit: 200, burst: 100, window: '1m' })
      expect(log[0]?.before).to.equal(null)
    })

    it('override ip / user / apikey: a plan, a block with --expires, --remove; bad input exits 2, an unknown subject 1', async () => {
      const { gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      const user = json<{ user: { email: string }; password: string }>(
        await gantry(['users', 'create', '--email', 'ada@example.com', '--generate-password', '--json']),
      )
      expect(user.password).to.be.a('string')
      const key = json<{ apiKey: { id: string } }>(await gantry(['apikeys', 'create', '--name', 'ci', '--owner', 'ada@example.com', '--json'])).apiKey.id
      await inBatches(
        [
          ['edge', '--match', '* /api/*', '--limit', '100', '--window', '1m'],
          ['per-user', '--match', '* /api/v1/admin/*', '--key', 'user', '--limit', '600', '--window', '1h'],
          ['per-key', '--match', '* /api/*', '--key', 'apiKey', '--limit', '1000', '--window', '1m'],
        ],
        (args) => gantry(['ratelimit', 'set', ...args]).then(ok),
        1,
      )

      const blocked = overrideOf(
        await gantry(['ratelimit', 'override', 'ip:203.0.113.7', '--block', '--expires', '24h', '--reason', 'credential stuffing', '--json']),
      )
      expect(blocked).to.deep.include({
        rule: '*',
        subject: 'ip:203.0.113.7',
        limit: null,
        window: null,
        burst: null,
        blocked: true,
        reason: 'credential stuffing',
      })
      expect(Date.parse(blocked.expiresAt ?? '') - Date.parse(blocked.updatedAt)).to.equal(86_400_000)
      const plan = overrideOf(
        await gantry(['ratelimit', 'override', 'user:Ada@Example.com', '--rule', 'per-user', '--limit', '60', '--window', '1m', '--json']),
      )
      expect(plan).to.deep.include({
        rule: 'per-user',
        subject: 'user:ada@example.com',
        limit: 60,
        window: '1m',
        burst: 60,
        blocked: false,
        reason: '',
        expiresAt: null,
      })
      const words = ok(
        await gantry(['ratelimit', 'override', `apikey:${key}`, '--limit', '5000', '--window', '1m', '--burst', '100', '--reason', 'enterprise plan']),
      )
      expect(words.stdout).to.equal(`apikey:${key}: 5000 per 1m, burst 100 under every rule of its kind.\n`)

      const cases: Array<[string[], number, string, RegExp]> = [
        [['ip:203.0.113.8', '--limit', '5'], 2, 'INVALID_INPUT', /an override with a limit needs a window/],
        [['ip:203.0.113.8', '--rule', 'per-user', '--block'], 2, 'INVALID_INPUT', /Rule "per-user" counts by user/],
        [['user:ada@example.com', '--rule', 'edge', '--limit', '5', '--window', '1m'], 2, 'INVALID_INPUT', /Rule "edge" counts by ip/],
        [['ip:203.0.113.8', '--block', '--limit', '5'], 2, 'INVALID_INPUT', /cannot also be provided/],
        [['ip:not-an-address', '--block'], 2, 'INVALID_INPUT', /not an IPv4 or IPv6 address/],
        [['host:example.com', '--block'], 2, 'INVALID_INPUT', /a subject is ip:ADDRESS, user:EMAIL, apikey:KEYID or client:CLIENTID/],
        [['user:nobody@example.com', '--block'], 1, 'USER_NOT_FOUND', /No user with email nobody@example.com/],
        [['apikey:nosuchkey123', '--block'], 1, 'APIKEY_NOT_FOUND', /nosuchkey123/],
        [['ip:203.0.113.8', '--rule', 'nosuch', '--block'], 1, 'RATELIMIT_RULE_NOT_FOUND', /nosuch/],
      ]
      const runs = await inBatches(cases, ([args]) => gantry(['ratelimit', 'override', ...args, '--json']))
      runs.forEach((r, i) => {
        const [, exit, code, message] = cases[i] ?? [[], 0, '', /./]
        failed(r, exit, code, message)
      })
      failedInWords(await gantry(['ratelimit', 'override', 'ip:203.0.113.8', '--limit', '5']), 2, 'INVALID_INPUT')

      const list = await listOf(gantry)
      expect(list.overrides.map((o) => [o.subject, o.rule, o.blocked, o.limit])).to.deep.equal([
        ['ip:203.0.113.7', '*', true, null],
        ['user:ada@example.com', 'per-user', false, 60],
        [`apikey:${key}`, '*', false, 5000],
      ])
      const [, overridesTable = ''] = ok(await gantry(['ratelimit', 'list'])).stdout.split('\n\n')
      expect(overridesTable.split('\n')[0]).to.match(/^SUBJECT\s+RULE\s+LIMIT\s+EXPIRES\s+REASON$/)
      expect(rowsOf(overridesTable)).to.deep.equal([
        ['ip:203.0.113.7', '*', 'blocked', blocked.expiresAt, 'credential stuffing'],
        ['user:ada@example.com', 'per-user', '60/1m burst 60', 'never'],
        [`apikey:${key}`, '*', '5000/1m burst 100', 'never', 'enterprise plan'],
      ])

      const removed = json<{ removed: OverrideView; version: number }>(await gantry(['ratelimit', 'override', 'ip:203.0.113.7', '--remove', '--json']))
      expect(removed.removed).to.deep.equal(blocked)
      expect(removed.version).to.equal(list.version + 1)
      failed(
        await gantry(['ratelimit', 'override', 'ip:203.0.113.7', '--remove', '--json']),
        1,
        'RATELIMIT_OVERRIDE_NOT_FOUND',
        /No override of every rule for ip:203\.0\.113\.7/,
      )
      expect(ok(await gantry(['ratelimit', 'override', 'user:ada@example.com', '--rule', 'per-user', '--remove'])).stdout).to.equal(
        'Removed the override of user:ada@example.com (rule per-user).\n',
      )
      expect((await listOf(gantry)).overrides.map((o) => o.subject)).to.deep.equal([`apikey:${key}`])

      const log = await auditOf(gantry)
      expect(log.map((e) => e.action)).to.deep.equal([
        ...Array(3).fill('ratelimits.set'),
        ...Array(3).fill('ratelimits.override'),
        ...Array(2).fill('ratelimits.override.remove'),
      ])
      byLocalActor(log)
      expect(log.map((e) => e.targetId).slice(3)).to.deep.equal([
        '* ip:203.0.113.7',
        'per-user user:ada@example.com',
        `* apikey:${key}`,
        '* ip:203.0.113.7',
        'per-user user:ada@example.com',
      ])
      expect(log[3]?.after).to.deep.equal(blocked)
      expect(log[6]?.before).to.deep.equal(blocked)
    })

    it('export to stdout and to FILE; apply: no changes, --dry-run diff, --yes, --prune; protected production needs --force', async () => {
      const { root, gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      await inBatches(
        [
          ['a', '--match', '* /api/*', '--limit', '100', '--window', '1m', '--burst', '20'],
          ['b', '--match', 'GET /api/search', '--key', 'global', '--limit', '10', '--window', '1s', '--shadow'],
          ['c', '--match', '* /api/v1/admin/*', '--key', 'user', '--limit', '600', '--window', '1h', '--on-store-error', 'closed', '--disable'],
        ],
        (args) => gantry(['ratelimit', 'set', ...args]).then(ok),
        1,
      )
      const text = ok(await gantry(['ratelimit', 'export'])).stdout
      const exported = JSON.parse(text) as RulesFile
      const [a, b, c] = exported.rules
      expect(exported).to.deep.equal({
        rules: [
          { name: 'a', match: '* /api/*', key: 'ip', limit: 100, window: '1m', burst: 20, mode: 'enforce', onStoreError: 'open', enabled: true },
          { name: 'b', match: 'GET /api/search', key: 'global', limit: 10, window: '1s', burst: 10, mode: 'shadow', onStoreError: 'open', enabled: true },
          { name: 'c', match: '* /api/v1/admin/*', key: 'user', limit: 600, window: '1h', burst: 600, mode: 'enforce', onStoreError: 'closed', enabled: false },
        ],
      })
      expect(await exportOf(gantry)).to.deep.equal(exported)
      const file = join(root, 'rules.json')
      expect(ok(await gantry(['ratelimit', 'export', 'rules.json'])).stdout).to.equal(`Wrote 3 rule(s) to ${file}.\n`)
      expect(readFileSync(file, 'utf8')).to.equal(text)
      writeFileSync(file, '{}')
      failed(await gantry(['ratelimit', 'export', 'rules.json', '--json']), 1, 'FILE_EXISTS', /exists already/)
      expect(readFileSync(file, 'utf8')).to.equal('{}')
      ok(await gantry(['ratelimit', 'export', 'rules.json', '--force']))
      expect(readFileSync(file, 'utf8')).to.equal(text)

      // The file back as it is: nothing to do.
      expect(ok(await gantry(['ratelimit', 'apply', 'rules.json'])).stdout).to.equal("No changes: the stored rules are the file's.\n")
      expect(json<ApplyResult>(await gantry(['ratelimit', 'apply', 'rules.json', '--json']))).to.deep.equal({
        added: [],
        changed: [],
        removed: [],
        kept: [],
        unchanged: ['a', 'b', 'c'],
        applied: false,
        version: 3,
      })

      // Edited: b changes its match and limit, c is left out, d is new.
      writeFileSync(
        file,
        JSON.stringify({ rules: [a, { ...b, match: 'POST /api/search', limit: 20 }, { name: 'd', match: 'GET /api/export', limit: 5, window: '1h' }] }),
      )
      const listed = await listOf(gantry)
      // Each changed field with its stored value and the file's.
      const diff = [
        '+ d',
        '~ b',
        '    match: GET /api/search → POST /api/search',
        '    limit: 10 → 20',
        '  c (kept: not in the file; --prune removes it)',
        '1 to add, 1 to change, 0 to remove, 1 unchanged.',
      ]
      expect(ok(await gantry(['ratelimit', 'apply', 'rules.json', '--dry-run'])).stdout).to.equal(`${diff.join('\n')}\n`)
      const dry = {
        added: ['d'],
        changed: [
          {
            name: 'b',
            fields: ['match', 'limit'],
            changes: [
              { field: 'match', from: 'GET /api/search', to: 'POST /api/search' },
              { field: 'limit', from: 10, to: 20 },
            ],
          },
        ],
        removed: [],
        kept: ['c'],
        unchanged: ['a'],
        applied: false,
        version: 3,
      }
      expect(json(await gantry(['ratelimit', 'apply', 'rules.json', '--dry-run', '--json']))).to.deep.equal(dry)
      expect(await listOf(gantry)).to.deep.equal(listed)

      expect(ok(await gantry(['ratelimit', 'apply', 'rules.json', '--yes'])).stdout).to.equal(
        `${diff.join('\n')}\nApplied (version 4); every server has it within a second.\n`,
      )
      const applied = await exportOf(gantry)
      expect(applied.rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'd', 'c'])
      expect(applied.rules[1]).to.deep.equal({ ...b, match: 'POST /api/search', limit: 20 })
      expect(applied.rules[2]).to.deep.equal({
        name: 'd',
        match: 'GET /api/export',
        key: 'ip',
        limit: 5,
        window: '1h',
        burst: 5,
        mode: 'enforce',
        onStoreError: 'open',
        enabled: true,
      })
      expect(applied.rules[3]).to.deep.equal(c)

      // Production (protected, the same database): --prune that removes something needs --force without a TTY.
      failed(
        await gantry(['ratelimit', 'apply', 'rules.json', '--prune', '-e', 'production', '--json']),
        2,
        'FORCE_REQUIRED',
        /Removing 1 rate-limit rule\(s\) in protected environment "production" \(sqlite:[^)]*\) needs --force/,
      )
      const refused = await gantry(['ratelimit', 'apply', 'rules.json', '--prune', '--yes', '-e', 'production'])
      failedInWords(refused, 2, 'FORCE_REQUIRED')
      expect(refused.stdout).to.equal('- c\n0 to add, 0 to change, 1 to remove, 3 unchanged.\n')
      expect(await exportOf(gantry)).to.deep.equal(applied)
      expect((await listOf(gantry)).version).to.equal(4)
      // Development is not protected: --prune removes what the file leaves out.
      expect(json(await gantry(['ratelimit', 'apply', 'rules.json', '--prune', '--yes', '--json']))).to.deep.equal({
        added: [],
        changed: [],
        removed: ['c'],
        kept: [],
        unchanged: ['a', 'b', 'd'],
        applied: true,
        version: 5,
      })
      expect((await exportOf(gantry)).rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'd'])

      // remove: production needs --force; development does not; a missing rule exits 1.
      failed(
        await gantry(['ratelimit', 'remove', 'd', '-e', 'production', '--json']),
        2,
        'FORCE_REQUIRED',
        /Removing rate-limit rule "d" in protected environment "production" \(sqlite:[^)]*\) needs --force/,
      )
      expect((await exportOf(gantry)).rules.map((r) => r.name)).to.deep.equal(['a', 'b', 'd'])
      expect(json(await gantry(['ratelimit', 'remove', 'd', '-e', 'production', '--force', '--json']))).to.deep.equal({ removed: 'd', version: 6 })
      expect(ok(await gantry(['ratelimit', 'remove', 'a'])).stdout).to.equal('Removed rule a. Every server stops applying it within a second.\n')
      failed(await gantry(['ratelimit', 'remove', 'a', '--json']), 1, 'RATELIMIT_RULE_NOT_FOUND', /No stored rule named "a"/)
      failed(await gantry(['ratelimit', 'remove', 'login-ip', '--json']), 2, 'INVALID_INPUT', /built-in rule of the sign-in routes/)
      expect((await exportOf(gantry)).rules.map((r) => r.name)).to.deep.equal(['b'])

      const log = await auditOf(gantry)
      expect(log.map((e) => e.action)).to.deep.equal([
        ...Array(3).fill('ratelimits.set'),
        'ratelimits.apply',
        'ratelimits.apply',
        'ratelimits.remove',
        'ratelimits.remove',
      ])
      byLocalActor(log)
      expect(log[3]?.after).to.deep.include({ added: ['d'], removed: [], kept: ['c'] })
      expect(log[4]?.after).to.deep.include({ removed: ['c'] })
      expect(log[5]).to.deep.include({ targetId: 'd' })
    })

    it('apply refuses a file that is not JSON, lacks "rules" or has an invalid rule: exit 2, one line, nothing applied', async () => {
      const { root, gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      ok(await gantry(['ratelimit', 'set', 'kept', '--match', '* /api/*', '--limit', '100', '--window', '1m']))
      const valid = { name: 'new1', match: 'GET /new1', limit: 5, window: '1m' }
      const cases: Array<[string, RegExp]> = [
        ['{ "rules": [\n  oops\n', /is not JSON: /],
        [JSON.stringify({ rulez: [] }), /has no "rules" array/],
        ['null', /has no "rules" array/],
        [JSON.stringify({ rules: { name: 'x' } }), /has no "rules" array/],
        [JSON.stringify({ rules: [valid, { ...valid, name: 'new2', limit: 0 }] }), /rules\.1\.limit/],
        [JSON.stringify({ rules: [valid, { ...valid, name: 'new2', window: '2d' }] }), /rules\.1\.window: a window is from 1s to 24h/],
        [JSON.stringify({ rules: [valid, { ...valid, name: 'new2', match: 'GET' }] }), /rules\.1\.match/],
        [JSON.stringify({ rules: [valid, { ...valid, name: 'login-ip' }] }), /"login-ip" is a built-in rule of the sign-in routes/],
        [JSON.stringify({ rules: [valid, valid] }), /names rule "new1" twice/],
      ]
      cases.forEach(([content], i) => writeFileSync(join(root, `bad-${i}.json`), content))
      const results = await inBatches(
        cases.map((_, i) => i),
        (i) => gantry(['ratelimit', 'apply', `bad-${i}.json`, '--prune', '--yes', '--json']),
      )
      results.forEach((r, i) => failed(r, 2, 'INVALID_INPUT', cases[i]?.[1] ?? /./))
      failed(await gantry(['ratelimit', 'apply', 'missing.json', '--json']), 2, 'INVALID_INPUT', /Cannot read .*missing\.json/)
      failedInWords(await gantry(['ratelimit', 'apply', 'bad-0.json']), 2, 'INVALID_INPUT')

      expect((await exportOf(gantry)).rules.map((r) => r.name)).to.deep.equal(['kept'])
      expect((await listOf(gantry)).version).to.equal(1)
      expect((await auditOf(gantry)).map((e) => e.action)).to.deep.equal(['ratelimits.set'])
    })

    it('test says what each rule would do and which decides, for a matching and a non-matching path and a blocked ip', async () => {
      const { gantry } = workspace()
      ok(await gantry(['migrate', 'latest']))
      ok(await gantry(['users', 'create', '--email', 'ada@example.com', '--generate-password']))
      await inBatches(
        [
          ['edge', '--match', '* /api/*', '--limit', '100', '--window', '1m', '--burst', '20'],
          ['search', '--match', 'GET /api/search', '--key', 'global', '--limit', '10', '--window', '1s'],
          ['per-user', '--match', '* /api/*', '--key', 'user', '--limit', '600', '--window', '1h'],
        ],
        (args) => gantry(['ratelimit', 'set', ...args]).then(ok),
        1,
      )
      const testOf = async (...args: string[]): Promise<TestResult & { step: (rule: string) => TestStep | undefined }> => {
        const body = json<TestResult>(await gantry(['ratelimit', 'test', ...args, '--json']))
        expect(Object.keys(body)).to.have.members(Object.keys(testResultSchema.shape))
        const result = testResultSchema.parse(body)
        return { ...result, step: (rule) => result.steps.find((s) => s.rule === rule) }
      }

      const [hit, miss, asUser] = await Promise.all([
        testOf('--path', '/api/search'),
        testOf('--method', 'post', '--path', '/elsewhere'),
        testOf('--path', '/api/search', '--user', 'ada@example.com'),
      ])
      expect(hit).to.deep.include({ allowed: true, decidedBy: 'search', shared: false })
      // The server's order: the edge (ip, global), the login rules, then the rules keyed on who called.
      expect(hit.steps.map((s) => s.rule)).to.deep.equal(['edge', 'search', 'login-ip', 'login-account', 'oauth-token-ip', 'oauth-token-client', 'per-user'])
      expect(hit.step('edge')).to.deep.include({
        source: 'database',
        matched: true,
        key: 'ip',
        mode: 'enforce',
        limit: 100,
        window: '1m',
        burst: 20,
        override: null,
        wouldAdmit: true,
        remaining: 20,
      })
      expect(hit.step('search')).to.deep.include({ matched: true, key: 'global', wouldAdmit: true, remaining: 10 })
      expect(hit.step('login-ip')).to.deep.include({ source: 'builtin', matched: false, reason: 'POST /api/v1/auth/login does not cover GET /api/search' })
      expect(hit.step('per-user')).to.deep.include({ matched: false, reason: 'the request has no user' })
      expect(asUser.step('per-user')).to.deep.include({ matched: true, wouldAdmit: true, remaining: 600 })
      expect(miss).to.deep.include({ allowed: true, decidedBy: null })
      for (const step of miss.steps) expect(step.reason, step.rule).to.match(/ does not cover POST \/elsewhere$/)

      const words = ok(await gantry(['ratelimit', 'test', '--path', '/api/search']))
        .stdout.trimEnd()
        .split('\n')
      expect(words[0]).to.match(/^RULE\s+SOURCE\s+MODE\s+FIGURES\s+ANSWER$/)
      expect(rowsOf(words.slice(0, 3).join('\n'))).to.deep.equal([
        ['edge', 'database', 'enforce', '100/1m burst 20', 'admits (20 more at once)'],
        ['search', 'database', 'enforce', '10/1s burst 10', 'admits (10 more at once)'],
      ])
      expect(words.at(-1)).to.equal('Admitted (deciding rule: search). No Redis: this is an empty in-process store, not what a running server holds.')

      ok(await gantry(['ratelimit', 'override', 'ip:203.0.113.9', '--block']))
      const [blocked, other] = await Promise.all([
        testOf('--path', '/api/search', '--ip', '203.0.113.9'),
        testOf('--path', '/api/search', '--ip', '203.0.113.10'),
      ])
      expect(blocked).to.deep.include({ allowed: false, decidedBy: 'edge' })
      expect(blocked.step('edge')).to.deep.include({ matched: true, override: 'blocked', limit: null, wouldAdmit: false, remaining: 0 })
      expect(blocked.step('edge')?.retryAfter).to.be.above(0)
      expect(blocked.step('search')).to.deep.include({ matched: false, reason: 'not reached: an earlier rule refuses' })
      expect(other).to.deep.include({ allowed: true, decidedBy: 'search' })
      const refusal = ok(await gantry(['ratelimit', 'test', '--path', '/api/search', '--ip', '203.0.113.9'])).stdout
      expect(refusal)
        .to.match(/^edge\s+database\s+enforce\s+blocked \(override\)\s+refuses \(retry after \d+ s\)$/m)
        .and.match(/^Refused \(deciding rule: edge\)\./m)

      const bad = await inBatches(
        [
          ['--path', 'nopath'],
          ['--path', '/x', '--user', 'nobody@example.com'],
        ],
        (args) => gantry(['ratelimit', 'test', ...args, '--json']),
      )
      failed(bad[0] as CliResult, 2, 'INVALID_INPUT', /path: a path starting with \//)
      failed(bad[1] as CliResult, 1, 'USER_NOT_FOUND', /nobody@example\.com/)
      // Reading is not a change: only the sets and the override are audited.
      expect((await auditOf(gantry)).map((e) => e.action)).to.deep.equal([...Array(3).fill('ratelimits.set'), 'ratelimits.override'])
    })
  })

  it('test spends nothing: ten runs against the shared Redis over a burst of 2 still admit, 2 more at once', async function () {
    await requireRedis(this)
    const { gantry } = workspace()
    ok(await gantry(['migrate', 'latest']))
    // A rule of its own: the machine's Redis is shared with other runs.
    const name = `tiny-${randomBytes(4).toString('hex')}`
    ok(await gantry(['ratelimit', 'set', name, '--match', `GET /${name}`, '--limit', '2', '--window', '1h', '-e', 'shared']))
    const runs = await inBatches(
      Array.from({ length: 10 }, (_, i) => i),
      () => gantry(['ratelimit', 'test', '--path', `/${name}`, '-e', 'shared', '--json']),
    )
    for (const r of [...runs, await gantry(['ratelimit', 'test', '--path', `/${name}`, '-e', 'shared', '--json'])]) {
      const result = json<TestResult>(r)
      expect(result).to.deep.include({ allowed: true, decidedBy: name, shared: true })
      expect(result.steps.find((s) => s.rule === name)).to.deep.include({ matched: true, wouldAdmit: true, remaining: 2 })
    }
  })

  describe('on MariaDB', () => {
    let db: TestDatabase | undefined
    after(async () => {
      await db?.drop()
    })

    it('set, list and apply', async function () {
      await requireDialect(this, 'mysql')
      db = await createTestDatabase('mysql')
      const { root, gantry } = workspace(db.url)
      ok(await gantry(['migrate', 'latest']))
      const created = ruleOf(await gantry(['ratelimit', 'set', 'api', '--match', '* /api/*', '--limit', '100', '--window', '1m', '--burst', '20', '--json']))
      expect(created).to.deep.include({
        name: 'api',
        match: '* /api/*',
        key: 'ip',
        limit: 100,
        window: '1m',
        burst: 20,
        mode: 'enforce',
        onStoreError: 'open',
        enabled: true,
        source: 'database',
        counts: NO_COUNTS,
      })
      expect(ruleOf(await gantry(['ratelimit', 'set', 'api', '--limit', '50', '--json']))).to.deep.include({ limit: 50, burst: 20, enabled: true })
      ok(await gantry(['ratelimit', 'set', 'search', '--match', 'GET /api/search', '--key', 'global', '--limit', '10', '--window', '1s', '--disable']))
      // Concurrent patches of different fields: none lost (each change locks the version before it reads).
      await inBatches([['--limit', '11'], ['--burst', '3'], ['--shadow'], ['--on-store-error', 'closed']], (flags) =>
        gantry(['ratelimit', 'set', 'search', ...flags]).then(ok),
      )
      ok(await gantry(['ratelimit', 'set', 'default', '--match', '* /*', '--limit', '200', '--window', '1m']))

      const list = await listOf(gantry)
      expect(list.data.map((r) => [r.name, r.source])).to.deep.equal([
        ['login-ip', 'builtin'],
        ['login-account', 'builtin'],
        ['oauth-token-ip', 'builtin'],
        ['oauth-token-client', 'builtin'],
        ['default', 'database'],
        ['api', 'database'],
        ['search', 'database'],
      ])
      expect(list.data[6]).to.deep.include({
        match: 'GET /api/search',
        limit: 11,
        window: '1s',
        burst: 3,
        mode: 'shadow',
        onStoreError: 'closed',
        enabled: false,
      })
      expect(list).to.deep.include({ overrides: [], version: 8, nextCursor: null })

      const file = join(root, 'rules.json')
      ok(await gantry(['ratelimit', 'export', 'rules.json']))
      const exported = JSON.parse(readFileSync(file, 'utf8')) as RulesFile
      expect(exported.rules.map((r) => r.name)).to.deep.equal(['default', 'api', 'search'])
      expect(exported.rules[2]).to.deep.equal({
        name: 'search',
        match: 'GET /api/search',
        key: 'global',
        limit: 11,
        window: '1s',
        burst: 3,
        mode: 'shadow',
        onStoreError: 'closed',
        enabled: false,
      })
      expect(json(await gantry(['ratelimit', 'apply', 'rules.json', '--json']))).to.deep.include({
        applied: false,
        unchanged: ['default', 'api', 'search'],
        version: 8,
      })

      const [def, api, search] = exported.rules
      writeFileSync(file, JSON.stringify({ rules: [{ ...search, enabled: true }, api, { name: 'new', match: 'POST /api/new', limit: 5, window: '1h' }] }))
      // search now comes before api: both moved ('order').
      expect(ok(await gantry(['ratelimit', 'apply', 'rules.json', '--prune', '--dry-run'])).stdout).to.equal(
        '+ new\n~ search\n    enabled: false → true\n    order: 2 → 1\n~ api\n    order: 1 → 2\n- default\n1 to add, 2 to change, 1 to remove, 0 unchanged.\n',
      )
      expect((await listOf(gantry)).version).to.equal(8)
      expect(json(await gantry(['ratelimit', 'apply', 'rules.json', '--prune', '--yes', '--json']))).to.deep.equal({
        added: ['new'],
        changed: [
          {
            name: 'search',
            fields: ['enabled', 'order'],
            changes: [
              { field: 'enabled', from: false, to: true },
              { field: 'order', from: 2, to: 1 },
            ],
          },
          { name: 'api', fields: ['order'], changes: [{ field: 'order', from: 1, to: 2 }] },
        ],
        removed: ['default'],
        kept: [],
        unchanged: [],
        applied: true,
        version: 9,
      })
      const after = await listOf(gantry)
      expect(after.data.map((r) => [r.name, r.enabled])).to.deep.equal([
        ['login-ip', true],
        ['login-account', true],
        ['oauth-token-ip', true],
        ['oauth-token-client', true],
        ['search', true],
        ['api', true],
        ['new', true],
      ])
      expect((await exportOf(gantry)).rules).to.deep.equal([
        { ...search, enabled: true },
        api,
        { name: 'new', match: 'POST /api/new', key: 'ip', limit: 5, window: '1h', burst: 5, mode: 'enforce', onStoreError: 'open', enabled: true },
      ])
      expect(def?.name).to.equal('default')

      const log = await auditOf(gantry)
      expect(log.map((e) => e.action)).to.deep.equal([...Array(8).fill('ratelimits.set'), 'ratelimits.apply'])
      byLocalActor(log)
    })
  })
})
