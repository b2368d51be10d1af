/**
 * Differential test: Gantry's condition operators against unleash-client's constraint operators, the outside
 * reference, on a table of constraint values × context values. Each cell is one flag in Gantry (enabled, one
 * rule with the one condition serving `on`, default `off`) and one feature in Unleash (enabled, one `default`
 * strategy carrying the one equivalent constraint), and both must decide the same — except the cells listed
 * in EXPECTED_DISAGREEMENTS (a deliberate, documented difference: docs/flags.md, operators.ts) and in
 * KNOWN_DEFECTS (Gantry is wrong there: the test asserts the correct answer, so it fails until fixed).
 *
 * The operators the two share: in/notIn/startsWith/endsWith/lt/lte/gt/gte/semverEq/semverLt/semverLte/
 * semverGt/semverGte ↔ IN/NOT_IN/STR_STARTS_WITH/STR_ENDS_WITH/NUM_LT/NUM_LTE/NUM_GT/NUM_GTE/SEMVER_EQ/
 * SEMVER_LT/SEMVER_LTE/SEMVER_GT/SEMVER_GTE (unleash-client 6.12.1, lib/strategy/strategy.js). `in` is also
 * checked against NOT_IN with `inverted`, `notIn` against IN with `inverted`; on `email` the string operators
 * carry `caseInsensitive` (Gantry compares email without case; Unleash's IN/NOT_IN have no such option).
 * The attributes: custom ones (`plan`, `email`, `orders`, `appVersion`), which Unleash reads from
 * `properties`, and `userId`, which it reads from the top of its context. Context values are mostly text, as
 * Unleash's context holds them (it reads every value through String()), plus some numbers as an app passes
 * them. An absent attribute and the empty string are cells of every row: both sides hold notIn / NOT_IN (and
 * inverted IN) for an absent attribute, and nothing else.
 *
 * 3,340 cells (187 of them expected disagreements). Empty condition values are not cells: Gantry refuses them
 * on save (an empty prefix would hold for every value). A new disagreement fails the operator's test with the
 * cell's name, both answers and (when listed) the expected ones; AGREEMENT_DUMP=1 prints every disagreeing
 * cell in the tables' form.
 *
 * Not compared: percentage rollouts. The bucket ranges differ by design (Gantry hashes into 0–99,999,
 * Unleash normalises into 1–100), so the same user need not land on the same side of the same share; the
 * flags benchmark (bench/benchmarks/flags.mjs) checks only that both serve the share. Nor IN_CIDR/inCidr
 * (Unleash reads `remoteAddress` only through ip-address, with its own notion of valid addresses), nor the
 * operators only one side has (equals, NUM_EQ, STR_CONTAINS, DATE_*, REGEX).
 *
 * Unleash runs offline as in the benchmark: features from `bootstrap.data`, `refreshInterval: 0` (no
 * fetching), `disableMetrics`, an in-memory storage, a URL where nothing listens; any `error` it emits fails.
 */
import { expect } from 'chai'
import { InMemStorageProvider, Unleash, type UnleashConfig } from 'unleash-client'
import { compileFlags, type CompiledFlags } from '../../../src/core/flags/evaluate.js'
import { flagDefinitionSchema, type ConditionOperator, type EvaluationContext } from '../../../src/core/flags/flags.schema.js'
import { booleanFlag } from '../../helpers/flag-fixtures.js'

type UnleashFeature = NonNullable<NonNullable<UnleashConfig['bootstrap']>['data']>[number]
type UnleashOperator =
  | 'IN'
  | 'NOT_IN'
  | 'STR_STARTS_WITH'
  | 'STR_ENDS_WITH'
  | 'NUM_LT'
  | 'NUM_LTE'
  | 'NUM_GT'
  | 'NUM_GTE'
  | 'SEMVER_EQ'
  | 'SEMVER_LT'
  | 'SEMVER_LTE'
  | 'SEMVER_GT'
  | 'SEMVER_GTE'
type SharedOperator = Exclude<ConditionOperator, 'equals' | 'inCidr'>

