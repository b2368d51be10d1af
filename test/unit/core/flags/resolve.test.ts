/**
 * resolveFlag, the typed resolution shared by `gantry.flags.value` and the OpenFeature provider, over the real
 * evaluator: each reason and error code, the caller's default whenever no flag value can be served, and the
 * conversion of an OpenFeature context into Gantry's.
 */
import { expect } from 'chai'
import { bucketOf } from '../../../../src/core/flags/evaluate.js'
import type { FlagReader } from '../../../../src/core/flags/flag-reader.js'
import { contextFromOpenFeature, resolveFlag, type ExpectedType } from '../../../../src/core/flags/resolve.js'
import type { JsonValue } from '../../../../src/core/flags/flags.schema.js'
import { ADMINS_AND_OPERATORS, booleanFlag, onOffRollout } from '../../../helpers/flag-fixtures.js'
import { flagSnapshot, TestFlagReader } from '../../../helpers/flag-reader.js'

const SNAPSHOT = flagSnapshot([
  booleanFlag('new-checkout', {
    rules: [
      ADMINS_AND_OPERATORS,
      { conditions: [{ attribute: 'plan', operator: 'equals', values: ['pro'] }], serve: onOffRollout(50_000, 50_000, { fallback: 'on' }) },
    ],
  }),
  booleanFlag('paused', { defaultVariant: 'on', enabled: false }),
  {
    key: 'theme',
    type: 'string',
    variants: [
      { name: 'light', value: 'light' },
      { name: 'dark', value: 'dark' },
    ],
    defaultVariant: 'light',
    offVariant: 'light',
    enabled: true,
  },
  { key: 'page-size', type: 'number', variants: [{ name: 'fifty', value: 50 }], defaultVariant: 'fifty', offVariant: 'fifty', enabled: true },
  {
    key: 'checkout-config',
    type: 'json',
    variants: [
      { name: 'v2', value: { steps: ['cart', 'pay'], retries: 2 } },
      { name: 'list', value: ['a', 'b'] },
      { name: 'none', value: null },
    ],
    defaultVariant: 'v2',
    offVariant: 'none',
    enabled: true,
    rules: [
      { conditions: [{ attribute: 'region', operator: 'equals', values: ['eu'] }], serve: { variant: 'list' } },
      { conditions: [{ attribute: 'region', operator: 'equals', values: ['us'] }], serve: { variant: 'none' } },
    ],
  },
  { key: 'text-config', type: 'json', variants: [{ name: 'plain', value: 'just text' }], defaultVariant: 'plain', offVariant: 'plain', enabled: true },
  // What the checks refuse on save, as a store edited by hand could still hold it.
  booleanFlag('broken', { defaultVariant: 'maybe' }),
])

