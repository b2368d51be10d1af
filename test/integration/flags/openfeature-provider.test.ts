/**
 * GantryProvider through the real OpenFeature server SDK (OpenFeature.setProviderAndWait, getClient,
 * get*Details), over a reader of the real evaluator: what an app coded to OpenFeature sees — the caller's
 * default on every error, OpenFeature's reasons and error codes, type mismatches, the SDK's merging of
 * global, client and invocation context, the targeting key as the rollout's userId, a missing targeting key,
 * object flags, and configuration-changed events as the rules change.
 */
import { expect } from 'chai'
import { OpenFeature, ProviderEvents, type Client, type EventDetails, type Hook } from '@openfeature/server-sdk'
import { bucketOf } from '../../../src/core/flags/evaluate.js'
import { GantryProvider } from '../../../src/server/embed/openfeature.js'
import { ADMINS_AND_OPERATORS, booleanFlag, onOffRollout } from '../../helpers/flag-fixtures.js'
import { flagSnapshot, TestFlagReader } from '../../helpers/flag-reader.js'

const strings = (...names: string[]) => names.map((name) => ({ name, value: name }))
const equals = (attribute: string, value: string) => ({ attribute, operator: 'equals' as const, values: [value] })

const SNAPSHOT = flagSnapshot([
  booleanFlag('new-checkout', {
    rules: [
      ADMINS_AND_OPERATORS,
      // 25% on, sticky per userId; a context without one gets `on`, the fallback.
      { serve: onOffRollout(25_000, 75_000, { fallback: 'on' }) },
    ],
  }),
  booleanFlag('paused', { defaultVariant: 'on', enabled: false }),
  {
    key: 'plan-banner',
    type: 'string',
    variants: strings('none', 'free', 'team', 'pro'),
    defaultVariant: 'none',
    offVariant: 'none',
    enabled: true,
    rules: [
      { conditions: [equals('plan', 'pro')], serve: { variant: 'pro' } },
      { conditions: [equals('plan', 'team')], serve: { variant: 'team' } },
      { conditions: [equals('plan', 'free')], serve: { variant: 'free' } },
    ],
  },
  booleanFlag('eu-shop-beta', { rules: [{ conditions: [equals('region', 'eu'), equals('app', 'shop'), equals('beta', 'true')], serve: { variant: 'on' } }] }),
  { key: 'page-size', type: 'number', variants: [{ name: 'fifty', value: 50 }], defaultVariant: 'fifty', offVariant: 'fifty', enabled: true },
  {
    key: 'checkout-config',
    type: 'json',
    variants: [
      { name: 'v1', value: { steps: ['cart', 'address', 'pay'] } },
      { name: 'v2', value: { steps: ['cart', 'pay'], retries: 2 } },
    ],
    defaultVariant: 'v1',
    offVariant: 'v1',
    enabled: true,
    rules: [{ conditions: [{ attribute: 'email', operator: 'endsWith', values: ['@example.com'] }], serve: { variant: 'v2' } }],
  },
])