/** The Unleash constraints equivalent to a Gantry operator: the operator, and for in/notIn the other one inverted. */
const UNLEASH_FORMS: Readonly<Record<SharedOperator, readonly { operator: UnleashOperator; inverted: boolean }[]>> = {
  in: [
    { operator: 'IN', inverted: false },
    { operator: 'NOT_IN', inverted: true },
  ],
  notIn: [
    { operator: 'NOT_IN', inverted: false },
    { operator: 'IN', inverted: true },
  ],
  startsWith: [{ operator: 'STR_STARTS_WITH', inverted: false }],
  endsWith: [{ operator: 'STR_ENDS_WITH', inverted: false }],
  lt: [{ operator: 'NUM_LT', inverted: false }],
  lte: [{ operator: 'NUM_LTE', inverted: false }],
  gt: [{ operator: 'NUM_GT', inverted: false }],
  gte: [{ operator: 'NUM_GTE', inverted: false }],
  semverEq: [{ operator: 'SEMVER_EQ', inverted: false }],
  semverLt: [{ operator: 'SEMVER_LT', inverted: false }],
  semverLte: [{ operator: 'SEMVER_LTE', inverted: false }],
  semverGt: [{ operator: 'SEMVER_GT', inverted: false }],
  semverGte: [{ operator: 'SEMVER_GTE', inverted: false }],
}
/** Unleash's number and version operators read one `value`; the others a list of `values`. */
const SINGLE_VALUE = /^(NUM|SEMVER)_/

/**
 * A context value; ABSENT leaves the attribute out of both contexts. A number goes to both as a number (an
 * app passes numbers; Unleash reads it through String()).
 */
const ABSENT = null
type ContextValue = string | number | typeof ABSENT

const PLAN: readonly ContextValue[] = [
  ABSENT,
  '',
  ' ',
  'pro',
  'Pro',
  'PRO',
  ' pro',
  'pro ',
  'team',
  'professional',
  'pro-eu',
  'eu-pro',
  'café',
  'cafe\u0301',
  'CAFÉ',
  '10',
  '😀pro',
  'pro😀',
]
const EMAIL: readonly ContextValue[] = [
  ABSENT,
  '',
  'ada@example.com',
  'Ada@Example.com',
  'ADA@EXAMPLE.COM',
  ' ada@example.com',
  'ada@example.com.evil',
  'bob@example.com',
  'åsa@example.com',
  'ÅSA@EXAMPLE.COM',
]
const USER_ID: readonly ContextValue[] = [ABSENT, '', '42', '042', ' 42', '7', 'user-1', 'USER-1', 'ops-admin', '99.5', '100', '1e3', 42, 7, 100]
// Unleash reads a context's number through Number() (' ' is 0, '0x10' 16, '0b1' 1, 'Infinity' infinite); Gantry
// reads it as a condition's value, decimal only (operators.ts contextNumber): the cells where that differs are listed.
const NUMBER: readonly ContextValue[] = [
  ABSENT,
  '',
  ' ',
  '10',
  '9',
  '10.0',
  '9.99',
  '9.5',
  '10.5',
  '10.000001',
  '-3',
  '-3.5',
  '-10',
  '-0',
  '0',
  '-0.5',
  '1e3',
  '1000',
  '999.999',
  ' 10 ',
  '+5',
  '.5',
  '5.',
  '0x10',
  '0b1',
  'abc',
  '10abc',
  '1,5',
  'Infinity',
  '-Infinity',
  'NaN',
  10,
  9,
  9.5,
  10.5,
  -3,
  -0.5,
  0,
  -0,
  1000,
]
const SEMVER: readonly ContextValue[] = [
  ABSENT,
  '',
  '1.0.0',
  '1.0.0-beta.2',
  '1.0.0-beta.10',
  '1.0.0-beta.11',
  '1.0.0-beta',
  '1.0.0-alpha',
  '1.0.0-Beta.2',
  '1.0.0-rc.1',
  '1.0.0+build.7',
  '1.0.0-beta.2+exp.sha.5114f85',
  '0.9.9',
  '1.0.1',
  '1.10.0',
  '1.9.0',
  '2.0.0',
  '10.0.0',
  '1.0',
  '1',
  '1.0.0.0',
  'v1.0.0',
  'V1.0.0',
  '=1.0.0',
  ' 1.0.0',
  '1.0.0 ',
  '01.0.0',
  '1.0.0-01',
  'latest',
]

interface Condition {
  readonly attribute: string
  readonly operator: SharedOperator
  readonly values: readonly string[]
  readonly contexts: readonly ContextValue[]
}
const each = (attribute: string, operators: readonly SharedOperator[], valueLists: readonly (readonly string[])[], contexts: readonly ContextValue[]) =>
  operators.flatMap((operator) => valueLists.map((values): Condition => ({ attribute, operator, values, contexts })))