describe('core/flags: resolveFlag', () => {
  const reader = new TestFlagReader(SNAPSHOT)

  it('serves the default with PROVIDER_NOT_READY until a snapshot has loaded, without evaluating', () => {
    // The test reader throws when evaluated unloaded: the resolution must not get that far.
    const resolution = resolveFlag(new TestFlagReader(), 'new-checkout', 'boolean', true, { role: 'admin' })
    expect(resolution).to.include({ value: true, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' })
    expect(resolution.errorMessage).to.match(/has loaded yet/)
    expect(resolution.variant).to.equal(undefined)
  })

  it('serves the default with FLAG_NOT_FOUND for a key the environment lacks', () => {
    const resolution = resolveFlag(reader, 'no-such-flag', 'string', 'fallback', {})
    expect(resolution).to.include({ value: 'fallback', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' })
    expect(resolution.errorMessage).to.contain('no-such-flag')
  })

  const mismatches: [string, ExpectedType, JsonValue, RegExp][] = [
    ['new-checkout', 'string', 'x', /is a boolean flag, read as string/],
    ['new-checkout', 'number', 7, /is a boolean flag, read as number/],
    ['new-checkout', 'object', {}, /is a boolean flag, read as object/],
    ['theme', 'boolean', false, /is a string flag, read as boolean/],
    ['page-size', 'string', '10', /is a number flag, read as string/],
    ['checkout-config', 'boolean', true, /is a json flag, read as boolean/],
    ['checkout-config', 'string', '{}', /is a json flag, read as string/],
    // The declared type decides, not the value served: a json flag serving text is still no string flag.
    ['text-config', 'string', 'x', /is a json flag, read as string/],
  ]
  for (const [key, expected, fallback, message] of mismatches)
    it(`serves the default with TYPE_MISMATCH: ${key} read as ${expected}`, () => {
      const resolution = resolveFlag(reader, key, expected, fallback, {})
      expect(resolution).to.deep.include({ value: fallback, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' })
      expect(resolution.errorMessage).to.match(message)
    })

  it('serves the off variant with DISABLED while the flag is off', () => {
    expect(resolveFlag(reader, 'paused', 'boolean', true, { role: 'admin' })).to.deep.equal({
      value: false,
      variant: 'off',
      reason: 'DISABLED',
      flagMetadata: {},
    })
  })

  it('serves a matching rule with TARGETING_MATCH and the rule in the metadata', () => {
    expect(resolveFlag(reader, 'new-checkout', 'boolean', false, { role: 'operator' })).to.deep.equal({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      flagMetadata: { ruleIndex: 0 },
    })
  })

  it('serves the default variant with DEFAULT when no rule matches', () => {
    expect(resolveFlag(reader, 'new-checkout', 'boolean', true, { role: 'viewer' })).to.deep.equal({
      value: false,
      variant: 'off',
      reason: 'DEFAULT',
      flagMetadata: {},
    })
  })

  it('serves a rollout with SPLIT, its rule and the bucket in the metadata', () => {
    for (const userId of ['u-1', 'u-2', 'u-3', 'u-4']) {
      const bucket = bucketOf('new-checkout', userId)
      expect(resolveFlag(reader, 'new-checkout', 'boolean', false, { plan: 'pro', userId })).to.deep.equal({
        value: bucket < 50_000,
        variant: bucket < 50_000 ? 'on' : 'off',
        reason: 'SPLIT',
        flagMetadata: { ruleIndex: 1, bucket },
      })
    }
  })

  it("serves a rollout's fallback variant with DEFAULT (not an error) when the context lacks the bucketing key, and says so in the metadata", () => {
    // The fallback is `on` and the caller's default false: the value shows whose it is.
    expect(resolveFlag(reader, 'new-checkout', 'boolean', false, { plan: 'pro' })).to.deep.equal({
      value: true,
      variant: 'on',
      reason: 'DEFAULT',
      flagMetadata: { ruleIndex: 1, gantryReason: 'TARGETING_KEY_MISSING' },
    })
  })

  it('reads a json flag as an object, whether it serves an object, a list or null', () => {
    expect(resolveFlag(reader, 'checkout-config', 'object', {}, {})).to.deep.include({
      value: { steps: ['cart', 'pay'], retries: 2 },
      variant: 'v2',
      reason: 'DEFAULT',
    })
    expect(resolveFlag(reader, 'checkout-config', 'object', {}, { region: 'eu' })).to.deep.include({
      value: ['a', 'b'],
      variant: 'list',
      reason: 'TARGETING_MATCH',
    })
    expect(resolveFlag(reader, 'checkout-config', 'object', {}, { region: 'us' })).to.deep.include({ value: null, variant: 'none', reason: 'TARGETING_MATCH' })
  })

  it('serves strings and numbers as they are', () => {
    expect(resolveFlag(reader, 'theme', 'string', 'dark', {})).to.include({ value: 'light', variant: 'light', reason: 'DEFAULT' })
    expect(resolveFlag(reader, 'page-size', 'number', 10, {})).to.include({ value: 50, variant: 'fifty', reason: 'DEFAULT' })
  })

  it('serves the default with PARSE_ERROR for a flag serving a variant it does not declare', () => {
    expect(resolveFlag(reader, 'broken', 'boolean', true, {})).to.deep.include({ value: true, reason: 'ERROR', errorCode: 'PARSE_ERROR' })
  })

  it('serves the default with GENERAL when the evaluation throws, rather than throwing into the caller', () => {
    const failing: FlagReader = {
      loaded: () => true,
      evaluate: () => {
        throw new Error('boom')
      },
      type: () => 'boolean',
      onChange: () => () => {},
    }
    const resolution = resolveFlag(failing, 'new-checkout', 'boolean', true, {})
    expect(resolution).to.include({ value: true, reason: 'ERROR', errorCode: 'GENERAL' })
    expect(resolution.errorMessage).to.contain('boom')
  })
})

describe('core/flags: contextFromOpenFeature', () => {
  it('keeps the targeting key, which the evaluator reads as userId when there is none', () => {
    expect(contextFromOpenFeature({ targetingKey: 'u-1' })).to.deep.equal({ targetingKey: 'u-1' })
    const reader = new TestFlagReader(SNAPSHOT)
    const byKey = resolveFlag(reader, 'new-checkout', 'boolean', false, contextFromOpenFeature({ targetingKey: 'u-1', plan: 'pro' }))
    expect(byKey).to.deep.include({ reason: 'SPLIT', flagMetadata: { ruleIndex: 1, bucket: bucketOf('new-checkout', 'u-1') } })
    // The library's callers and OpenFeature's get one rule: an explicit userId wins.
    const both = resolveFlag(reader, 'new-checkout', 'boolean', false, contextFromOpenFeature({ targetingKey: 'u-1', userId: 'u-2', plan: 'pro' }))
    expect(both.flagMetadata).to.deep.equal({ ruleIndex: 1, bucket: bucketOf('new-checkout', 'u-2') })
  })

  it('keeps strings, finite numbers, booleans and lists of strings; Dates as ISO text', () => {
    const signedUp = new Date('2026-03-01T12:00:00.000Z')
    expect(
      contextFromOpenFeature({ email: 'ada@example.com', age: 36, beta: false, permissions: ['orders:read', 'orders:write'], empty: [], signedUp }),
    ).to.deep.equal({
      email: 'ada@example.com',
      age: 36,
      beta: false,
      permissions: ['orders:read', 'orders:write'],
      empty: [],
      signedUp: '2026-03-01T12:00:00.000Z',
    })
  })

  it('drops what no operator compares: nested objects, mixed lists, null, undefined, NaN, infinities, invalid Dates', () => {
    expect(
      contextFromOpenFeature({
        address: { city: 'Paris' },
        mixed: ['a', 1],
        nested: [['a']],
        nothing: null,
        missing: undefined,
        nan: Number.NaN,
        huge: Number.POSITIVE_INFINITY,
        bad: new Date('not a date'),
        kept: 'yes',
      }),
    ).to.deep.equal({ kept: 'yes' })
  })

  it('copies a list rather than sharing the caller’s', () => {
    const permissions = ['a']
    const context = contextFromOpenFeature({ permissions })
    permissions.push('b')
    expect(context.permissions).to.deep.equal(['a'])
  })
})
