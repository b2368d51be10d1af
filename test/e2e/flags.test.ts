/**
 * `gantry flags …` as users run it: the built CLI in a workspace made by `gantry init` and `migrate latest`
 * (SQLite). A flag is created, given rules in the --when language, switched on and rolled out; shown,
 * listed and evaluated with the deciding rule explained; exported to a file and applied to another, fresh
 * workspace, which then answers alike; deleted. Exit codes: 2 for what the caller wrote wrong, 1 for a flag
 * that is not there. Last, one round trip through a real `gantry serve` with --remote.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { bucketOf } from '../../src/core/flags/evaluate.js'
import type { ApplyFlagsResult, ExplainResult, FlagsFile, FlagView } from '../../src/core/flags/flags.schema.js'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { onOffRollout } from '../helpers/flag-fixtures.js'
import { ADMIN, createServeWorkspace, killLeftovers, listeningUrl, postJson, startServe, stopServe, type ServeWorkspace } from '../helpers/serve-process.js'

/** A second workspace, made the short way (a config naming a SQLite file, then `migrate latest`). */
async function freshWorkspace(): Promise<(args: readonly string[]) => Promise<CliResult>> {
  const root = tempDir('gantry-flags-')
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'gantry.sqlite3')}` } } }))
  const gantry = (args: readonly string[]) => runGantry(args, { cwd: root })
  ok(await gantry(['migrate', 'latest']))
  return gantry
}

function ok(result: CliResult): CliResult {
  expect(result.code, `${result.stdout}\n${result.stderr}`).to.equal(0)
  return result
}

/** A flag as `list --json` shows it, without what differs between two workspaces by nature (when, and by whom). */
const comparable = ({ createdAt, updatedAt, createdBy, ...flag }: FlagView): Omit<FlagView, 'createdAt' | 'updatedAt' | 'createdBy'> => {
  void [createdAt, updatedAt, createdBy]
  return flag
}

const WHEN_STAFF = 'role in [admin,operator] and email endsWith @example.com'
const WHEN_APP = 'appVersion semver>= 2.1.0 and age >= 18 and ip in cidr 10.0.0.0/8 and plan not in [free]'
/** A context rule 0 refuses (role) and rule 1 matches. */
const CONTEXT = [
  '--user',
  '42',
  '--email',
  'ada@example.com',
  '--role',
  'viewer',
  '--ip',
  '10.1.2.3',
  '--attr',
  'appVersion=2.3.0',
  '--attr',
  'age=30',
  '--attr',
  'plan=pro',
]

describe('gantry flags (built CLI, SQLite)', function () {
  this.timeout(90_000)
  let ws: ServeWorkspace
  let gantry: (args: readonly string[]) => Promise<CliResult>
  let dir: string

  before(async () => {
    ws = await createServeWorkspace()
    gantry = (args) => ws.gantry(args)
    dir = tempDir('gantry-flags-files-')
  })
  after(() => {
    killLeftovers()
    ws?.cleanup()
  })

  it('create, rule add with --when, set --on, rollout --percent 25: the flag as each step left it', async () => {
    const created = parseJson<FlagView>(
      ok(await gantry(['flags', 'create', 'new-checkout', '--type', 'boolean', '--description', 'The new checkout', '--json'])),
    )
    expect(created).to.deep.include({ key: 'new-checkout', enabled: false, defaultVariant: 'on', offVariant: 'off', rules: [] })
    expect(ok(await gantry(['flags', 'rule', 'add', 'new-checkout', '--when', WHEN_STAFF, '--serve', 'on'])).stdout).to.include(
      'Flag new-checkout has 1 rule(s)',
    )
    const ruled = parseJson<FlagView>(
      ok(await gantry(['flags', 'rule', 'add', 'new-checkout', '--when', WHEN_APP, '--serve', 'on', '--description', 'app users', '--json'])),
    )
    expect(ruled.rules.map((r) => r.conditions.map((c) => [c.attribute, c.operator, c.values]))).to.deep.equal([
      [
        ['role', 'in', ['admin', 'operator']],
        ['email', 'endsWith', ['@example.com']],
      ],
      [
        ['appVersion', 'semverGte', ['2.1.0']],
        ['age', 'gte', ['18']],
        ['ip', 'inCidr', ['10.0.0.0/8']],
        ['plan', 'notIn', ['free']],
      ],
    ])
    expect(parseJson<FlagView>(ok(await gantry(['flags', 'set', 'new-checkout', '--on', '--json']))).enabled).to.equal(true)
    const rolled = ok(await gantry(['flags', 'rollout', 'new-checkout', '--percent', '25']))
    expect(rolled.stdout).to.include('rollout by userId: on 25%, off 75%')
    const flag = parseJson<FlagView>(ok(await gantry(['flags', 'show', 'new-checkout', '--json'])))
    expect(flag.rules).to.have.length(3)
    expect(flag.rules[2]).to.deep.equal({ description: 'percentage rollout', conditions: [], segments: [], serve: onOffRollout(25_000, 75_000) })
  })

  it('show numbers the rules; list --json lists the flag', async () => {
    const shown = ok(await gantry(['flags', 'show', 'new-checkout'])).stdout
    expect(shown).to.match(/^state\s+on$/m)
    expect(shown).to.match(/^#\s+WHEN\s+SERVE\s+DESCRIPTION$/m)
    expect(shown).to.match(/^0\s+role in \[admin, operator\] and email endsWith @example\.com\s+on\s*$/m)
    expect(shown).to.match(/^1\s+appVersion semver>= 2\.1\.0 and age >= 18 and ip in cidr 10\.0\.0\.0\/8 and plan not in \[free\]\s+on\s+app users$/m)
    expect(shown).to.match(/^2\s+everyone\s+rollout by userId: on 25%, off 75%/m)
    const { data } = parseJson<{ data: FlagView[] }>(ok(await gantry(['flags', 'list', '--json'])))
    expect(data.map((f) => [f.key, f.enabled, f.rules.length, f.stale])).to.deep.equal([['new-checkout', true, 3, false]])
    expect(ok(await gantry(['flags', 'list'])).stdout).to.match(/^new-checkout\s+boolean\s+on\s+/m)
  })

  it('evaluate explains the deciding rule, and why the ones before it did not match', async () => {
    const human = ok(await gantry(['flags', 'evaluate', 'new-checkout', ...CONTEXT])).stdout
    expect(human.split('\n')[0]).to.equal('new-checkout = true: variant on, TARGETING_MATCH (rule 1)')
    expect(human).to.match(/^0\s+role in \[admin, operator\].*\s+role is "viewer"$/m)
    expect(human).to.match(/^1\s+appVersion semver>= 2\.1\.0.*\s+matched ← decides$/m)
    expect(human.match(/← decides/g)).to.have.length(1)

    const json = parseJson<ExplainResult>(ok(await gantry(['flags', 'evaluate', 'new-checkout', ...CONTEXT, '--json'])))
    expect(json.evaluation).to.deep.equal({ key: 'new-checkout', value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleIndex: 1 })
    expect(json.explanation.rules.map((r) => [r.index, r.matched])).to.deep.equal([
      [0, false],
      [1, true],
      [2, true],
    ])
    expect(json.explanation.rules[0]?.conditions[0]).to.deep.include({ attribute: 'role', actual: 'viewer', held: false })
    expect(json.explanation.rules[1]?.conditions.map((c) => [c.attribute, c.actual, c.held])).to.deep.equal([
      ['appVersion', '2.3.0', true],
      ['age', '30', true],
      ['ip', '10.1.2.3', true],
      ['plan', 'pro', true],
    ])
    // Staff by role and email: rule 0. Nobody in particular: the rollout decides (its split, or its fallback without a user).
    const staff = parseJson<ExplainResult>(
      ok(await gantry(['flags', 'evaluate', 'new-checkout', '--user', '7', '--role', 'admin', '--email', 'grace@example.com', '--json'])),
    )
    expect(staff.evaluation).to.include({ reason: 'TARGETING_MATCH', ruleIndex: 0 })
    const split = parseJson<ExplainResult>(ok(await gantry(['flags', 'evaluate', 'new-checkout', '--user', '42', '--json'])))
    expect(split.evaluation).to.include({ reason: 'SPLIT', ruleIndex: 2 })
    const anonymous = parseJson<ExplainResult>(ok(await gantry(['flags', 'evaluate', 'new-checkout', '--json'])))
    expect(anonymous.evaluation).to.include({ variant: 'off', reason: 'TARGETING_KEY_MISSING', ruleIndex: 2 })
  })

  it("evaluate --user EMAIL looks the user up: its id, email, role and the role's permissions make the context", async () => {
    ok(await gantry(['users', 'create', '--email', 'ops@example.com', '--role', 'operator', '--generate-password']))
    const shown = parseJson<{ id: number }>(ok(await gantry(['users', 'show', 'ops@example.com', '--json'])))
    const looked = parseJson<ExplainResult>(ok(await gantry(['flags', 'evaluate', 'new-checkout', '--user', 'ops@example.com', '--json'])))
    // Rule 0 (role in [admin,operator] and email endsWith @example.com) holds on what the lookup filled in.
    expect(looked.evaluation).to.include({ reason: 'TARGETING_MATCH', ruleIndex: 0 })
    const rule0 = looked.explanation.rules[0]?.conditions.map((c) => [c.attribute, c.actual])
    expect(rule0).to.deep.equal([
      ['role', 'operator'],
      ['email', 'ops@example.com'],
    ])
    // An explicit flag still overrides what the lookup found; the id is the targeting key.
    const overridden = parseJson<ExplainResult>(
      ok(await gantry(['flags', 'evaluate', 'new-checkout', '--user', 'ops@example.com', '--role', 'viewer', '--json'])),
    )
    expect(overridden.explanation.rules[0]?.matched).to.equal(false)
    expect(overridden.evaluation).to.include({ reason: 'SPLIT', bucket: bucketOf('new-checkout', String(shown.id)) })
    const missing = await gantry(['flags', 'evaluate', 'new-checkout', '--user', 'nobody@example.com'])
    expect(missing.code).to.equal(1)
    expect(missing.stderr).to.contain('USER_NOT_FOUND')
  })

  it('export writes the file; apply --dry-run says what would change; apply reproduces the flags in a fresh workspace', async () => {
    const file = join(dir, 'flags.json')
    expect(ok(await gantry(['flags', 'export', file])).stdout).to.include('Wrote 1 flag(s) and 0 segment(s)')
    const written = JSON.parse(readFileSync(file, 'utf8')) as FlagsFile
    expect(written).to.deep.equal(parseJson<FlagsFile>(ok(await gantry(['flags', 'export', '--json']))))
    expect(written.flags.map((f) => f.key)).to.deep.equal(['new-checkout'])
    // An existing file is kept unless --force.
    const again = await gantry(['flags', 'export', file, '--json'])
    expect([again.code, parseJson<{ error: { code: string } }>(again).error.code]).to.deep.equal([1, 'FILE_EXISTS'])
    // Applied where it came from: nothing to do.
    expect(ok(await gantry(['flags', 'apply', file, '--dry-run'])).stdout).to.include('No change')

    const other = await freshWorkspace()
    const dry = ok(await other(['flags', 'apply', file, '--dry-run']))
    expect(dry.stdout).to.match(/^CHANGE\s+KIND\s+NAME$/m)
    expect(dry.stdout).to.match(/^create\s+flag\s+new-checkout$/m)
    expect(parseJson<{ data: FlagView[] }>(ok(await other(['flags', 'list', '--json']))).data).to.deep.equal([])
    const applied = parseJson<ApplyFlagsResult>(ok(await other(['flags', 'apply', file, '--yes', '--json'])))
    expect(applied).to.deep.equal({ dryRun: false, version: 1, changes: [{ kind: 'flag', name: 'new-checkout', change: 'create' }] })

    const listed = async (run: (args: readonly string[]) => Promise<CliResult>) =>
      parseJson<{ data: FlagView[] }>(ok(await run(['flags', 'list', '--json']))).data.map(comparable)
    expect(await listed(other)).to.deep.equal(await listed(gantry))
    // The same answers for the same users, rollout included: buckets come from the flag key and the user alone.
    for (const user of ['2', '42']) {
      const here = parseJson<ExplainResult>(ok(await gantry(['flags', 'evaluate', 'new-checkout', '--user', user, '--json']))).evaluation
      const there = parseJson<ExplainResult>(ok(await other(['flags', 'evaluate', 'new-checkout', '--user', user, '--json']))).evaluation
      expect(there, `user ${user}`).to.deep.equal(here)
    }
  })

  it('exit codes: a --when that does not parse 2 (one line naming --when); an unknown flag 1; rollout without shares 2', async () => {
    const badWhen = await gantry(['flags', 'rule', 'add', 'new-checkout', '--when', 'role ~ admin', '--serve', 'on'])
    expect(badWhen.code).to.equal(2)
    expect(badWhen.stdout).to.equal('')
    const lines = badWhen.stderr.trim().split('\n')
    expect(lines, badWhen.stderr).to.have.length(1)
    expect(lines[0]).to.match(/^Error \(INVALID_INPUT\): --when: /)
    const badWhenJson = await gantry(['flags', 'rule', 'add', 'new-checkout', '--when', 'role in [admin', '--serve', 'on', '--json'])
    expect([badWhenJson.code, parseJson<{ error: { code: string; message: string } }>(badWhenJson).error.code]).to.deep.equal([2, 'INVALID_INPUT'])

    const unknown = await gantry(['flags', 'show', 'nope', '--json'])
    expect([unknown.code, parseJson<{ error: { code: string } }>(unknown).error.code]).to.deep.equal([1, 'FLAG_NOT_FOUND'])
    const unknownSet = await gantry(['flags', 'set', 'nope', '--on'])
    expect(unknownSet.code).to.equal(1)
    expect(unknownSet.stderr).to.match(/^Error \(FLAG_NOT_FOUND\): /)

    const noShares = await gantry(['flags', 'rollout', 'new-checkout'])
    expect(noShares.code).to.equal(2)
    expect(noShares.stderr).to.include('--percent')
    const badShares = await gantry(['flags', 'rollout', 'new-checkout', '--split', 'on=30,off=30', '--json'])
    expect([badShares.code, parseJson<{ error: { code: string } }>(badShares).error.code]).to.deep.equal([2, 'INVALID_INPUT'])
    // Nothing of that changed the flag.
    expect(parseJson<FlagView>(ok(await gantry(['flags', 'show', 'new-checkout', '--json']))).rules).to.have.length(3)
  })

  it('--remote: the same commands through a real `gantry serve`, audited as the logged-in user', async () => {
    const serve = startServe(ws)
    try {
      const url = await listeningUrl(serve)
      const login = await postJson(`${url}/api/v1/auth/login`, ADMIN)
      expect(login.status, login.body).to.equal(200)
      const { accessToken } = JSON.parse(login.body) as { accessToken: string }
      const remote = (args: readonly string[]) =>
        runGantry([...args, '--remote'], { cwd: ws.root, env: { ...ws.env, GANTRY_URL: url, GANTRY_TOKEN: accessToken } })
      const local = parseJson<{ data: FlagView[] }>(ok(await gantry(['flags', 'list', '--json'])))
      expect(parseJson<{ data: FlagView[] }>(ok(await remote(['flags', 'list', '--json'])))).to.deep.equal(local)
      const off = parseJson<FlagView>(ok(await remote(['flags', 'set', 'new-checkout', '--off', '--json'])))
      expect(off.enabled).to.equal(false)
      // The change is in the database the local door reads.
      expect(parseJson<FlagView>(ok(await gantry(['flags', 'show', 'new-checkout', '--json']))).enabled).to.equal(false)
      const explained = parseJson<ExplainResult>(ok(await remote(['flags', 'evaluate', 'new-checkout', '--user', '42', '--json'])))
      expect(explained.evaluation).to.include({ variant: 'off', reason: 'DISABLED' })
      const unknown = await remote(['flags', 'show', 'nope', '--json'])
      expect([unknown.code, parseJson<{ error: { code: string } }>(unknown).error.code]).to.deep.equal([1, 'FLAG_NOT_FOUND'])
      const audit = parseJson<{ data: Array<{ actor: string; targetId: string }> }>(
        ok(await gantry(['audit', 'list', '--action', 'flags.update', '--limit', '1', '--json'])),
      )
      expect(audit.data[0]).to.deep.include({ targetId: 'new-checkout' })
      expect(audit.data[0]?.actor).to.match(/^user:\d+$/)
    } finally {
      await stopServe(serve)
    }
  })

  it('delete removes the flag', async () => {
    expect(ok(await gantry(['flags', 'delete', 'new-checkout', '--force'])).stdout).to.include('Deleted flag new-checkout.')
    expect(parseJson<{ data: FlagView[] }>(ok(await gantry(['flags', 'list', '--json']))).data).to.deep.equal([])
    const gone = await gantry(['flags', 'delete', 'new-checkout', '--force', '--json'])
    expect([gone.code, parseJson<{ error: { code: string } }>(gone).error.code]).to.deep.equal([1, 'FLAG_NOT_FOUND'])
  })
})