const NUMBER_OPERATORS: readonly SharedOperator[] = ['lt', 'lte', 'gt', 'gte']
const SEMVER_OPERATORS: readonly SharedOperator[] = ['semverEq', 'semverLt', 'semverLte', 'semverGt', 'semverGte']

const CONDITIONS: readonly Condition[] = [
  ...each('plan', ['in'], [['pro'], ['pro', 'team'], ['Pro'], [' pro'], ['pro '], ['café'], ['10']], PLAN),
  ...each('plan', ['notIn'], [['pro'], ['pro', 'team'], [' pro'], ['café']], PLAN),
  ...each('plan', ['startsWith'], [['pro'], ['Pro'], ['eu', 'pro'], [' pro'], ['😀'], ['caf']], PLAN),
  ...each('plan', ['endsWith'], [['pro'], ['-eu', '-pro'], ['é'], ['\u0301'], ['pro '], ['😀']], PLAN),
  ...each('email', ['in', 'notIn'], [['ada@example.com'], ['ADA@example.com'], ['åsa@example.com']], EMAIL),
  ...each('email', ['startsWith'], [['ada@'], ['Ada@'], ['åsa@']], EMAIL),
  ...each('email', ['endsWith'], [['@example.com'], ['@EXAMPLE.com']], EMAIL),
  ...each('userId', ['in', 'notIn'], [['42', '7'], ['042']], USER_ID),
  ...each('userId', ['startsWith'], [['user-']], USER_ID),
  ...each('userId', ['endsWith'], [['-admin']], USER_ID),
  ...each('userId', NUMBER_OPERATORS, [['100'], ['42']], USER_ID),
  ...each('orders', NUMBER_OPERATORS, [['10'], ['9.5'], ['-3'], ['0'], ['-0.5'], ['1e3'], ['+5'], ['.5']], NUMBER),
  // Values Gantry's checks refuse (hex, Infinity): a stored flag cannot hold them, and its evaluator never matches them.
  ...each('orders', ['gt'], [['0x10'], ['Infinity']], NUMBER),
  ...each('appVersion', SEMVER_OPERATORS, [['1.0.0'], ['1.0.0-beta.2'], ['1.0.0-beta.10'], ['1.0.0+build.5'], ['v1.0.0'], ['1.10.0']], SEMVER),
  // Not a version: both sides never match.
  ...each('appVersion', ['semverEq', 'semverLt'], [['1.0']], SEMVER),
]

/** A cell's name in the tables below: `operator attribute [values] | UNLEASH_FORM | context`. */
function cellName(condition: Condition, form: { operator: UnleashOperator; inverted: boolean }, value: ContextValue): string {
  const unleash = `${form.inverted ? 'not ' : ''}${form.operator}`
  const context = value === ABSENT ? `${condition.attribute} absent` : `${condition.attribute}=${Object.is(value, -0) ? '-0' : JSON.stringify(value)}`
  return `${condition.operator} ${condition.attribute} ${JSON.stringify(condition.values)} | ${unleash} | ${context}`
}