describe('flags: GantryProvider through the OpenFeature server SDK', () => {
  let reader: TestFlagReader
  let client: Client

  const use = async (r: TestFlagReader): Promise<void> => {
    reader = r
    await OpenFeature.setProviderAndWait(new GantryProvider(reader))
    client = OpenFeature.getClient()
  }

  beforeEach(() => use(new TestFlagReader(SNAPSHOT)))
  afterEach(async () => {
    await OpenFeature.clearProviders()
    OpenFeature.setContext({})
    OpenFeature.clearHooks()
    OpenFeature.clearHandlers()
  })

  it('is the SDK’s provider, named gantry, ready at once', () => {
    expect(OpenFeature.getProviderMetadata()).to.deep.equal({ name: 'gantry' })
    expect(client.providerStatus).to.equal('READY')
  })

  describe('the caller’s default on every error (reason ERROR)', () => {
    it('before the flags have loaded: setProviderAndWait does not wait for them, each read answers PROVIDER_NOT_READY', async () => {
      await OpenFeature.clearProviders()
      await use(new TestFlagReader())
      expect(client.providerStatus).to.equal('READY')
      expect(await client.getBooleanDetails('new-checkout', true, { role: 'admin' })).to.deep.include({
        flagKey: 'new-checkout',
        value: true,
        reason: 'ERROR',
        errorCode: 'PROVIDER_NOT_READY',
      })
      reader.load(SNAPSHOT)
      expect(await client.getBooleanDetails('new-checkout', false, { role: 'admin' })).to.deep.include({ value: true, reason: 'TARGETING_MATCH' })
    })

    it('for a flag the environment lacks: FLAG_NOT_FOUND', async () => {
      const details = await client.getStringDetails('no-such-flag', 'fallback')
      expect(details).to.deep.include({ value: 'fallback', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' })
      expect(details.errorMessage).to.contain('no-such-flag')
    })

    const mismatches = [
      ['a string flag read as boolean', (c: Client) => c.getBooleanDetails('plan-banner', true), true],
      ['a boolean flag read as string', (c: Client) => c.getStringDetails('new-checkout', 'x'), 'x'],
      ['a string flag read as number', (c: Client) => c.getNumberDetails('plan-banner', 7), 7],
      ['a number flag read as string', (c: Client) => c.getStringDetails('page-size', '10'), '10'],
      ['a boolean flag read as object', (c: Client) => c.getObjectDetails('new-checkout', { a: 1 }), { a: 1 }],
      ['a json flag read as boolean', (c: Client) => c.getBooleanDetails('checkout-config', false), false],
    ] as const
    for (const [what, read, fallback] of mismatches)
      it(`for ${what}: TYPE_MISMATCH`, async () => {
        expect(await read(client)).to.deep.include({ value: fallback, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' })
      })

    it('and the SDK runs error hooks with its own error for the code', async () => {
      const seen: string[] = []
      const hook: Hook = { error: (_context, err) => void seen.push(`${(err as { code?: string }).code} ${(err as Error).name}`) }
      client.addHooks(hook)
      await client.getBooleanValue('plan-banner', false)
      await client.getBooleanValue('no-such-flag', false)
      expect(seen).to.deep.equal(['TYPE_MISMATCH TypeMismatchError', 'FLAG_NOT_FOUND FlagNotFoundError'])
    })
  })

  describe('OpenFeature’s reasons, with the variant and the deciding rule', () => {
    it('DISABLED: the off variant while the flag is off', async () => {
      expect(await client.getBooleanDetails('paused', true)).to.deep.include({ value: false, variant: 'off', reason: 'DISABLED' })
    })

    it('TARGETING_MATCH: the rule’s variant, the rule in flagMetadata', async () => {
      const details = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'u-1', role: 'admin' })
      expect(details).to.deep.include({ value: true, variant: 'on', reason: 'TARGETING_MATCH', flagMetadata: { ruleIndex: 0 } })
      expect(details.errorCode).to.equal(undefined)
    })

    it('DEFAULT: the default variant when no rule matches', async () => {
      expect(await client.getStringDetails('plan-banner', 'x', { plan: 'enterprise' })).to.deep.include({ value: 'none', variant: 'none', reason: 'DEFAULT' })
    })

    it('SPLIT: the targeting key is the userId a rollout is sticky to, bucketed as the evaluator does', async () => {
      let on = 0
      const users = 4_000
      for (let i = 0; i < users; i++) {
        const targetingKey = `user-${i}`
        const bucket = bucketOf('new-checkout', targetingKey)
        const details = await client.getBooleanDetails('new-checkout', false, { targetingKey })
        expect(details).to.deep.include({
          value: bucket < 25_000,
          variant: bucket < 25_000 ? 'on' : 'off',
          reason: 'SPLIT',
          flagMetadata: { ruleIndex: 1, bucket },
        })
        if (details.value) on++
      }
      // 4,000 draws at 25%: the standard deviation is 0.7 points; this bound is over 4 of them.
      expect(on / users).to.be.within(0.22, 0.28)
    })

    it('a rollout without a targeting key: the rule’s fallback variant, reason DEFAULT, no error code, TARGETING_KEY_MISSING in flagMetadata', async () => {
      // The caller's default is false and the fallback `on`: the value shows the flag's answer was kept.
      const details = await client.getBooleanDetails('new-checkout', false, { role: 'viewer' })
      expect(details).to.deep.include({ value: true, variant: 'on', reason: 'DEFAULT', flagMetadata: { ruleIndex: 1, gantryReason: 'TARGETING_KEY_MISSING' } })
      expect(details.errorCode).to.equal(undefined)
    })
  })

  describe('context as the SDK merges it: global, then client, then invocation', () => {
    it('matches a rule on attributes given at each level', async () => {
      OpenFeature.setContext({ region: 'eu' })
      client.setContext({ app: 'shop' })
      expect(await client.getBooleanDetails('eu-shop-beta', false, { beta: true })).to.deep.include({ value: true, reason: 'TARGETING_MATCH' })
      // Any level missing, no match.
      expect(await client.getBooleanValue('eu-shop-beta', false)).to.equal(false)
      expect(await OpenFeature.getClient('another').getBooleanValue('eu-shop-beta', false, { beta: true })).to.equal(false)
    })

    it('the nearer level wins: invocation over client over global', async () => {
      OpenFeature.setContext({ plan: 'free' })
      client.setContext({ plan: 'team' })
      expect(await OpenFeature.getClient('another').getStringValue('plan-banner', 'x')).to.equal('free')
      expect(await client.getStringValue('plan-banner', 'x')).to.equal('team')
      expect(await client.getStringValue('plan-banner', 'x', { plan: 'pro' })).to.equal('pro')
    })

    it('takes the targeting key from the global context too', async () => {
      OpenFeature.setContext({ targetingKey: 'user-7' })
      const bucket = bucketOf('new-checkout', 'user-7')
      expect(await client.getBooleanDetails('new-checkout', false)).to.deep.include({ reason: 'SPLIT', flagMetadata: { ruleIndex: 1, bucket } })
    })
  })

  it('reads object flags: the variant’s JSON', async () => {
    expect(await client.getObjectDetails('checkout-config', {}, { email: 'ada@example.com' })).to.deep.include({
      value: { steps: ['cart', 'pay'], retries: 2 },
      variant: 'v2',
      reason: 'TARGETING_MATCH',
    })
    expect(await client.getObjectValue('checkout-config', {}, { email: 'bob@elsewhere.org' })).to.deep.equal({ steps: ['cart', 'address', 'pay'] })
    expect(await client.getNumberValue('page-size', 10)).to.equal(50)
  })

  describe('events', function () {
    // An event that never comes fails in seconds, not at the suite's minute.
    this.timeout(5_000)
    const next = (event: ProviderEvents, on: { addHandler: (e: ProviderEvents, h: (d?: EventDetails) => void) => void }): Promise<EventDetails | undefined> =>
      new Promise((resolve) => on.addHandler(event, resolve))

    it('emits PROVIDER_CONFIGURATION_CHANGED to the API’s and the client’s handlers when the rules change, then serves the new ones', async () => {
      const [global, ofClient] = [next(ProviderEvents.ConfigurationChanged, OpenFeature), next(ProviderEvents.ConfigurationChanged, client)]
      expect(await client.getBooleanValue('paused', true)).to.equal(false)
      reader.load(flagSnapshot([booleanFlag('paused', { defaultVariant: 'on' })], [], 2))
      expect(await global).to.include({ providerName: 'gantry' })
      expect(await ofClient).to.include({ providerName: 'gantry' })
      expect(await client.getBooleanDetails('paused', false)).to.deep.include({ value: true, reason: 'DEFAULT' })
    })

    it('emits it for the first load of a reader that was not loaded', async () => {
      await OpenFeature.clearProviders()
      await use(new TestFlagReader())
      const changed = next(ProviderEvents.ConfigurationChanged, OpenFeature)
      reader.load(SNAPSHOT)
      await changed
      expect(await client.getBooleanValue('new-checkout', false, { role: 'admin' })).to.equal(true)
    })

    it('listens to the reader while set, and stops when OpenFeature closes it', async () => {
      expect(reader.listeners).to.equal(1)
      await OpenFeature.close()
      expect(reader.listeners).to.equal(0)
    })

    it('stops when replaced by another provider', async () => {
      const first = reader
      await use(new TestFlagReader(SNAPSHOT))
      expect([first.listeners, reader.listeners]).to.deep.equal([0, 1])
    })
  })
})
