/**
 * The checks a flag and a segment pass before they are saved, beyond their schemas: each problem is
 * reported at its path, and a sound flag has none.
 */
import { expect } from 'chai'
import { flagProblems, segmentProblems, type FlagProblem } from '../../../../src/core/flags/flag-checks.js'
import type { Condition, FlagDefinition, Rule } from '../../../../src/core/flags/flags.schema.js'

const when = (attribute: string, operator: Condition['operator'], ...values: string[]): Condition => ({ attribute, operator, values })
const rule = (serve: Rule['serve'], conditions: Condition[] = [], segments: string[] = []): Rule => ({ description: '', conditions, segments, serve })

const sound: FlagDefinition = {
  key: 'checkout',
  description: '',
  type: 'string',
  variants: [
    { name: 'classic', value: 'classic' },
    { name: 'new', value: 'new' },
    { name: 'beta', value: 'beta' },
  ],
  defaultVariant: 'classic',
  offVariant: 'classic',
  enabled: true,
  rules: [
    rule({ variant: 'beta' }, [when('age', 'gte', '18'), when('v', 'semverGte', '1.2.3'), when('ip', 'inCidr', '10.0.0.0/8')], ['staff']),
    rule({
      rollout: {
        by: 'userId',
        fallback: 'classic',
        variants: [
          { variant: 'new', weight: 25_000 },
          { variant: 'classic', weight: 75_000 },
        ],
      },
    }),
  ],
  lifetime: 'temporary',
}
const SEGMENTS: ReadonlySet<string> = new Set(['staff'])

const problemsOf = (overrides: Partial<FlagDefinition>): FlagProblem[] => flagProblems({ ...sound, ...overrides }, SEGMENTS)
const pathsOf = (problems: readonly FlagProblem[]): string[] => problems.map(({ path }) => path)

describe('core/flags: flag checks', () => {
  it('finds nothing wrong with a sound flag', () => {
    expect(flagProblems(sound, SEGMENTS)).to.deep.equal([])
  })

  it('reports a variant declared twice', () => {
    const problems = problemsOf({ variants: [...sound.variants, { name: 'new', value: 'again' }] })
    expect(problems).to.deep.equal([{ path: 'variants[3].name', message: 'variant "new" is declared twice (also variants[1])' }])
  })

  it("reports variant values that are not of the flag's type", () => {
    const mixed = [
      { name: 'a', value: true },
      { name: 'b', value: 'text' },
      { name: 'c', value: 3 },
      { name: 'd', value: null },
      { name: 'e', value: { deep: [1] } },
    ]
    const wrong = (type: FlagDefinition['type']): string[] =>
      pathsOf(flagProblems({ ...sound, type, variants: mixed, defaultVariant: 'a', offVariant: 'a', rules: [] }, SEGMENTS))
    expect(wrong('boolean')).to.deep.equal(['variants[1].value', 'variants[2].value', 'variants[3].value', 'variants[4].value'])
    expect(wrong('string')).to.deep.equal(['variants[0].value', 'variants[2].value', 'variants[3].value', 'variants[4].value'])
    expect(wrong('number')).to.deep.equal(['variants[0].value', 'variants[1].value', 'variants[3].value', 'variants[4].value'])
    expect(wrong('json')).to.deep.equal([])
    expect(problemsOf({ type: 'number', variants: [{ name: 'classic', value: Number.NaN }], rules: [] })).to.deep.equal([
      { path: 'variants[0].value', message: "a number flag's variant needs a number value" },
    ])
  })

  it('reports a default or off variant the flag lacks', () => {
    expect(problemsOf({ defaultVariant: 'gone', offVariant: 'lost' })).to.deep.equal([
      { path: 'defaultVariant', message: 'the flag has no variant "gone"' },
      { path: 'offVariant', message: 'the flag has no variant "lost"' },
    ])
  })

  it('reports a rule serving a variant the flag lacks', () => {
    expect(pathsOf(problemsOf({ rules: [rule({ variant: 'classic' }), rule({ variant: 'gone' })] }))).to.deep.equal(['rules[1].serve.variant'])
  })

  it('reports what is wrong with a rollout: unknown or repeated variants, weights, fallback', () => {
    const rollout = {
      by: 'orgId',
      fallback: 'nowhere',
      variants: [
        { variant: 'new', weight: 50_000 },
        { variant: 'gone', weight: 10_000 },
        { variant: 'new', weight: 30_000 },
      ],
    }
    expect(problemsOf({ rules: [rule({ variant: 'beta' }), rule({ variant: 'new' }), rule({ rollout })] })).to.deep.equal([
      { path: 'rules[2].serve.rollout.variants[1].variant', message: 'the flag has no variant "gone"' },
      { path: 'rules[2].serve.rollout.variants[2].variant', message: 'variant "new" appears twice in the rollout' },
      { path: 'rules[2].serve.rollout.variants', message: 'the weights add up to 90000; they must add up to 100000 (100 %)' },
      { path: 'rules[2].serve.rollout.fallback', message: 'the flag has no variant "nowhere"' },
    ])
  })

  it('reports weights above the total too', () => {
    const over = {
      by: 'userId',
      fallback: 'classic',
      variants: [
        { variant: 'new', weight: 100_000 },
        { variant: 'classic', weight: 1 },
      ],
    }
    expect(pathsOf(problemsOf({ rules: [rule({ rollout: over })] }))).to.deep.equal(['rules[0].serve.rollout.variants'])
  })

  it('reports a segment that does not exist', () => {
    expect(problemsOf({ rules: [rule({ variant: 'new' }, [], ['staff', 'ghosts'])] })).to.deep.equal([
      { path: 'rules[0].segments[1]', message: 'there is no segment "ghosts"' },
    ])
  })

  it('reports condition values their operator cannot read', () => {
    const conditions = [
      when('plan', 'equals', 'anything goes'),
      when('age', 'lt', '18', 'ten'),
      when('v', 'semverGte', '1.2'),
      when('ip', 'inCidr', '10.0.0.0/8', '::1/129'),
    ]
    const problems = problemsOf({ rules: [rule({ variant: 'new' }), rule({ variant: 'new' }, conditions)] })
    expect(pathsOf(problems)).to.deep.equal(['rules[1].conditions[1].values[1]', 'rules[1].conditions[2].values[0]', 'rules[1].conditions[3].values[1]'])
    const [number, version, cidr] = problems.map(({ message }) => message)
    expect(number).to.match(/"ten" is not a number/)
    expect(version).to.match(/"1.2" is not a semantic version/)
    expect(cidr).to.match(/"::1\/129" is not an IP address or CIDR block/)
  })

  it("reports a segment's condition values", () => {
    const segment = { name: 'staff', description: '', conditions: [when('email', 'endsWith', '@example.com'), when('seats', 'gt', '')] }
    expect(segmentProblems(segment)).to.deep.equal([{ path: 'conditions[1].values[0]', message: '"" is not a number (like 10 or 2.5)' }])
    expect(segmentProblems({ ...segment, conditions: [when('email', 'endsWith', '@example.com')] })).to.deep.equal([])
  })
})