interface Disagreement {
  readonly why: string
  readonly gantry: boolean
  readonly unleash: boolean
  readonly cells: readonly string[]
}
/** Cells where the two differ on purpose: Gantry's answer is the documented one. */
const EXPECTED_DISAGREEMENTS: readonly Disagreement[] = [
  {
    why: 'Unleash trims every constraint value (cleanValues); Gantry compares a stored value exactly, blanks included (docs/flags.md: everything else exactly)',
    gantry: false,
    unleash: true,
    cells: [
      'in plan [" pro"] | IN | plan="pro"',
      'in plan [" pro"] | not NOT_IN | plan="pro"',
      'in plan ["pro "] | IN | plan="pro"',
      'in plan ["pro "] | not NOT_IN | plan="pro"',
      'notIn plan [" pro"] | NOT_IN | plan=" pro"',
      'notIn plan [" pro"] | not IN | plan=" pro"',
      'startsWith plan [" pro"] | STR_STARTS_WITH | plan="pro"',
      'startsWith plan [" pro"] | STR_STARTS_WITH | plan="pro "',
      'startsWith plan [" pro"] | STR_STARTS_WITH | plan="professional"',
      'startsWith plan [" pro"] | STR_STARTS_WITH | plan="pro-eu"',
      'startsWith plan [" pro"] | STR_STARTS_WITH | plan="pro😀"',
      'endsWith plan ["pro "] | STR_ENDS_WITH | plan="pro"',
      'endsWith plan ["pro "] | STR_ENDS_WITH | plan=" pro"',
      'endsWith plan ["pro "] | STR_ENDS_WITH | plan="eu-pro"',
      'endsWith plan ["pro "] | STR_ENDS_WITH | plan="😀pro"',
    ],
  },
  {
    why: 'Unleash trims every constraint value (cleanValues); Gantry compares a stored value exactly, blanks included (docs/flags.md: everything else exactly)',
    gantry: true,
    unleash: false,
    cells: [
      'in plan [" pro"] | IN | plan=" pro"',
      'in plan [" pro"] | not NOT_IN | plan=" pro"',
      'in plan ["pro "] | IN | plan="pro "',
      'in plan ["pro "] | not NOT_IN | plan="pro "',
      'notIn plan [" pro"] | NOT_IN | plan="pro"',
      'notIn plan [" pro"] | not IN | plan="pro"',
      'startsWith plan [" pro"] | STR_STARTS_WITH | plan=" pro"',
      'endsWith plan ["pro "] | STR_ENDS_WITH | plan="pro "',
    ],
  },
  {
    why: "Gantry compares email without case for every operator (docs/flags.md, operators.ts); Unleash's IN/NOT_IN have no caseInsensitive",
    gantry: true,
    unleash: false,
    cells: [
      'in email ["ada@example.com"] | IN | email="Ada@Example.com"',
      'in email ["ada@example.com"] | IN | email="ADA@EXAMPLE.COM"',
      'in email ["ada@example.com"] | not NOT_IN | email="Ada@Example.com"',
      'in email ["ada@example.com"] | not NOT_IN | email="ADA@EXAMPLE.COM"',
      'in email ["ADA@example.com"] | IN | email="ada@example.com"',
      'in email ["ADA@example.com"] | IN | email="Ada@Example.com"',
      'in email ["ADA@example.com"] | IN | email="ADA@EXAMPLE.COM"',
      'in email ["ADA@example.com"] | not NOT_IN | email="ada@example.com"',
      'in email ["ADA@example.com"] | not NOT_IN | email="Ada@Example.com"',
      'in email ["ADA@example.com"] | not NOT_IN | email="ADA@EXAMPLE.COM"',
      'in email ["åsa@example.com"] | IN | email="ÅSA@EXAMPLE.COM"',
      'in email ["åsa@example.com"] | not NOT_IN | email="ÅSA@EXAMPLE.COM"',
    ],
  },
  {
    why: "Gantry compares email without case for every operator (docs/flags.md, operators.ts); Unleash's IN/NOT_IN have no caseInsensitive",
    gantry: false,
    unleash: true,
    cells: [
      'notIn email ["ada@example.com"] | NOT_IN | email="Ada@Example.com"',
      'notIn email ["ada@example.com"] | NOT_IN | email="ADA@EXAMPLE.COM"',
      'notIn email ["ada@example.com"] | not IN | email="Ada@Example.com"',
      'notIn email ["ada@example.com"] | not IN | email="ADA@EXAMPLE.COM"',
      'notIn email ["ADA@example.com"] | NOT_IN | email="ada@example.com"',
      'notIn email ["ADA@example.com"] | NOT_IN | email="Ada@Example.com"',
      'notIn email ["ADA@example.com"] | NOT_IN | email="ADA@EXAMPLE.COM"',
      'notIn email ["ADA@example.com"] | not IN | email="ada@example.com"',
      'notIn email ["ADA@example.com"] | not IN | email="Ada@Example.com"',
      'notIn email ["ADA@example.com"] | not IN | email="ADA@EXAMPLE.COM"',
      'notIn email ["åsa@example.com"] | NOT_IN | email="ÅSA@EXAMPLE.COM"',
      'notIn email ["åsa@example.com"] | not IN | email="ÅSA@EXAMPLE.COM"',
    ],
  },
  {
    why: "an empty string is an absent attribute in Gantry (false for all but notIn); Unleash reads Number('') as 0",
    gantry: false,
    unleash: true,
    cells: [
      'lt userId ["100"] | NUM_LT | userId=""',
      'lt userId ["42"] | NUM_LT | userId=""',
      'lte userId ["100"] | NUM_LTE | userId=""',
      'lte userId ["42"] | NUM_LTE | userId=""',
      'lt orders ["10"] | NUM_LT | orders=""',
      'lt orders ["9.5"] | NUM_LT | orders=""',
      'lt orders ["1e3"] | NUM_LT | orders=""',
      'lt orders ["+5"] | NUM_LT | orders=""',
      'lt orders [".5"] | NUM_LT | orders=""',
      'lte orders ["10"] | NUM_LTE | orders=""',
      'lte orders ["9.5"] | NUM_LTE | orders=""',
      'lte orders ["0"] | NUM_LTE | orders=""',
      'lte orders ["1e3"] | NUM_LTE | orders=""',
      'lte orders ["+5"] | NUM_LTE | orders=""',
      'lte orders [".5"] | NUM_LTE | orders=""',
      'gt orders ["-3"] | NUM_GT | orders=""',
      'gt orders ["-0.5"] | NUM_GT | orders=""',
      'gte orders ["-3"] | NUM_GTE | orders=""',
      'gte orders ["0"] | NUM_GTE | orders=""',
      'gte orders ["-0.5"] | NUM_GTE | orders=""',
    ],
  },
  {
    why: "Gantry's numbers are decimal only, so a condition holding 0x10 never matches (operators.ts; its checks refuse it); Unleash reads Number('0x10') as 16",
    gantry: false,
    unleash: true,
    cells: [
      'gt orders ["0x10"] | NUM_GT | orders="1e3"',
      'gt orders ["0x10"] | NUM_GT | orders="1000"',
      'gt orders ["0x10"] | NUM_GT | orders="999.999"',
      'gt orders ["0x10"] | NUM_GT | orders="Infinity"',
      'gt orders ["0x10"] | NUM_GT | orders=1000',
    ],
  },
  {
    why: "Gantry reads a context's number as it reads a condition's: decimal only, so blanks, padding, hex, binary and Infinity are no numbers (operators.ts contextNumber); Unleash reads them with Number()",
    gantry: false,
    unleash: true,
    cells: [
      'lt userId ["100"] | NUM_LT | userId=" 42"',
      'lt orders ["10"] | NUM_LT | orders=" "',
      'lt orders ["10"] | NUM_LT | orders="0b1"',
      'lt orders ["10"] | NUM_LT | orders="-Infinity"',
      'lt orders ["9.5"] | NUM_LT | orders=" "',
      'lt orders ["9.5"] | NUM_LT | orders="0b1"',
      'lt orders ["9.5"] | NUM_LT | orders="-Infinity"',
      'lt orders ["-3"] | NUM_LT | orders="-Infinity"',
      'lt orders ["0"] | NUM_LT | orders="-Infinity"',
      'lt orders ["-0.5"] | NUM_LT | orders="-Infinity"',
      'lt orders ["1e3"] | NUM_LT | orders=" "',
      'lt orders ["1e3"] | NUM_LT | orders=" 10 "',
      'lt orders ["1e3"] | NUM_LT | orders="0x10"',
      'lt orders ["1e3"] | NUM_LT | orders="0b1"',
      'lt orders ["1e3"] | NUM_LT | orders="-Infinity"',
      'lt orders ["+5"] | NUM_LT | orders=" "',
      'lt orders ["+5"] | NUM_LT | orders="0b1"',
      'lt orders ["+5"] | NUM_LT | orders="-Infinity"',
      'lt orders [".5"] | NUM_LT | orders=" "',
      'lt orders [".5"] | NUM_LT | orders="-Infinity"',
      'lte userId ["100"] | NUM_LTE | userId=" 42"',
      'lte userId ["42"] | NUM_LTE | userId=" 42"',
      'lte orders ["10"] | NUM_LTE | orders=" "',
      'lte orders ["10"] | NUM_LTE | orders=" 10 "',
      'lte orders ["10"] | NUM_LTE | orders="0b1"',
      'lte orders ["10"] | NUM_LTE | orders="-Infinity"',
      'lte orders ["9.5"] | NUM_LTE | orders=" "',
      'lte orders ["9.5"] | NUM_LTE | orders="0b1"',
      'lte orders ["9.5"] | NUM_LTE | orders="-Infinity"',
      'lte orders ["-3"] | NUM_LTE | orders="-Infinity"',
      'lte orders ["0"] | NUM_LTE | orders=" "',
      'lte orders ["0"] | NUM_LTE | orders="-Infinity"',
      'lte orders ["-0.5"] | NUM_LTE | orders="-Infinity"',
      'lte orders ["1e3"] | NUM_LTE | orders=" "',
      'lte orders ["1e3"] | NUM_LTE | orders=" 10 "',
      'lte orders ["1e3"] | NUM_LTE | orders="0x10"',
      'lte orders ["1e3"] | NUM_LTE | orders="0b1"',
      'lte orders ["1e3"] | NUM_LTE | orders="-Infinity"',
      'lte orders ["+5"] | NUM_LTE | orders=" "',
      'lte orders ["+5"] | NUM_LTE | orders="0b1"',
      'lte orders ["+5"] | NUM_LTE | orders="-Infinity"',
      'lte orders [".5"] | NUM_LTE | orders=" "',
      'lte orders [".5"] | NUM_LTE | orders="-Infinity"',
      'gt orders ["10"] | NUM_GT | orders="0x10"',
      'gt orders ["10"] | NUM_GT | orders="Infinity"',
      'gt orders ["9.5"] | NUM_GT | orders=" 10 "',
      'gt orders ["9.5"] | NUM_GT | orders="0x10"',
      'gt orders ["9.5"] | NUM_GT | orders="Infinity"',
      'gt orders ["-3"] | NUM_GT | orders=" "',
      'gt orders ["-3"] | NUM_GT | orders=" 10 "',
      'gt orders ["-3"] | NUM_GT | orders="0x10"',
      'gt orders ["-3"] | NUM_GT | orders="0b1"',
      'gt orders ["-3"] | NUM_GT | orders="Infinity"',
      'gt orders ["0"] | NUM_GT | orders=" 10 "',
      'gt orders ["0"] | NUM_GT | orders="0x10"',
      'gt orders ["0"] | NUM_GT | orders="0b1"',
      'gt orders ["0"] | NUM_GT | orders="Infinity"',
      'gt orders ["-0.5"] | NUM_GT | orders=" "',
      'gt orders ["-0.5"] | NUM_GT | orders=" 10 "',
      'gt orders ["-0.5"] | NUM_GT | orders="0x10"',
      'gt orders ["-0.5"] | NUM_GT | orders="0b1"',
      'gt orders ["-0.5"] | NUM_GT | orders="Infinity"',
      'gt orders ["1e3"] | NUM_GT | orders="Infinity"',
      'gt orders ["+5"] | NUM_GT | orders=" 10 "',
      'gt orders ["+5"] | NUM_GT | orders="0x10"',
      'gt orders ["+5"] | NUM_GT | orders="Infinity"',
      'gt orders [".5"] | NUM_GT | orders=" 10 "',
      'gt orders [".5"] | NUM_GT | orders="0x10"',
      'gt orders [".5"] | NUM_GT | orders="0b1"',
      'gt orders [".5"] | NUM_GT | orders="Infinity"',
      'gte userId ["42"] | NUM_GTE | userId=" 42"',
      'gte orders ["10"] | NUM_GTE | orders=" 10 "',
      'gte orders ["10"] | NUM_GTE | orders="0x10"',
      'gte orders ["10"] | NUM_GTE | orders="Infinity"',
      'gte orders ["9.5"] | NUM_GTE | orders=" 10 "',
      'gte orders ["9.5"] | NUM_GTE | orders="0x10"',
      'gte orders ["9.5"] | NUM_GTE | orders="Infinity"',
      'gte orders ["-3"] | NUM_GTE | orders=" "',
      'gte orders ["-3"] | NUM_GTE | orders=" 10 "',
      'gte orders ["-3"] | NUM_GTE | orders="0x10"',
      'gte orders ["-3"] | NUM_GTE | orders="0b1"',
      'gte orders ["-3"] | NUM_GTE | orders="Infinity"',
      'gte orders ["0"] | NUM_GTE | orders=" "',
      'gte orders ["0"] | NUM_GTE | orders=" 10 "',
      'gte orders ["0"] | NUM_GTE | orders="0x10"',
      'gte orders ["0"] | NUM_GTE | orders="0b1"',
      'gte orders ["0"] | NUM_GTE | orders="Infinity"',
      'gte orders ["-0.5"] | NUM_GTE | orders=" "',
      'gte orders ["-0.5"] | NUM_GTE | orders=" 10 "',
      'gte orders ["-0.5"] | NUM_GTE | orders="0x10"',
      'gte orders ["-0.5"] | NUM_GTE | orders="0b1"',
      'gte orders ["-0.5"] | NUM_GTE | orders="Infinity"',
      'gte orders ["1e3"] | NUM_GTE | orders="Infinity"',
      'gte orders ["+5"] | NUM_GTE | orders=" 10 "',
      'gte orders ["+5"] | NUM_GTE | orders="0x10"',
      'gte orders ["+5"] | NUM_GTE | orders="Infinity"',
      'gte orders [".5"] | NUM_GTE | orders=" 10 "',
      'gte orders [".5"] | NUM_GTE | orders="0x10"',
      'gte orders [".5"] | NUM_GTE | orders="0b1"',
      'gte orders [".5"] | NUM_GTE | orders="Infinity"',
    ],
  },
  {
    why: 'Gantry reads a version with a leading v (operators.ts parseVersion, semver.parse); Unleash refuses a context version starting with v',
    gantry: true,
    unleash: false,
    cells: [
      'semverEq appVersion ["1.0.0"] | SEMVER_EQ | appVersion="v1.0.0"',
      'semverEq appVersion ["1.0.0+build.5"] | SEMVER_EQ | appVersion="v1.0.0"',
      'semverEq appVersion ["v1.0.0"] | SEMVER_EQ | appVersion="v1.0.0"',
      'semverLt appVersion ["1.10.0"] | SEMVER_LT | appVersion="v1.0.0"',
      'semverLte appVersion ["1.0.0"] | SEMVER_LTE | appVersion="v1.0.0"',
      'semverLte appVersion ["1.0.0+build.5"] | SEMVER_LTE | appVersion="v1.0.0"',
      'semverLte appVersion ["v1.0.0"] | SEMVER_LTE | appVersion="v1.0.0"',
      'semverLte appVersion ["1.10.0"] | SEMVER_LTE | appVersion="v1.0.0"',
      'semverGt appVersion ["1.0.0-beta.2"] | SEMVER_GT | appVersion="v1.0.0"',
      'semverGt appVersion ["1.0.0-beta.10"] | SEMVER_GT | appVersion="v1.0.0"',
      'semverGte appVersion ["1.0.0"] | SEMVER_GTE | appVersion="v1.0.0"',
      'semverGte appVersion ["1.0.0-beta.2"] | SEMVER_GTE | appVersion="v1.0.0"',
      'semverGte appVersion ["1.0.0-beta.10"] | SEMVER_GTE | appVersion="v1.0.0"',
      'semverGte appVersion ["1.0.0+build.5"] | SEMVER_GTE | appVersion="v1.0.0"',
      'semverGte appVersion ["v1.0.0"] | SEMVER_GTE | appVersion="v1.0.0"',
    ],
  },
]

