/**
 * Flag evaluation: every operator against matching, non-matching, absent and list attributes; the reasons;
 * rollouts (distribution, growth keeping who had the flag, stickiness, bucketing by another attribute); and
 * explain naming the deciding rule and the condition that failed before it.
 */
import { expect } from 'chai'
import murmurhash from 'murmurhash'
import { bucketOf, compileFlags, type CompiledFlags } from '../../../../src/core/flags/evaluate.js'
import {
  ROLLOUT_BUCKETS,
  type Condition,
  type ConditionOperator,
  type EvaluationContext,
  type FlagDefinition,
  type Rollout,
  type Rule,
  type SegmentDefinition,
} from '../../../../src/core/flags/flags.schema.js'
import { ON_OFF, onOffRollout } from '../../../helpers/flag-fixtures.js'

const KEY = 'new-checkout'

const flag = (overrides: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: KEY,
  description: '',
  type: 'boolean',
  variants: ON_OFF,
  defaultVariant: 'off',
  offVariant: 'off',
  enabled: true,
  rules: [],
  lifetime: 'temporary',
  ...overrides,
})

const rule = (conditions: Condition[], serve: Rule['serve'] = { variant: 'on' }, segments: string[] = []): Rule => ({
  description: '',
  conditions,
  segments,
  serve,
})
const when = (attribute: string, operator: ConditionOperator, ...values: string[]): Condition => ({ attribute, operator, values })
const compile = (flags: FlagDefinition[], segments: SegmentDefinition[] = [], version = 1): CompiledFlags => compileFlags({ version, flags, segments })
const rollout = (variants: Rollout['variants'], by = 'userId'): Rule['serve'] => ({ rollout: { by, variants, fallback: 'off' } })
const percent = (share: number): Rule['serve'] => onOffRollout(share * (ROLLOUT_BUCKETS / 100), ROLLOUT_BUCKETS - share * (ROLLOUT_BUCKETS / 100))

type Case = readonly [context: EvaluationContext, holds: boolean, why: string]

