/**
 * The feature-flags service on every dialect: create, read, change rule by rule or as a whole, roll out,
 * segments, export and apply, the refusals that name the field at fault, the version every change bumps (and
 * announces), the audit row and the webhook event each change writes in its own transaction, permissions,
 * and concurrent changes that all land. Time is a manual clock: staleness moves only when a test says.
 */
import { expect } from 'chai'
import type { Knex } from 'knex'
import { manualClock } from '../../../src/core/clock.js'
import type { ActorContext } from '../../../src/core/context.js'
import { parseDataKeys } from '../../../src/core/encryption/data-keys.js'
import type { CreateFlagInput, FlagsFile, FlagView, Rule } from '../../../src/core/flags/flags.schema.js'
import { createFlagsService, type FlagsService } from '../../../src/core/flags/flags.service.js'
import { startLiveFlags } from '../../../src/server/live-flags.js'
import { NEW_BOOLEAN_FLAG, onOffRollout, onOffSplit } from '../../helpers/flag-fixtures.js'
import { identityFixture, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection, type Rejection } from '../../helpers/rejection.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'

const DAY = 86_400_000
const START = Date.UTC(2026, 5, 1)
const KEY = Buffer.alloc(32, 5).toString('base64')
/** Holds flags:read only (what a viewer's `*:read` gives for flags). */
const reader: ActorContext = { actor: 'user:7', permissions: ['flags:read'], ip: '203.0.113.9' }
/** A service in another language: an API key scoped flags:evaluate. */
const evaluator: ActorContext = { actor: 'apikey:svc', permissions: ['flags:evaluate'], ip: '203.0.113.10' }

const roleIn = (...roles: string[]): Rule => ({
  description: '',
  conditions: [{ attribute: 'role', operator: 'in', values: roles }],
  segments: [],
  serve: { variant: 'on' },
})
const everyone = (variant: string): Rule => ({ description: '', conditions: [], segments: [], serve: { variant } })
/**
 * The rejection of a call, whether its promise rejects or (the defect the first test below pins down) the
 * call throws before returning one: the other tests are about what is refused, not how.
 */
const refused = (call: () => Promise<unknown>): Promise<Rejection> => rejection((async () => call())())
const issuePaths = (err: Rejection): string[] => ((err.details?.issues ?? []) as Array<{ path: string }>).map((i) => i.path)

/**
 * `knex` with the settings query (the flags' version) held back, when the flags table is read in the same
 * breath, until that read has finished and `change` has committed: one interleaving of concurrent queries
 * on separate connections. A version read on its own (before the flags, or after them) goes through as is.
 */
function gatedKnex(knex: Knex, change: () => Promise<unknown>): Knex {
  let flagsRequested = false
  let flagsRead: () => void = () => undefined
  const flagsDone = new Promise<void>((resolve) => (flagsRead = resolve))
  let changed: Promise<unknown> | undefined
  return new Proxy(knex, {
    apply(target, thisArg, args: unknown[]) {
      const builder = Reflect.apply(target, thisArg, args) as Knex.QueryBuilder
      const then = builder.then.bind(builder) as (ok?: (rows: unknown) => unknown, ko?: (err: unknown) => unknown) => Promise<unknown>
      if (args[0] === 'gantry_flags') {
        flagsRequested = true
        Object.assign(builder, {
          then: (ok?: (rows: unknown) => unknown, ko?: (err: unknown) => unknown) =>
            then((rows) => {
              flagsRead()
              return rows
            }).then(ok, ko),
        })
      }
      if (args[0] === 'gantry_settings') {
        // Decided when the query is awaited, by then the snapshot has issued every query it issues at once.
        const waitFor = () => (flagsRequested ? flagsDone.then(() => (changed ??= change())) : Promise.resolve())
        Object.assign(builder, { then: (ok?: (rows: unknown) => unknown, ko?: (err: unknown) => unknown) => waitFor().then(() => then(ok, ko)) })
      }
      return builder
    },
  })
}