interface Defect {
  readonly why: string
  /** What Gantry must answer (Unleash already does). */
  readonly correct: boolean
  readonly cells: readonly string[]
}
/**
 * Cells where Gantry is wrong: the test asserts the correct answer, so it fails until Gantry is fixed. None
 * so far: every disagreement found is one of the deliberate differences above.
 */
const KNOWN_DEFECTS: readonly Defect[] = []

interface Cell {
  readonly name: string
  readonly gantryOperator: SharedOperator
  readonly gantry: boolean
  readonly unleash: boolean
}

async function offlineUnleash(features: UnleashFeature[]): Promise<{ unleash: Unleash; errors: string[] }> {
  const unleash = new Unleash({
    appName: 'gantry-agreement-test',
    url: 'http://127.0.0.1:1/api/',
    refreshInterval: 0,
    disableMetrics: true,
    metricsInterval: 0,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: features },
    skipInstanceCountWarning: true,
  })
  const errors: string[] = []
  unleash.on('error', (err: Error) => errors.push(err.message))
  let timer: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`unleash-client did not synchronize from its bootstrap (${errors.join('; ') || 'no error'})`)), 4_000)
      unleash.once('synchronized', () => resolve())
    })
  } finally {
    clearTimeout(timer)
  }
  expect(unleash.isSynchronized(), 'isSynchronized() after synchronized').to.equal(true)
  return { unleash, errors }
}