const table: ReadonlyArray<{ readonly condition: Condition; readonly cases: readonly Case[] }> = [
  {
    condition: when('role', 'equals', 'admin'),
    cases: [
      [{ role: 'admin' }, true, 'match'],
      [{ role: 'viewer' }, false, 'no match'],
      [{ role: 'Admin' }, false, 'case-sensitive'],
      [{}, false, 'absent'],
      [{ role: null }, false, 'null is absent'],
      [{ role: ['viewer', 'admin'] }, true, 'list with a match'],
      [{ role: ['viewer'] }, false, 'list without'],
    ],
  },
  {
    condition: when('plan', 'equals', 'pro', 'team'),
    cases: [
      [{ plan: 'team' }, true, 'several values: any'],
      [{ plan: 'free' }, false, 'none of them'],
    ],
  },
  {
    condition: when('beta', 'equals', 'true'),
    cases: [
      [{ beta: true }, true, 'a boolean as its text'],
      [{ beta: false }, false, 'the other boolean'],
    ],
  },
  {
    condition: when('role', 'in', 'admin', 'operator'),
    cases: [
      [{ role: 'operator' }, true, 'match'],
      [{ role: 'viewer' }, false, 'no match'],
      [{}, false, 'absent'],
      [{ role: ['viewer', 'operator'] }, true, 'list with a match'],
      [{ role: [] }, false, 'empty list'],
    ],
  },
  {
    condition: when('tier', 'in', '1', '2'),
    cases: [
      [{ tier: 2 }, true, 'a number as its text'],
      [{ tier: 3 }, false, 'another number'],
    ],
  },
  {
    condition: when('country', 'notIn', 'de', 'fr'),
    cases: [
      [{ country: 'us' }, true, 'not in the set'],
      [{ country: 'de' }, false, 'in the set'],
      [{}, true, 'absent'],
      [{ country: '' }, true, 'empty string is absent'],
      [{ country: ['us', 'ca'] }, true, 'list with none in the set'],
      [{ country: ['us', 'fr'] }, false, 'list with one in the set'],
    ],
  },
  {
    condition: when('email', 'notIn', 'ada@example.com'),
    cases: [
      [{ email: 'ADA@example.com' }, false, 'email compares without case'],
      [{ email: 'bob@example.com' }, true, 'another email'],
    ],
  },
  {
    condition: when('userId', 'startsWith', 'test-', 'qa-'),
    cases: [
      [{ userId: 'qa-7' }, true, 'match'],
      [{ userId: 'prod-7' }, false, 'no match'],
      [{ userId: 'Test-7' }, false, 'case-sensitive'],
      [{ targetingKey: 'test-7' }, true, "OpenFeature's targetingKey is the userId"],
      [{}, false, 'absent'],
      [{ userId: ['prod-1', 'test-1'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('email', 'endsWith', '@Example.com'),
    cases: [
      [{ email: 'ada@EXAMPLE.COM' }, true, 'email compares without case'],
      [{ email: 'ada@example.org' }, false, 'no match'],
      [{}, false, 'absent'],
      [{ email: ['x@other.org', 'ada@example.com'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('emailDomain', 'equals', 'example.com'),
    cases: [
      [{ email: 'Ada@Example.COM' }, true, 'derived from email, lower-cased'],
      [{ email: 'odd@name@example.com' }, true, 'after the last @'],
      [{ emailDomain: 'EXAMPLE.com' }, true, 'given, compared without case'],
      [{ email: 'ada@example.com', emailDomain: 'other.org' }, false, 'given wins over derived'],
      [{ email: 'ada@example.org' }, false, 'no match'],
      [{ email: 'no-at-sign' }, false, 'an email without @ has no domain'],
      [{}, false, 'absent'],
    ],
  },
  {
    condition: when('age', 'lt', '18'),
    cases: [
      [{ age: 17 }, true, 'number below'],
      [{ age: '17.5' }, true, 'numeric text'],
      [{ age: 18 }, false, 'equal is not below'],
      [{ age: 'young' }, false, 'non-numeric'],
      [{ age: true }, false, 'a boolean is not a number'],
      [{}, false, 'absent'],
      [{ age: ['30', '12'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('age', 'lte', '18'),
    cases: [
      [{ age: 18 }, true, 'equal'],
      [{ age: 19 }, false, 'above'],
      [{}, false, 'absent'],
      [{ age: ['20', '30'] }, false, 'list without'],
    ],
  },
  {
    condition: when('seats', 'gt', '10'),
    cases: [
      [{ seats: 11 }, true, 'above'],
      [{ seats: 10 }, false, 'equal is not above'],
      [{ seats: '1e3' }, true, 'exponent text'],
      [{}, false, 'absent'],
      [{ seats: ['5', '50'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('seats', 'gte', '-2.5'),
    cases: [
      [{ seats: -2.5 }, true, 'equal'],
      [{ seats: -3 }, false, 'below'],
      [{}, false, 'absent'],
      [{ seats: ['-9'] }, false, 'list without'],
    ],
  },
  {
    condition: when('appVersion', 'semverGte', '1.2.3'),
    cases: [
      [{ appVersion: '1.2.3' }, true, 'equal'],
      [{ appVersion: '1.10.0' }, true, 'numeric, not text, order'],
      [{ appVersion: '1.2.2' }, false, 'below'],
      [{ appVersion: '1.2.3-beta.1' }, false, 'a prerelease comes before its release'],
      [{ appVersion: '1.3.0-beta.1' }, true, 'a prerelease of a later version'],
      [{ appVersion: 'latest' }, false, 'not a version'],
      [{ appVersion: 1 }, false, 'a number is not a version'],
      [{}, false, 'absent'],
      [{ appVersion: ['0.9.0', '2.0.0'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('appVersion', 'semverLt', '2.0.0'),
    cases: [
      [{ appVersion: '2.0.0-rc.1' }, true, 'prerelease below its release'],
      [{ appVersion: '2.0.0' }, false, 'equal'],
      [{}, false, 'absent'],
    ],
  },
  {
    condition: when('appVersion', 'semverLte', '2.0.0'),
    cases: [
      [{ appVersion: '2.0.0' }, true, 'equal'],
      [{ appVersion: '2.0.1' }, false, 'above'],
    ],
  },
  {
    condition: when('appVersion', 'semverGt', '2.0.0-beta.2'),
    cases: [
      [{ appVersion: '2.0.0-beta.10' }, true, 'prerelease identifiers compare as numbers'],
      [{ appVersion: '2.0.0-beta.1' }, false, 'an earlier prerelease'],
      [{}, false, 'absent'],
    ],
  },
  {
    condition: when('appVersion', 'semverEq', '1.2.3'),
    cases: [
      [{ appVersion: 'v1.2.3' }, true, 'a leading v'],
      [{ appVersion: '1.2.3+build.5' }, true, 'build metadata does not count'],
      [{ appVersion: '1.2.4' }, false, 'another version'],
      [{ appVersion: ['1.0.0', '1.2.3'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('ip', 'inCidr', '10.0.0.0/8', '2001:db8::/32', '192.0.2.7'),
    cases: [
      [{ ip: '10.20.30.40' }, true, 'IPv4 inside'],
      [{ ip: '11.0.0.1' }, false, 'IPv4 outside'],
      [{ ip: '2001:db8::1' }, true, 'IPv6 inside'],
      [{ ip: '2001:db9::1' }, false, 'IPv6 outside'],
      [{ ip: '::ffff:10.1.2.3' }, true, 'IPv4-mapped IPv6 is the IPv4 address'],
      [{ ip: '::ffff:a01:203' }, true, 'IPv4-mapped in hex'],
      [{ ip: '::ffff:11.1.2.3' }, false, 'IPv4-mapped outside'],
      [{ ip: '192.0.2.7' }, true, 'a bare address is its own block'],
      [{ ip: '192.0.2.8' }, false, 'next to the bare address'],
      [{ ip: 'localhost' }, false, 'not an address'],
      [{}, false, 'absent'],
      [{ ip: ['192.168.1.1', '10.0.0.1'] }, true, 'list with a match'],
    ],
  },
  {
    condition: when('ip', 'inCidr', '::/0'),
    cases: [
      [{ ip: '2001:db8::1' }, true, 'every IPv6 address'],
      [{ ip: '1.2.3.4' }, false, 'an IPv4 address is not inside an IPv6 block'],
    ],
  },
]

describe('core/flags: evaluate', () => {
  describe('operators', () => {
    for (const { condition, cases } of table) {
      const flags = compile([flag({ rules: [rule([condition])] })])
      for (const [context, holds, why] of cases) {
        it(`${condition.attribute} ${condition.operator} ${condition.values.join(',')}: ${JSON.stringify(context)} ${holds ? 'holds' : 'does not'} (${why})`, () => {
          expect(flags.evaluate(KEY, context).reason).to.equal(holds ? 'TARGETING_MATCH' : 'DEFAULT')
          expect(flags.explain(KEY, context).rules[0]?.conditions[0]?.held).to.equal(holds)
        })
      }
    }

    it('never matches a condition whose value its operator cannot read, and never throws', () => {
      const broken = [when('age', 'lt', 'ten'), when('v', 'semverGte', '1.2'), when('ip', 'inCidr', '10.0.0.0/33'), when('ip', 'inCidr', '10.0.0.0/8', 'nope')]
      const flags = compile(broken.map((condition, at) => flag({ key: `f${at}`, rules: [rule([condition])] })))
      const context = { age: 1, v: '9.9.9', ip: '10.0.0.1' }
      for (let at = 0; at < broken.length; at++) expect(flags.evaluate(`f${at}`, context).reason).to.equal('DEFAULT')
      expect(flags.explain('f0', context).rules[0]?.conditions[0]).to.include({ valid: false, held: false })
    })
  })

  describe('reasons', () => {
    const variants = [
      { name: 'control', value: 'classic' },
      { name: 'admins', value: 'admin-view' },
      { name: 'staff', value: 'staff-view' },
    ]
    const staff: SegmentDefinition = { name: 'staff', description: '', conditions: [when('emailDomain', 'equals', 'example.com')] }
    const layout = flag({
      type: 'string',
      variants,
      defaultVariant: 'control',
      offVariant: 'control',
      rules: [
        rule([when('role', 'equals', 'admin')], { variant: 'admins' }),
        rule([when('role', 'in', 'admin', 'viewer'), when('plan', 'equals', 'pro')], { variant: 'staff' }, ['staff']),
      ],
    })
    const flags = compile([layout], [staff])

    it('answers FLAG_NOT_FOUND, with no value, for a key it does not have', () => {
      expect(flags.evaluate('missing', { userId: 'u1' })).to.deep.equal({ key: 'missing', value: undefined, variant: undefined, reason: 'FLAG_NOT_FOUND' })
      expect(flags.has('missing')).to.equal(false)
      expect(flags.type('missing')).to.equal(undefined)
    })

    it('serves the off variant, DISABLED, while the flag is off, whatever the rules say', () => {
      const off = compile([{ ...layout, offVariant: 'staff', enabled: false }], [staff])
      expect(off.evaluate(KEY, { role: 'admin' })).to.deep.equal({ key: KEY, value: 'staff-view', variant: 'staff', reason: 'DISABLED' })
    })

    it('lets the first matching rule decide, TARGETING_MATCH with its index', () => {
      expect(flags.evaluate(KEY, { role: 'admin', plan: 'pro', email: 'a@example.com' })).to.deep.equal({
        key: KEY,
        value: 'admin-view',
        variant: 'admins',
        reason: 'TARGETING_MATCH',
        ruleIndex: 0,
      })
      expect(flags.evaluate(KEY, { role: 'viewer', plan: 'pro', email: 'v@example.com' })).to.include({ variant: 'staff', ruleIndex: 1 })
    })

    it('needs every condition and every segment of a rule', () => {
      expect(flags.evaluate(KEY, { role: 'viewer', plan: 'pro', email: 'v@other.org' }).reason, 'segment fails').to.equal('DEFAULT')
      expect(flags.evaluate(KEY, { role: 'viewer', plan: 'free', email: 'v@example.com' }).reason, 'condition fails').to.equal('DEFAULT')
    })

    it('never matches a rule naming a segment the snapshot lacks', () => {
      const lost = compile([layout])
      expect(lost.evaluate(KEY, { role: 'viewer', plan: 'pro', email: 'v@example.com' }).reason).to.equal('DEFAULT')
      expect(lost.explain(KEY, { role: 'viewer' }).rules[1]?.segments[0]).to.include({ name: 'staff', found: false, held: false })
    })

    it('serves the default variant, DEFAULT, when no rule matches', () => {
      expect(flags.evaluate(KEY, {})).to.deep.equal({ key: KEY, value: 'classic', variant: 'control', reason: 'DEFAULT' })
    })

    it('matches everyone with a rule without conditions', () => {
      expect(compile([flag({ rules: [rule([])] })]).evaluate(KEY, {})).to.include({ variant: 'on', reason: 'TARGETING_MATCH', ruleIndex: 0 })
    })

    it('splits a rollout, SPLIT with the rule and the bucket', () => {
      const split = compile([flag({ rules: [rule([when('role', 'equals', 'admin')], { variant: 'off' }), rule([], percent(50))] })])
      const result = split.evaluate(KEY, { userId: 'ada' })
      expect(result).to.include({ reason: 'SPLIT', ruleIndex: 1, bucket: bucketOf(KEY, 'ada') })
      expect(result.variant).to.equal(bucketOf(KEY, 'ada') < 50_000 ? 'on' : 'off')
      expect(result.value).to.equal(result.variant === 'on')
    })

    it('serves the fallback, TARGETING_KEY_MISSING, to a context without the bucketing attribute', () => {
      const split = compile([flag({ rules: [rule([], rollout([{ variant: 'on', weight: ROLLOUT_BUCKETS }]))] })])
      for (const context of [{}, { userId: '' }, { userId: null }, { userId: ['a', 'b'] }]) {
        expect(split.evaluate(KEY, context)).to.deep.equal({ key: KEY, value: false, variant: 'off', reason: 'TARGETING_KEY_MISSING', ruleIndex: 0 })
      }
    })

    it('skips a rule that serves what the flag lacks, or a rollout that does not add up', () => {
      const broken = compile([
        flag({ rules: [rule([], { variant: 'gone' }), rule([], rollout([{ variant: 'on', weight: 10 }])), rule([when('role', 'equals', 'x')])] }),
      ])
      expect(broken.evaluate(KEY, { userId: 'u' }).reason).to.equal('DEFAULT')
      expect(broken.explain(KEY, { userId: 'u' }).rules.map((r) => r.valid)).to.deep.equal([false, false, true])
    })

    it('lists its keys and types, and keeps the snapshot version', () => {
      const many = compile([flag(), flag({ key: 'limit', type: 'number', variants: [{ name: 'n', value: 5 }], defaultVariant: 'n', offVariant: 'n' })], [], 7)
      expect(many.keys()).to.deep.equal([KEY, 'limit'])
      expect(many.type('limit')).to.equal('number')
      expect(many.has(KEY)).to.equal(true)
      expect(many.version).to.equal(7)
    })

    it('hands out values no caller can change for the next one, and leaves the snapshot alone', () => {
      const settings = { theme: { colour: 'teal' } }
      const json = flag({ type: 'json', variants: [{ name: 'v', value: settings }], defaultVariant: 'v', offVariant: 'v' })
      const value = compile([json]).evaluate(KEY, {}).value as { theme: { colour: string } }
      expect(() => {
        value.theme.colour = 'red'
      }).to.throw(TypeError)
      expect(Object.isFrozen(settings.theme)).to.equal(false)
    })
  })

  describe('rollouts', () => {
    const users = Array.from({ length: 100_000 }, (_, i) => `user-${i}`)
    const served = (flags: CompiledFlags, by = 'userId'): string[] => users.map((user) => flags.evaluate(KEY, { [by]: user }).variant as string)
    const share = (variants: string[], name: string): number => variants.filter((v) => v === name).length / variants.length

    it('hashes with MurmurHash3 (x86, 32 bit, seed 0) of flagKey:value over UTF-8', () => {
      // The published test vector of MurmurHash3_x86_32.
      expect(murmurhash.v3('The quick brown fox jumps over the lazy dog', 0)).to.equal(0x2e4ff723)
      for (const user of ['ada', 'ünïcode-user-😀', 'x'.repeat(5000)]) {
        expect(bucketOf(KEY, user)).to.equal(murmurhash.v3(new TextEncoder().encode(`${KEY}:${user}`), 0) % ROLLOUT_BUCKETS)
      }
    })

    it('serves 25 % of 100,000 users, and raising it to 50 % keeps every one of them', () => {
      const quarter = served(compile([flag({ rules: [rule([], percent(25))] })]))
      const half = served(compile([flag({ rules: [rule([], percent(50))] })]))
      expect(share(quarter, 'on')).to.be.closeTo(0.25, 0.005)
      expect(share(half, 'on')).to.be.closeTo(0.5, 0.005)
      const lost = users.filter((_, i) => quarter[i] === 'on' && half[i] !== 'on')
      expect(lost).to.deep.equal([])
    })

    it('is sticky: the same user gets the same variant from every compile of the snapshot', () => {
      const first = served(compile([flag({ rules: [rule([], percent(30))] })], [], 1)).slice(0, 2000)
      const other = flag({ key: 'unrelated', rules: [rule([], percent(70))] })
      const again = served(compile([other, flag({ rules: [rule([], percent(30))] })], [], 2)).slice(0, 2000)
      expect(again).to.deep.equal(first)
    })

    it('buckets by the attribute the rollout names', () => {
      const byOrg = compile([flag({ rules: [rule([], onOffRollout(50_000, 50_000, { by: 'orgId' }))] })])
      const orgs = Array.from({ length: 200 }, (_, i) => `org-${i}`)
      for (const orgId of orgs) {
        const one = byOrg.evaluate(KEY, { orgId, userId: 'ada' })
        expect(byOrg.evaluate(KEY, { orgId, userId: 'bob' }).variant, 'one answer per org').to.equal(one.variant)
        expect(one.bucket).to.equal(bucketOf(KEY, orgId))
      }
      expect(new Set(orgs.map((orgId) => byOrg.evaluate(KEY, { orgId }).variant)).size, 'both variants served').to.equal(2)
      expect(byOrg.evaluate(KEY, { userId: 'ada' }).reason).to.equal('TARGETING_KEY_MISSING')
    })

    it('splits three variants close to their weights', () => {
      const variants = [
        { name: 'a', value: 'a' },
        { name: 'b', value: 'b' },
        { name: 'c', value: 'c' },
        { name: 'off', value: 'off' },
      ]
      const three = rollout([
        { variant: 'a', weight: 20_000 },
        { variant: 'b', weight: 30_000 },
        { variant: 'c', weight: 50_000 },
      ])
      const all = served(compile([flag({ type: 'string', variants, rules: [rule([], three)] })]))
      expect(share(all, 'a')).to.be.closeTo(0.2, 0.005)
      expect(share(all, 'b')).to.be.closeTo(0.3, 0.005)
      expect(share(all, 'c')).to.be.closeTo(0.5, 0.005)
    })

    it('gives each variant its contiguous range in declared order, skipping a zero weight', () => {
      const variants = [
        { name: 'none', value: false },
        { name: 'on', value: true },
        { name: 'off', value: false },
      ]
      const ranges = rollout([
        { variant: 'none', weight: 0 },
        { variant: 'on', weight: 40_000 },
        { variant: 'off', weight: 60_000 },
      ])
      const ranged = compile([flag({ variants, rules: [rule([], ranges)] })])
      for (const user of users.slice(0, 3000)) {
        const { bucket, variant } = ranged.evaluate(KEY, { userId: user })
        expect(variant).to.equal((bucket as number) < 40_000 ? 'on' : 'off')
      }
    })
  })

  describe('explain', () => {
    const staff: SegmentDefinition = { name: 'staff', description: 'our people', conditions: [when('emailDomain', 'equals', 'example.com')] }
    const flags = compile(
      [
        flag({
          rules: [
            { ...rule([when('role', 'equals', 'admin'), when('plan', 'equals', 'pro')]), description: 'paying admins' },
            rule([], { variant: 'on' }, ['staff']),
            rule([when('userId', 'startsWith', 'a')], { variant: 'off' }),
          ],
        }),
      ],
      [staff],
    )

    it('names the deciding rule and the condition that failed before it, in plain JSON', () => {
      const context = { role: 'admin', plan: 'free', email: 'Ada@Example.com', userId: 'ada' }
      const explanation = flags.explain(KEY, context)
      expect(explanation.evaluation).to.deep.equal(flags.evaluate(KEY, context))
      expect(explanation.evaluation).to.include({ reason: 'TARGETING_MATCH', ruleIndex: 1 })
      expect(explanation.enabled).to.equal(true)
      const [paying, ours, last] = explanation.rules
      expect(paying).to.deep.include({ index: 0, description: 'paying admins', valid: true, matched: false })
      expect(paying?.conditions.map((c) => [c.attribute, c.actual, c.held])).to.deep.equal([
        ['role', 'admin', true],
        ['plan', 'free', false],
      ])
      expect(ours?.matched).to.equal(true)
      expect(ours?.segments).to.deep.equal([
        {
          name: 'staff',
          found: true,
          held: true,
          conditions: [{ attribute: 'emailDomain', operator: 'equals', values: ['example.com'], actual: 'example.com', valid: true, held: true }],
        },
      ])
      expect(last?.matched, 'later rules are checked too').to.equal(true)
      expect(JSON.parse(JSON.stringify(explanation))).to.deep.equal(explanation)
    })

    it('shows absent attributes as null, and a disabled or unknown flag', () => {
      expect(flags.explain(KEY, {}).rules[0]?.conditions[0]?.actual).to.equal(null)
      expect(flags.explain('missing', {})).to.deep.equal({
        key: 'missing',
        evaluation: { key: 'missing', value: undefined, variant: undefined, reason: 'FLAG_NOT_FOUND' },
        enabled: false,
        rules: [],
      })
      const off = compile([flag({ enabled: false, rules: [rule([])] })]).explain(KEY, {})
      expect(off).to.deep.include({ enabled: false })
      expect(off.evaluation.reason).to.equal('DISABLED')
      expect(off.rules[0]?.matched).to.equal(true)
    })
  })
})