for (const dialect of DIALECTS) {
  describe(`flags service on ${dialect}`, function () {
    let f: IdentityFixture
    let clock: ReturnType<typeof manualClock>
    let flags: FlagsService
    let notified: number[] = []

    // One migrated database per dialect; each test starts from no flags, no segments, version 0, an empty
    // audit log and no webhook endpoint (the tables emptied), with the clock at START.
    before(async function () {
      await requireDialect(this, dialect)
      clock = manualClock(START)
      const ring = parseDataKeys(KEY)
      f = await identityFixture(dialect, {
        clock,
        flags: {
          staleAfter: '7d',
          notify: async (version) => {
            notified.push(version)
          },
        },
        // Sealing keys, so an endpoint can subscribe to flags.*; nothing is delivered here (no worker runs).
        webhooks: {
          keys: () => ring,
          send: () => Promise.resolve({ statusCode: null, latencyMs: 0, error: 'not sent in this test', body: null, retryAfter: null }),
          settings: { attemptTimeoutMs: 1000, disableAfterMs: DAY, allowPrivateTargets: true, retentionMs: 30 * DAY },
          userAgent: 'Gantry-Webhooks/test',
        },
      })
      flags = f.services.flags
    })
    after(async () => {
      await f?.cleanup()
    })
    beforeEach(async () => {
      clock.set(START)
      notified = []
      const k = f.db.knex
      for (const table of ['gantry_webhook_attempts', 'gantry_webhook_deliveries', 'gantry_webhook_messages', 'gantry_webhook_endpoints', 'gantry_jobs'])
        await k(table).delete()
      for (const table of ['gantry_flags', 'gantry_flag_segments', 'gantry_audit_log']) await k(table).delete()
      await k('gantry_settings').where({ key: 'flags.version' }).delete()
    })

    const create = (key: string, input: Partial<CreateFlagInput> = {}): Promise<FlagView> => flags.create(f.ctx, { key, type: 'boolean', ...input })
    /** The flags.* audit rows, oldest first. */
    const audited = async () =>
      (await f.services.audit.list(f.ctx, { limit: 500 })).data
        .filter((e) => e.action.startsWith('flags.'))
        .reverse()
        .map((e) => ({ action: e.action, targetType: e.targetType, targetId: e.targetId }))
    /** The webhook messages written (event types with their target ids), oldest first. */
    const messages = async () =>
      ((await f.db.knex('gantry_webhook_messages').select('type', 'body').orderBy('created_at').orderBy('id')) as Array<{ type: string; body: string }>)
        .map((m) => ({ type: m.type, body: JSON.parse(m.body) as { type: string; data: { target: { type: string; id: string } } } }))
        .map((m) => [m.type, m.body.data.target.id])

    it('refuses invalid input by rejecting the promise, as every other service does, never by throwing from the call', async () => {
      await create('beta')
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['create', () => flags.create(f.ctx, { key: 'colour', type: 'string' })],
        ['update', () => flags.update(f.ctx, 'beta', {})],
        ['addRule', () => flags.addRule(f.ctx, 'beta', { rule: { serve: {} } } as never)],
        ['removeRule', () => flags.removeRule(f.ctx, 'beta', -1)],
        ['rollout', () => flags.rollout(f.ctx, 'beta', { split: [{ variant: 'on', percent: 30 }] })],
        ['delete', () => flags.delete(f.ctx, 'Not A Key')],
        ['setSegment', () => flags.setSegment(f.ctx, 'staff', { conditions: [] })],
        ['deleteSegment', () => flags.deleteSegment(f.ctx, 'Not A Name')],
      ]
      const thrown: string[] = []
      for (const [name, call] of calls) {
        let promise: Promise<unknown>
        try {
          promise = call()
        } catch {
          thrown.push(name)
          continue
        }
        expect((await rejection(promise)).code, name).to.equal('INVALID_INPUT')
      }
      // `promise.catch(…)` and Promise.all callers miss an error thrown before the promise exists.
      expect(thrown, 'methods that threw synchronously').to.deep.equal([])
    })

    describe('create', () => {
      it('a boolean flag gets the variants on/off, serves off until switched on, is temporary; the key is lower-cased', async () => {
        const view = await create('New-Checkout', { description: 'The new checkout' })
        expect(view).to.deep.equal({
          key: 'new-checkout',
          description: 'The new checkout',
          ...NEW_BOOLEAN_FLAG,
          lifetime: 'temporary',
          createdBy: 'local:test@host',
          createdAt: new Date(clock.now()).toISOString(),
          updatedAt: new Date(clock.now()).toISOString(),
          stale: false,
        } satisfies FlagView)
        expect(await flags.get(f.ctx, 'NEW-CHECKOUT')).to.deep.equal(view)
        expect((await flags.evaluate(f.ctx, { key: 'new-checkout', context: { userId: '1' } })).data).to.deep.equal([
          { key: 'new-checkout', value: false, variant: 'off', reason: 'DISABLED' },
        ])
        const again = await refused(() => create('new-checkout'))
        expect([again.code, again.details?.key]).to.deep.equal(['FLAG_EXISTS', 'new-checkout'])
      })

      it('a string flag must name its variants; its default and off variant are the first', async () => {
        const err = await refused(() => flags.create(f.ctx, { key: 'colour', type: 'string' }))
        expect(err.code).to.equal('INVALID_INPUT')
        // Door-neutral: the field and the reason; each door words it (--variant in the CLI, `variants` over HTTP).
        expect(err.details).to.deep.include({ fields: ['variants'], reason: 'flag-variants-missing' })
        expect(err.message).to.not.match(/--[a-z]/)
        expect(await flags.version()).to.equal(0)
        const view = await flags.create(f.ctx, {
          key: 'colour',
          type: 'string',
          variants: [
            { name: 'blue', value: '#00f' },
            { name: 'green', value: '#0f0' },
          ],
        })
        expect(view).to.deep.include({ defaultVariant: 'blue', offVariant: 'blue', enabled: false })
        // A value of another type than the flag's is refused, naming the variant.
        const mistyped = await refused(() => flags.create(f.ctx, { key: 'size', type: 'number', variants: [{ name: 'big', value: 'large' }] }))
        expect(issuePaths(mistyped)).to.deep.equal(['variants[0].value'])
      })
    })

    describe('get and list', () => {
      it('a temporary flag is stale once older than flags.staleAfter (7d here); a permanent one never; list --stale keeps the stale ones', async () => {
        await create('old-experiment')
        await create('kill-switch', { lifetime: 'permanent' })
        clock.advance(7 * DAY - 1)
        expect((await flags.list(f.ctx)).data.map((v) => [v.key, v.stale])).to.deep.equal([
          ['kill-switch', false],
          ['old-experiment', false],
        ])
        expect((await flags.list(f.ctx, { stale: true })).data).to.deep.equal([])
        clock.advance(1)
        expect((await flags.get(f.ctx, 'old-experiment')).stale).to.equal(true)
        expect((await flags.get(f.ctx, 'kill-switch')).stale).to.equal(false)
        expect((await flags.list(f.ctx, { stale: true })).data.map((v) => v.key)).to.deep.equal(['old-experiment'])
        // As a query string says it.
        expect((await flags.list(f.ctx, { stale: 'true' })).data.map((v) => v.key)).to.deep.equal(['old-experiment'])
        clock.advance(365 * DAY)
        expect((await flags.get(f.ctx, 'kill-switch')).stale).to.equal(false)
      })

      it('an unknown flag is FLAG_NOT_FOUND with its key; a malformed key is INVALID_INPUT', async () => {
        const missing = await refused(() => flags.get(f.ctx, 'nope'))
        expect([missing.code, missing.details?.key]).to.deep.equal(['FLAG_NOT_FOUND', 'nope'])
        expect((await refused(() => flags.get(f.ctx, 'no spaces'))).code).to.equal('INVALID_INPUT')
        expect((await refused(() => flags.update(f.ctx, 'nope', { enabled: true }))).code).to.equal('FLAG_NOT_FOUND')
        expect((await refused(() => flags.delete(f.ctx, 'nope'))).code).to.equal('FLAG_NOT_FOUND')
      })
    })

    describe('update, rules and rollouts', () => {
      it('update changes only the given fields and moves updatedAt', async () => {
        const created = await create('beta', { description: 'first', rules: [roleIn('admin')] })
        clock.advance(5000)
        const on = await flags.update(f.ctx, 'beta', { enabled: true })
        expect(on).to.deep.include({ enabled: true, description: 'first', createdAt: created.createdAt, updatedAt: new Date(clock.now()).toISOString() })
        expect(on.rules).to.deep.equal(created.rules)
        const described = await flags.update(f.ctx, 'beta', { description: 'second', lifetime: 'permanent' })
        expect(described).to.deep.include({ enabled: true, description: 'second', lifetime: 'permanent', defaultVariant: 'on', offVariant: 'off' })
        expect((await refused(() => flags.update(f.ctx, 'beta', {}))).code).to.equal('INVALID_INPUT')
        // A default variant the flag lacks is refused, naming the field.
        const bad = await refused(() => flags.update(f.ctx, 'beta', { defaultVariant: 'maybe' }))
        expect([bad.code, issuePaths(bad)]).to.deep.equal(['INVALID_INPUT', ['defaultVariant']])
      })

      it('addRule appends, or inserts at a position; removeRule takes an index and refuses one past the end', async () => {
        await create('beta')
        await flags.addRule(f.ctx, 'beta', { rule: roleIn('admin') })
        await flags.addRule(f.ctx, 'beta', { rule: roleIn('operator') })
        const first = await flags.addRule(f.ctx, 'beta', { rule: everyone('off'), position: 0 })
        expect(first.rules.map((r) => [r.conditions[0]?.values ?? [], 'variant' in r.serve ? r.serve.variant : '?'])).to.deep.equal([
          [[], 'off'],
          [['admin'], 'on'],
          [['operator'], 'on'],
        ])
        const removed = await flags.removeRule(f.ctx, 'beta', '1') // as a URL path gives it
        expect(removed.rules.map((r) => r.conditions[0]?.values ?? [])).to.deep.equal([[], ['operator']])
        const past = await refused(() => flags.removeRule(f.ctx, 'beta', 2))
        expect([past.code, issuePaths(past)]).to.deep.equal(['INVALID_INPUT', ['rule']])
        expect((await refused(() => flags.removeRule(f.ctx, 'beta', -1))).code).to.equal('INVALID_INPUT')
        expect((await flags.get(f.ctx, 'beta')).rules).to.have.length(2)
      })

      it('rollout appends a catch-all rule; a second call changes that rule and keeps the variants in their order', async () => {
        await create('checkout', { rules: [roleIn('admin')] })
        const quarter = await flags.rollout(f.ctx, 'checkout', { split: onOffSplit(25, 75) })
        expect(quarter.rules).to.have.length(2)
        expect(quarter.rules[1]).to.deep.equal({ description: 'percentage rollout', conditions: [], segments: [], serve: onOffRollout(25_000, 75_000) })
        // Shares named in another order: the variants keep theirs, so `on` keeps the start of the range.
        const half = await flags.rollout(f.ctx, 'checkout', {
          split: [
            { variant: 'off', percent: 49.5 },
            { variant: 'on', percent: 50.5 },
          ],
          by: 'orgId',
        })
        expect(half.rules).to.have.length(2)
        expect(half.rules[1]?.serve).to.deep.equal(onOffRollout(50_500, 49_500, { by: 'orgId' }))
        // --rule N: a rollout among the users rule 0 matches; its conditions stay.
        const targeted = await flags.rollout(f.ctx, 'checkout', { split: [{ variant: 'on', percent: 100 }], rule: 0, fallback: 'on' })
        expect(targeted.rules[0]?.conditions).to.deep.equal(roleIn('admin').conditions)
        expect(targeted.rules[0]?.serve).to.deep.equal({ rollout: { by: 'userId', variants: [{ variant: 'on', weight: 100_000 }], fallback: 'on' } })
        expect(targeted.rules).to.have.length(2)

        const notHundred = await refused(() => flags.rollout(f.ctx, 'checkout', { split: onOffSplit(30, 30) }))
        expect([notHundred.code, issuePaths(notHundred)]).to.deep.equal(['INVALID_INPUT', ['split']])
        const noRule = await refused(() => flags.rollout(f.ctx, 'checkout', { split: [{ variant: 'on', percent: 100 }], rule: 5 }))
        expect([noRule.code, issuePaths(noRule)]).to.deep.equal(['INVALID_INPUT', ['rule']])
        const unknown = await refused(() => flags.rollout(f.ctx, 'checkout', { split: [{ variant: 'maybe', percent: 100 }] }))
        expect(unknown.code).to.equal('INVALID_INPUT')
        expect(issuePaths(unknown)).to.include('rules[1].serve.rollout.variants[2].variant')
        expect((await flags.get(f.ctx, 'checkout')).rules).to.deep.equal(targeted.rules)
      })

      it('refuses a rule serving a variant the flag lacks, or naming a segment that does not exist, with the place of each problem; nothing changes', async () => {
        await create('beta')
        const versionBefore = await flags.version()
        const variant = await refused(() => flags.addRule(f.ctx, 'beta', { rule: everyone('maybe') }))
        expect(variant.code).to.equal('INVALID_INPUT')
        expect(issuePaths(variant)).to.deep.equal(['rules[0].serve.variant'])
        const segment = await refused(() => flags.addRule(f.ctx, 'beta', { rule: { ...everyone('on'), segments: ['nobody'] } }))
        expect(issuePaths(segment)).to.deep.equal(['rules[0].segments[0]'])
        const both = await refused(() =>
          flags.update(f.ctx, 'beta', {
            rules: [roleIn('admin'), { ...everyone('maybe'), segments: ['nobody'], conditions: [{ attribute: 'age', operator: 'gte', values: ['old'] }] }],
          }),
        )
        expect(issuePaths(both)).to.have.members(['rules[1].serve.variant', 'rules[1].segments[0]', 'rules[1].conditions[0].values[0]'])
        const created = await refused(() => create('other', { rules: [everyone('maybe')] }))
        expect(issuePaths(created)).to.deep.equal(['rules[0].serve.variant'])
        expect((await flags.get(f.ctx, 'beta')).rules).to.deep.equal([])
        expect((await flags.list(f.ctx)).data.map((v) => v.key)).to.deep.equal(['beta'])
        expect(await flags.version()).to.equal(versionBefore)
      })
    })

    describe('segments', () => {
      it('set (created, then replaced), usedBy, delete refused while a rule names it, FLAG_SEGMENT_NOT_FOUND after', async () => {
        const conditions = [{ attribute: 'emailDomain', operator: 'equals' as const, values: ['example.com'] }]
        const set = await flags.setSegment(f.ctx, 'Staff', { description: 'Our people', conditions })
        expect(set).to.deep.equal({
          name: 'staff',
          description: 'Our people',
          conditions,
          createdAt: new Date(clock.now()).toISOString(),
          updatedAt: new Date(clock.now()).toISOString(),
          usedBy: [],
        })
        await create('beta', { enabled: true, rules: [{ ...everyone('on'), segments: ['staff'] }] })
        clock.advance(1000)
        const replaced = await flags.setSegment(f.ctx, 'staff', { conditions: [{ attribute: 'role', operator: 'in', values: ['admin'] }] })
        // The description stays when not given; createdAt stays, updatedAt moves.
        expect(replaced).to.deep.include({
          description: 'Our people',
          createdAt: set.createdAt,
          updatedAt: new Date(clock.now()).toISOString(),
          usedBy: ['beta'],
        })
        expect((await flags.listSegments(f.ctx)).data.map((s) => [s.name, s.usedBy])).to.deep.equal([['staff', ['beta']]])
        // The rules follow the segment at once.
        expect((await flags.evaluate(f.ctx, { key: 'beta', context: { role: 'admin' } })).data[0]).to.include({ variant: 'on', reason: 'TARGETING_MATCH' })
        expect((await flags.evaluate(f.ctx, { key: 'beta', context: { email: 'ada@example.com' } })).data[0]).to.include({ reason: 'DEFAULT' })

        const inUse = await refused(() => flags.deleteSegment(f.ctx, 'staff'))
        expect([inUse.code, inUse.details?.usedBy]).to.deep.equal(['FLAG_SEGMENT_IN_USE', ['beta']])
        await flags.removeRule(f.ctx, 'beta', 0)
        expect((await flags.deleteSegment(f.ctx, 'staff')).name).to.equal('staff')
        const gone = await refused(() => flags.deleteSegment(f.ctx, 'staff'))
        expect([gone.code, gone.details?.segment]).to.deep.equal(['FLAG_SEGMENT_NOT_FOUND', 'staff'])
        // A condition value its operator cannot read is refused, naming it.
        const bad = await refused(() => flags.setSegment(f.ctx, 'office', { conditions: [{ attribute: 'ip', operator: 'inCidr', values: ['10.0.0.0/99'] }] }))
        expect([bad.code, issuePaths(bad)]).to.deep.equal(['INVALID_INPUT', ['conditions[0].values[0]']])
      })
    })

    describe('export and apply', () => {
      /** Two flags and a segment, with a rollout and a rule naming the segment. */
      const seed = async (): Promise<void> => {
        await flags.setSegment(f.ctx, 'staff', { conditions: [{ attribute: 'emailDomain', operator: 'equals', values: ['example.com'] }] })
        await create('beta', { enabled: true, rules: [{ ...everyone('on'), segments: ['staff'] }] })
        await flags.rollout(f.ctx, 'beta', { split: onOffSplit(10, 90) })
        await flags.create(f.ctx, {
          key: 'theme',
          type: 'json',
          variants: [
            { name: 'light', value: { dark: false } },
            { name: 'dark', value: { dark: true, contrast: [1, 2] } },
          ],
          lifetime: 'permanent',
        })
      }

      it('an export applied back changes nothing: every entry unchanged, no version bump, no announcement', async () => {
        await seed()
        const file = await flags.export(f.ctx)
        expect(file.flags.map((x) => x.key)).to.deep.equal(['beta', 'theme'])
        expect(file.segments.map((s) => s.name)).to.deep.equal(['staff'])
        const version = await flags.version()
        const announced = notified.length
        const result = await flags.apply(f.ctx, { file: JSON.parse(JSON.stringify(file)) as FlagsFile })
        expect(result.changes.map((c) => c.change)).to.deep.equal(['unchanged', 'unchanged', 'unchanged'])
        expect(await flags.export(f.ctx)).to.deep.equal(file)
        expect((await audited()).filter((a) => a.action === 'flags.apply')).to.deep.equal([])
        // Nothing changed, so no instance has anything to reload (ratelimit apply behaves so too).
        expect([result.version, await flags.version(), notified.length]).to.deep.equal([version, version, announced])
      })

      it('the export applied to a fresh environment reproduces it; dryRun says so and writes nothing', async () => {
        await seed()
        const file = await flags.export(f.ctx)
        const other = await identityFixture(dialect, { clock })
        try {
          const dry = await other.services.flags.apply(other.ctx, { file, dryRun: true })
          expect(dry).to.deep.equal({
            dryRun: true,
            version: 0,
            changes: [
              { kind: 'segment', name: 'staff', change: 'create' },
              { kind: 'flag', name: 'beta', change: 'create' },
              { kind: 'flag', name: 'theme', change: 'create' },
            ],
          })
          expect((await other.services.flags.list(other.ctx)).data).to.deep.equal([])
          expect(await other.services.flags.version()).to.equal(0)
          const applied = await other.services.flags.apply(other.ctx, { file })
          expect(applied).to.deep.include({ dryRun: false, version: 1 })
          expect(await other.services.flags.export(other.ctx)).to.deep.equal(file)
          // The same answers for the same users: the rollout's buckets come from the key and the user alone.
          for (const userId of ['1', '2', '3', '42', 'ada']) {
            const context = { userId }
            expect(await other.services.flags.evaluate(other.ctx, { context })).to.deep.equal({ ...(await flags.evaluate(f.ctx, { context })), version: 1 })
          }
        } finally {
          await other.cleanup()
        }
      })

      it('apply updates what differs; prune deletes what the file lacks; a flag deleted before the segment its rule names', async () => {
        await seed()
        const file = await flags.export(f.ctx)
        const beta = file.flags.find((x) => x.key === 'beta')!
        const changed: FlagsFile = { flags: [{ ...beta, enabled: false }], segments: [] }
        const kept = await flags.apply(f.ctx, { file: changed })
        expect(kept.changes).to.deep.equal([{ kind: 'flag', name: 'beta', change: 'update' }])
        expect((await flags.list(f.ctx)).data.map((v) => [v.key, v.enabled])).to.deep.equal([
          ['beta', false],
          ['theme', false],
        ])
        // Pruning the segment that beta's rule names needs beta's rule gone too: refused otherwise.
        const dangling = await refused(() => flags.apply(f.ctx, { file: changed, prune: true }))
        expect(dangling.code).to.equal('INVALID_INPUT')
        expect(issuePaths(dangling)).to.deep.equal(['flags[0].rules[0].segments[0]'])
        const pruned = await flags.apply(f.ctx, { file: { flags: [], segments: [] }, prune: true })
        expect(pruned.changes).to.have.deep.members([
          { kind: 'flag', name: 'beta', change: 'delete' },
          { kind: 'flag', name: 'theme', change: 'delete' },
          { kind: 'segment', name: 'staff', change: 'delete' },
        ])
        expect(await flags.export(f.ctx)).to.deep.equal({ flags: [], segments: [] })
      })

      it('is all or nothing: one bad flag (the last) in the file and nothing is written; duplicates are refused', async () => {
        await create('existing')
        const version = await flags.version()
        /** A flag of the file: one variant, on, no rules, unless `overrides` say otherwise. */
        const fileFlag = (key: string, overrides: Partial<FlagsFile['flags'][number]> = {}): FlagsFile['flags'][number] => ({
          key,
          description: '',
          type: 'boolean',
          variants: [{ name: 'on', value: true }],
          defaultVariant: 'on',
          offVariant: 'on',
          enabled: true,
          rules: [],
          lifetime: 'temporary',
          ...overrides,
        })
        const file: FlagsFile = {
          segments: [{ name: 'staff', description: '', conditions: [{ attribute: 'role', operator: 'equals', values: ['admin'] }] }],
          flags: [fileFlag('good-1'), fileFlag('existing', { description: 'changed' }), fileFlag('bad', { rules: [everyone('nope')] })],
        }
        const err = await refused(() => flags.apply(f.ctx, { file, prune: true }))
        expect(err.code).to.equal('INVALID_INPUT')
        expect(issuePaths(err)).to.deep.equal(['flags[2].rules[0].serve.variant'])
        expect((await flags.list(f.ctx)).data.map((v) => [v.key, v.description])).to.deep.equal([['existing', '']])
        expect((await flags.listSegments(f.ctx)).data).to.deep.equal([])
        expect(await flags.version()).to.equal(version)

        const twice = await refused(() => flags.apply(f.ctx, { file: { flags: [file.flags[0]!, file.flags[0]!], segments: [] } }))
        expect([twice.code, issuePaths(twice)]).to.deep.equal(['INVALID_INPUT', ['flags[1]']])
        // A file that does not parse at all.
        expect((await refused(() => flags.apply(f.ctx, { file: { flags: [{ key: 'x' }] } as unknown as FlagsFile }))).code).to.equal('INVALID_INPUT')
        expect(await flags.version()).to.equal(version)
      })
    })

    describe('version, announcements, audit and events', () => {
      it('every change bumps the version once and announces it; a refused change neither', async () => {
        expect(await flags.version()).to.equal(0)
        await create('beta')
        await flags.update(f.ctx, 'beta', { enabled: true })
        await flags.addRule(f.ctx, 'beta', { rule: roleIn('admin') })
        await flags.rollout(f.ctx, 'beta', { split: [{ variant: 'on', percent: 100 }] })
        await flags.removeRule(f.ctx, 'beta', 0)
        await flags.setSegment(f.ctx, 'staff', { conditions: [{ attribute: 'role', operator: 'equals', values: ['admin'] }] })
        await flags.deleteSegment(f.ctx, 'staff')
        await flags.delete(f.ctx, 'beta')
        expect(notified).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8])
        expect(await flags.version()).to.equal(8)
        expect((await flags.snapshot()).version).to.equal(8)
        await refused(() => flags.delete(f.ctx, 'beta'))
        await refused(() => create('x', { rules: [everyone('nope')] }))
        await refused(() => flags.update(reader, 'beta', { enabled: true }))
        expect(notified).to.have.length(8)
        expect(await flags.version()).to.equal(8)
      })

      it('every change writes its audit row and, in the same transaction, its event for an endpoint subscribed to flags.*', async () => {
        await f.services.webhooks.create(f.ctx, { url: 'http://127.0.0.1:9/hooks', eventTypes: ['flags.*'] })
        await create('beta')
        await flags.update(f.ctx, 'beta', { enabled: true })
        await flags.setSegment(f.ctx, 'staff', { conditions: [{ attribute: 'role', operator: 'equals', values: ['admin'] }] })
        await flags.apply(f.ctx, { file: { flags: [], segments: [] }, prune: true })
        await create('gamma')
        await flags.delete(f.ctx, 'gamma')
        // Refused changes: nothing audited, no event.
        await refused(() => create('beta-2', { rules: [everyone('nope')] }))
        await refused(() => flags.deleteSegment(f.ctx, 'staff'))
        await flags.setSegment(f.ctx, 'staff', { conditions: [{ attribute: 'role', operator: 'equals', values: ['admin'] }] })
        await flags.deleteSegment(f.ctx, 'staff')
        expect(await audited()).to.deep.equal([
          { action: 'flags.create', targetType: 'flag', targetId: 'beta' },
          { action: 'flags.update', targetType: 'flag', targetId: 'beta' },
          { action: 'flags.segment.set', targetType: 'segment', targetId: 'staff' },
          { action: 'flags.apply', targetType: 'flags', targetId: '*' },
          { action: 'flags.create', targetType: 'flag', targetId: 'gamma' },
          { action: 'flags.delete', targetType: 'flag', targetId: 'gamma' },
          { action: 'flags.segment.set', targetType: 'segment', targetId: 'staff' },
          { action: 'flags.segment.delete', targetType: 'segment', targetId: 'staff' },
        ])
        // The messages share one time (a manual clock) and random ids: compared as a set; the audit rows above give the order.
        expect((await messages()).sort()).to.deep.equal(
          [
            ['flags.created', 'beta'],
            ['flags.updated', 'beta'],
            ['flags.segment_set', 'staff'],
            ['flags.applied', '*'],
            ['flags.created', 'gamma'],
            ['flags.deleted', 'gamma'],
            ['flags.segment_set', 'staff'],
            ['flags.segment_deleted', 'staff'],
          ].sort(),
        )
        // The update's row holds the flag before and after.
        const update = (await f.services.audit.list(f.ctx, { action: 'flags.update' })).data[0]
        expect([(update?.before as FlagView).enabled, (update?.after as FlagView).enabled]).to.deep.equal([false, true])
        const applied = (await f.services.audit.list(f.ctx, { action: 'flags.apply' })).data[0]
        expect(applied?.after).to.deep.equal({
          changes: [
            { kind: 'flag', name: 'beta', change: 'delete' },
            { kind: 'segment', name: 'staff', change: 'delete' },
          ],
        })
      })
    })

    describe('snapshots', () => {
      // MariaDB and PostgreSQL run a snapshot's queries on several pooled connections, in any order; SQLite
      // runs them one after another on its one connection, in the order they were issued.
      if (dialect !== 'sqlite')
        it('a snapshot never claims a newer version than the flags it holds: a change committed while one is read is picked up by the next refresh', async () => {
          await create('beta')
          // The flags are read, then a change commits, then the version is read: what the pool may do when the
          // version query waits for a connection. A snapshot labelled with that newer version would hold the
          // older flags for good, since every later poll finds the version it already has.
          const gated = gatedKnex(f.db.knex, () => flags.update(f.ctx, 'beta', { enabled: true }))
          const service = createFlagsService({ knex: gated, clock, audit: f.services.audit, staleAfter: '7d' })
          const errors: unknown[] = []
          const live = await startLiveFlags({
            source: service,
            pollMs: 60 * 60_000,
            onReloadError: (err) => errors.push(err),
            onListenerError: (err) => errors.push(err),
          })
          try {
            await live.refresh()
            expect(errors).to.deep.equal([])
            expect(await flags.version()).to.equal(2)
            expect([live.current()?.version, live.evaluate('beta', {}).reason]).to.deep.equal([2, 'DEFAULT'])
          } finally {
            live.close()
          }
        })
    })

    describe('permissions', () => {
      it('flags:read reads and explains but changes nothing (FORBIDDEN) and cannot evaluate; flags:evaluate evaluates only', async () => {
        await create('beta', { enabled: true, rules: [roleIn('admin')] })
        expect((await flags.list(reader)).data).to.have.length(1)
        expect((await flags.get(reader, 'beta')).key).to.equal('beta')
        expect((await flags.listSegments(reader)).data).to.deep.equal([])
        expect((await flags.export(reader)).flags).to.have.length(1)
        const explained = await flags.explain(reader, 'beta', { role: 'admin' })
        expect(explained.evaluation).to.include({ variant: 'on', reason: 'TARGETING_MATCH', ruleIndex: 0 })
        expect(explained.explanation.rules[0]).to.include({ index: 0, matched: true })

        const writes: Array<[string, () => Promise<unknown>]> = [
          ['create', () => flags.create(reader, { key: 'x', type: 'boolean' })],
          ['update', () => flags.update(reader, 'beta', { enabled: false })],
          ['addRule', () => flags.addRule(reader, 'beta', { rule: everyone('on') })],
          ['removeRule', () => flags.removeRule(reader, 'beta', 0)],
          ['rollout', () => flags.rollout(reader, 'beta', { split: [{ variant: 'on', percent: 100 }] })],
          ['delete', () => flags.delete(reader, 'beta')],
          ['setSegment', () => flags.setSegment(reader, 's', { conditions: [{ attribute: 'role', operator: 'equals', values: ['x'] }] })],
          ['deleteSegment', () => flags.deleteSegment(reader, 's')],
          ['apply', () => flags.apply(reader, { file: { flags: [], segments: [] }, prune: true })],
          ['apply dryRun', () => flags.apply(reader, { file: { flags: [], segments: [] }, dryRun: true })],
          ['evaluate', () => flags.evaluate(reader, { key: 'beta' })],
        ]
        for (const [what, call] of writes) {
          const err = await refused(call)
          expect([what, err.code], err.message).to.deep.equal([what, 'FORBIDDEN'])
        }
        expect((await flags.get(f.ctx, 'beta')).rules).to.have.length(1)
        expect(await flags.version()).to.equal(1)

        const evaluated = await flags.evaluate(evaluator, { key: 'beta', context: { role: 'admin' } })
        expect(evaluated).to.deep.equal({ version: 1, data: [{ key: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleIndex: 0 }] })
        expect((await refused(() => flags.evaluate(evaluator, { key: 'nope' }))).code).to.equal('FLAG_NOT_FOUND')
        for (const call of [() => flags.explain(evaluator, 'beta', {}), () => flags.list(evaluator), () => flags.get(evaluator, 'beta')]) {
          expect((await refused(call)).code).to.equal('FORBIDDEN')
        }
      })
    })

    describe('concurrency', () => {
      it('10 flags created at once from version 0 and then 10 rules added at once to one flag: all land, one version each', async () => {
        await Promise.all(Array.from({ length: 10 }, (_, i) => create(`flag-${i}`)))
        expect((await flags.list(f.ctx)).data).to.have.length(10)
        expect(await flags.version()).to.equal(10)
        await Promise.all(Array.from({ length: 10 }, (_, i) => flags.addRule(f.ctx, 'flag-0', { rule: { ...roleIn(`role-${i}`), description: `rule ${i}` } })))
        const { rules } = await flags.get(f.ctx, 'flag-0')
        expect(rules.map((r) => r.description).sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `rule ${i}`).sort())
        expect(await flags.version()).to.equal(20)
        expect([...notified].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1))
      })
    })
  })
}