describe('flag operators agree with unleash-client (differential)', function () {
  let unleash: Unleash
  let errors: string[]
  let gantry: CompiledFlags
  const cells: Cell[] = []

  before(async function () {
    // One Gantry flag and one Unleash feature per cell's condition and Unleash form.
    const probes: { key: string; condition: Condition; form: { operator: UnleashOperator; inverted: boolean } }[] = []
    CONDITIONS.forEach((condition, c) => UNLEASH_FORMS[condition.operator].forEach((form, f) => probes.push({ key: `cell-${c}-${f}`, condition, form })))
    const flags = probes.map(({ key, condition }) =>
      flagDefinitionSchema.parse(
        booleanFlag(key, {
          rules: [{ conditions: [{ attribute: condition.attribute, operator: condition.operator, values: [...condition.values] }], serve: { variant: 'on' } }],
        }),
      ),
    )
    gantry = compileFlags({ version: 1, flags, segments: [] })
    const features = probes.map(({ key, condition, form }) => ({
      name: key,
      type: 'release',
      enabled: true,
      stale: false,
      impressionData: false,
      project: 'default',
      variants: [],
      strategies: [
        {
          name: 'default',
          parameters: {},
          constraints: [
            {
              contextName: condition.attribute,
              operator: form.operator,
              inverted: form.inverted,
              caseInsensitive: condition.attribute === 'email',
              ...(SINGLE_VALUE.test(form.operator) ? { value: condition.values[0], values: [] } : { values: [...condition.values] }),
            },
          ],
        },
      ],
    }))
    ;({ unleash, errors } = await offlineUnleash(features as unknown as UnleashFeature[]))
    for (const { key, condition, form } of probes)
      for (const value of condition.contexts) {
        const gantryContext: EvaluationContext = value === ABSENT ? {} : { [condition.attribute]: value }
        const attribute = value === ABSENT ? {} : { [condition.attribute]: value }
        const unleashContext = condition.attribute === 'userId' ? attribute : { properties: attribute }
        cells.push({
          name: cellName(condition, form, value),
          gantryOperator: condition.operator,
          gantry: gantry.evaluate(key, gantryContext).variant === 'on',
          unleash: unleash.isEnabled(key, unleashContext),
        })
      }
    if (process.env.AGREEMENT_DUMP)
      for (const cell of cells) if (cell.gantry !== cell.unleash) console.log(`${JSON.stringify(cell.name)}, // gantry ${cell.gantry}, unleash ${cell.unleash}`)
  })

  after(function () {
    unleash?.destroy()
  })

  it('compares every cell, and every listed cell exists and is listed once', function () {
    expect(cells.length).to.equal(3340)
    const names = new Set(cells.map((cell) => cell.name))
    expect(names.size, 'cell names are unique').to.equal(cells.length)
    const listed = [...EXPECTED_DISAGREEMENTS.flatMap((d) => d.cells), ...KNOWN_DEFECTS.flatMap((d) => d.cells)]
    expect(
      listed.filter((name) => !names.has(name)),
      'listed cells that the table does not generate',
    ).to.deep.equal([])
    expect(listed.length, 'a cell listed twice').to.equal(new Set(listed).size)
    expect(
      EXPECTED_DISAGREEMENTS.filter((d) => d.gantry === d.unleash).map((d) => d.why),
      'a disagreement where both answer alike',
    ).to.deep.equal([])
  })

  for (const operator of Object.keys(UNLEASH_FORMS) as SharedOperator[])
    it(`${operator}: decides as ${UNLEASH_FORMS[operator].map((form) => `${form.inverted ? 'inverted ' : ''}${form.operator}`).join(' and ')} does`, function () {
      const expected = new Map<string, { gantry: boolean; unleash: boolean }>()
      for (const d of EXPECTED_DISAGREEMENTS) for (const name of d.cells) expected.set(name, d)
      for (const d of KNOWN_DEFECTS) for (const name of d.cells) expected.set(name, { gantry: d.correct, unleash: d.correct })
      const mine = cells.filter((cell) => cell.gantryOperator === operator)
      // A harness answering the same for everything would agree everywhere: each operator must see both answers.
      expect(mine.filter((cell) => cell.gantry && cell.unleash).length, 'cells where both serve on').to.be.greaterThan(0)
      expect(mine.filter((cell) => !cell.gantry && !cell.unleash).length, 'cells where both serve off').to.be.greaterThan(0)
      const wrong = mine
        .filter((cell) => {
          const want = expected.get(cell.name)
          return want ? cell.gantry !== want.gantry || cell.unleash !== want.unleash : cell.gantry !== cell.unleash
        })
        .map((cell) => {
          const want = expected.get(cell.name)
          const wanted = want ? `; expected gantry ${want.gantry}, unleash ${want.unleash}` : ''
          return `${cell.name}: gantry ${cell.gantry}, unleash ${cell.unleash}${wanted}`
        })
      expect(wrong).to.deep.equal([])
    })

  it('Unleash stayed offline', function () {
    expect(errors).to.deep.equal([])
  })
})
