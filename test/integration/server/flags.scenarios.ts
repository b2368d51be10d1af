/**
 * Scenarios of /api/v1/admin/flags, /api/v1/admin/flags-file and /api/v1/admin/flag-segments, and of flag
 * evaluation for services (/api/v1/flags/evaluate, an API key scoped flags:evaluate). Each scenario makes
 * its own flags and segments (fresh names), so none depends on another's order.
 */
import { expect } from 'chai'
import type { Condition, CreateFlagInput, Rule } from '../../../src/core/flags/flags.schema.js'
import { local, type AdminFixture, type Scenario } from '../../helpers/admin-fixture.js'
import { booleanFlag, NEW_BOOLEAN_FLAG, onOffRollout, onOffSplit } from '../../helpers/flag-fixtures.js'

const EVALUATE = '/api/v1/flags/evaluate'
const PLAN_IS_PRO: Condition = { attribute: 'plan', operator: 'equals', values: ['pro'] }
/** A rule serving `on` to admins, as stored (every field given). */
const admins: Rule = { description: '', conditions: [{ attribute: 'role', operator: 'in', values: ['admin'] }], segments: [], serve: { variant: 'on' } }

let n = 0
/** A boolean flag made for one scenario (by a local operator): its key, `key` or a fresh one. */
export async function featureFlag(f: AdminFixture, input: Partial<CreateFlagInput> = {}): Promise<{ key: string }> {
  const key = input.key ?? `sample-flag-${++n}`
  await f.server.services.flags.create(local, { type: 'boolean', ...input, key })
  return { key }
}

/** A segment made for one scenario (`plan = pro`): its name. */
export async function flagSegment(f: AdminFixture): Promise<{ name: string }> {
  const name = `sample-segment-${++n}`
  await f.server.services.flags.setSegment(local, name, { conditions: [PLAN_IS_PRO] })
  return { name }
}

/** A segment and a flag whose rule names it: the segment's name and the flag's key. */
async function segmentInUse(f: AdminFixture): Promise<{ name: string; key: string }> {
  const { name } = await flagSegment(f)
  const { key } = await featureFlag(f, { rules: [{ description: '', conditions: [], segments: [name], serve: { variant: 'on' } }] })
  return { name, key }
}

/** The audit entries of `action` about `targetId`, newest first. */
async function audited(f: AdminFixture, action: string, targetId: string): Promise<Array<{ actor: string; before: unknown; after: unknown }>> {
  return (await f.server.services.audit.list(local, { action })).data.filter((e) => e.targetId === targetId)
}

export const flagScenarios: Scenario[] = [
  {
    name: 'lists the flags with their rules, none stale while young',
    method: 'get',
    path: '/flags',
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    status: 200,
    check: (res, _f, v) => {
      const listed = (res.body.data as Array<{ key: string }>).find((flag) => flag.key === v.key)
      expect(listed).to.deep.include({ type: 'boolean', enabled: false, stale: false, lifetime: 'temporary', rules: [admins] })
    },
  },
  {
    name: 'lists only the stale flags when asked (a query string says true)',
    method: 'get',
    path: '/flags',
    query: { stale: 'true' },
    who: 'viewer',
    setup: (f) => featureFlag(f),
    status: 200,
    check: (res, _f, v) => expect((res.body.data as Array<{ key: string }>).map((flag) => flag.key)).to.not.include(v.key),
  },
  {
    name: 'creates a boolean flag, off, with the variants on and off; the change is audited',
    method: 'post',
    path: '/flags',
    who: 'admin',
    body: { key: 'New-Checkout', type: 'boolean', description: 'The one-page checkout' },
    status: 201,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ key: 'new-checkout', description: 'The one-page checkout', ...NEW_BOOLEAN_FLAG, stale: false })
      expect(res.body.createdBy).to.match(/^user:\d+$/)
      const [entry] = await audited(f, 'flags.create', 'new-checkout')
      expect(entry?.actor).to.match(/^user:\d+$/)
      expect(entry?.after).to.deep.include({ key: 'new-checkout' })
    },
  },
  {
    name: 'creates a string flag with its variants, the first its default and off variant',
    method: 'post',
    path: '/flags',
    who: 'admin',
    body: {
      key: 'button-colour',
      type: 'string',
      variants: [
        { name: 'blue', value: '#0000ff' },
        { name: 'green', value: '#00ff00' },
      ],
      lifetime: 'permanent',
    },
    status: 201,
    check: (res) => expect(res.body).to.include({ defaultVariant: 'blue', offVariant: 'blue', lifetime: 'permanent' }),
  },
  {
    name: 'refuses a string flag without variants, naming the field',
    method: 'post',
    path: '/flags',
    who: 'admin',
    body: { key: 'no-variants', type: 'string' },
    status: 400,
    code: 'INVALID_INPUT',
    check: (res) => expect(res.body.input).to.deep.include({ fields: ['variants'] }),
  },
  {
    name: 'refuses a malformed key, an unknown type and an unknown field',
    method: 'post',
    path: '/flags',
    who: 'admin',
    body: { key: 'not a key', type: 'colour', owner: 'me' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['key', 'type', 'owner'],
  },
  {
    name: 'refuses a rule serving a variant the flag lacks',
    method: 'post',
    path: '/flags',
    who: 'admin',
    body: { key: 'bad-rule', type: 'boolean', rules: [{ serve: { variant: 'maybe' } }] },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['rules'],
  },
  {
    name: 'refuses a key that exists',
    method: 'post',
    path: '/flags',
    who: 'admin',
    setup: (f) => featureFlag(f, { key: 'made-twice' }),
    body: { key: 'made-twice', type: 'boolean' },
    status: 409,
    code: 'FLAG_EXISTS',
  },
  {
    name: 'an operator reads flags but may not create one',
    method: 'post',
    path: '/flags',
    who: 'operator',
    body: { key: 'by-operator', type: 'boolean' },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'shows one flag',
    method: 'get',
    path: (v) => `/flags/${v.key}`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins], enabled: true }),
    status: 200,
    check: (res, _f, v) => expect(res.body).to.deep.include({ key: v.key, enabled: true, rules: [admins] }),
  },
  {
    name: 'switches a flag on, changing nothing else; audited with before and after',
    method: 'patch',
    path: (v) => `/flags/${v.key}`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    body: { enabled: true },
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.deep.include({ key: v.key, enabled: true, rules: [admins], defaultVariant: 'on' })
      const [entry] = await audited(f, 'flags.update', v.key as string)
      expect(entry?.before).to.deep.include({ enabled: false })
      expect(entry?.after).to.deep.include({ enabled: true })
    },
  },
  {
    name: 'refuses a change that changes nothing',
    method: 'patch',
    path: (v) => `/flags/${v.key}`,
    who: 'admin',
    setup: (f) => featureFlag(f),
    body: {},
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'adds a targeting rule before the first',
    method: 'post',
    path: (v) => `/flags/${v.key}/rules`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    body: { rule: { description: 'pro plans', conditions: [PLAN_IS_PRO], serve: { variant: 'off' } }, position: 0 },
    status: 200,
    check: (res) => {
      const rules = res.body.rules as Rule[]
      expect(rules).to.have.length(2)
      expect(rules[0]).to.deep.equal({ description: 'pro plans', conditions: [PLAN_IS_PRO], segments: [], serve: { variant: 'off' } })
      expect(rules[1]).to.deep.equal(admins)
    },
  },
  {
    name: 'refuses a rule naming a segment that does not exist',
    method: 'post',
    path: (v) => `/flags/${v.key}/rules`,
    who: 'admin',
    setup: (f) => featureFlag(f),
    body: { rule: { segments: ['no-such-segment'], serve: { variant: 'on' } } },
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'removes a rule by its index',
    method: 'delete',
    path: (v) => `/flags/${v.key}/rules/0`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    status: 200,
    check: (res) => expect(res.body.rules).to.deep.equal([]),
  },
  {
    name: 'refuses an index past the last rule',
    method: 'delete',
    path: (v) => `/flags/${v.key}/rules/3`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'rolls a flag out to 25% of users: a rule for everyone the other rules leave, in buckets',
    method: 'put',
    path: (v) => `/flags/${v.key}/rollout`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    body: { split: onOffSplit(25, 75) },
    status: 200,
    check: (res) => {
      const rules = res.body.rules as Rule[]
      expect(rules).to.have.length(2)
      expect(rules[1]?.serve).to.deep.equal(onOffRollout(25_000, 75_000))
    },
  },
  {
    name: 'refuses shares that do not add up to 100%',
    method: 'put',
    path: (v) => `/flags/${v.key}/rollout`,
    who: 'admin',
    setup: (f) => featureFlag(f),
    body: { split: onOffSplit(25, 70) },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['split'],
  },
  {
    name: 'deletes a flag; it is gone',
    method: 'delete',
    path: (v) => `/flags/${v.key}`,
    who: 'admin',
    setup: (f) => featureFlag(f),
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.include({ key: v.key })
      expect((await f.server.services.flags.list(local)).data.map((flag) => flag.key)).to.not.include(v.key)
      expect(await audited(f, 'flags.delete', v.key as string)).to.have.length(1)
    },
  },
  {
    name: 'explains an evaluation: the rule that matched, and why',
    method: 'post',
    path: (v) => `/flags/${v.key}/explain`,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins], enabled: true }),
    body: { context: { userId: '42', role: 'admin' } },
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.evaluation).to.include({ key: v.key, value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleIndex: 0 })
      expect(res.body.explanation.rules[0]).to.include({ index: 0, matched: true, valid: true })
      expect(res.body.explanation.rules[0].conditions[0]).to.include({ attribute: 'role', actual: 'admin', held: true })
    },
  },
  {
    name: 'a viewer explains a flag too (flags:read), and a flag switched off serves its off variant',
    method: 'post',
    path: (v) => `/flags/${v.key}/explain`,
    who: 'viewer',
    setup: (f) => featureFlag(f, { rules: [admins] }),
    body: { context: { role: 'admin' } },
    status: 200,
    check: (res) => expect(res.body.evaluation).to.include({ value: false, variant: 'off', reason: 'DISABLED' }),
  },
  {
    name: 'exports every flag and segment as apply reads them',
    method: 'get',
    path: '/flags-file',
    who: 'admin',
    setup: async (f) => ({ ...(await featureFlag(f, { rules: [admins] })), ...(await flagSegment(f)) }),
    status: 200,
    check: (res, _f, v) => {
      const file = res.body as { flags: Array<{ key: string }>; segments: Array<{ name: string }> }
      expect(file.flags.find((flag) => flag.key === v.key)).to.deep.include({ rules: [admins], enabled: false })
      expect(file.flags.find((flag) => flag.key === v.key)).to.not.have.any.keys('createdBy', 'createdAt', 'stale')
      expect(file.segments.find((s) => s.name === v.name)).to.deep.include({ conditions: [PLAN_IS_PRO] })
    },
  },
  {
    name: 'says what a file would change with dryRun, and changes nothing',
    method: 'put',
    path: '/flags-file',
    who: 'admin',
    body: {
      file: { flags: [{ key: 'dry-flag', type: 'boolean', variants: [{ name: 'on', value: true }], defaultVariant: 'on', offVariant: 'on', enabled: true }] },
      dryRun: true,
    },
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ dryRun: true, changes: [{ kind: 'flag', name: 'dry-flag', change: 'create' }] })
      expect((await f.server.services.flags.list(local)).data.map((flag) => flag.key)).to.not.include('dry-flag')
    },
  },
  {
    name: 'applies a file: its segment and the flag whose rule names it, in one change, audited once',
    method: 'put',
    path: '/flags-file',
    who: 'admin',
    body: {
      file: {
        segments: [{ name: 'applied-pro', conditions: [PLAN_IS_PRO] }],
        flags: [booleanFlag('applied-flag', { rules: [{ segments: ['applied-pro'], serve: { variant: 'on' } }] })],
      },
    },
    status: 200,
    check: async (res, f) => {
      expect(res.body.dryRun).to.equal(false)
      expect(res.body.changes).to.deep.equal([
        { kind: 'segment', name: 'applied-pro', change: 'create' },
        { kind: 'flag', name: 'applied-flag', change: 'create' },
      ])
      expect((await f.server.services.flags.get(local, 'applied-flag')).rules[0]?.segments).to.deep.equal(['applied-pro'])
      expect(await audited(f, 'flags.apply', '*')).to.have.length(1)
    },
  },
  {
    name: 'refuses a file naming the same flag twice',
    method: 'put',
    path: '/flags-file',
    who: 'admin',
    body: {
      file: {
        flags: [
          { key: 'twice', type: 'boolean', variants: [{ name: 'on', value: true }], defaultVariant: 'on', offVariant: 'on', enabled: false },
          { key: 'twice', type: 'boolean', variants: [{ name: 'on', value: true }], defaultVariant: 'on', offVariant: 'on', enabled: false },
        ],
      },
    },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['flags[1]'],
  },
  {
    name: 'lists the segments with the flags that name them',
    method: 'get',
    path: '/flag-segments',
    who: 'admin',
    setup: (f) => segmentInUse(f),
    status: 200,
    check: (res, _f, v) => expect((res.body.data as Array<{ name: string }>).find((s) => s.name === v.name)).to.deep.include({ usedBy: [v.key] }),
  },
  {
    name: 'creates a segment',
    method: 'put',
    path: '/flag-segments/beta-testers',
    who: 'admin',
    body: { description: 'beta', conditions: [{ attribute: 'emailDomain', operator: 'in', values: ['example.com', 'example.org'] }] },
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ name: 'beta-testers', description: 'beta', usedBy: [] })
      expect((await audited(f, 'flags.segment.set', 'beta-testers'))[0]?.before).to.equal(null)
    },
  },
  {
    name: "replaces a segment's conditions, keeping its description",
    method: 'put',
    path: (v) => `/flag-segments/${v.name}`,
    who: 'admin',
    setup: (f) => flagSegment(f),
    body: { conditions: [{ attribute: 'plan', operator: 'in', values: ['pro', 'team'] }] },
    status: 200,
    check: (res) => expect(res.body.conditions).to.deep.equal([{ attribute: 'plan', operator: 'in', values: ['pro', 'team'] }]),
  },
  {
    name: 'refuses a segment without conditions',
    method: 'put',
    path: '/flag-segments/empty',
    who: 'admin',
    body: { conditions: [] },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['conditions'],
  },
  {
    name: 'refuses to delete a segment a rule names, naming the flag',
    method: 'delete',
    path: (v) => `/flag-segments/${v.name}`,
    who: 'admin',
    setup: (f) => segmentInUse(f),
    status: 409,
    code: 'FLAG_SEGMENT_IN_USE',
    check: (res, _f, v) => expect(res.body.detail).to.include(v.key),
  },
  {
    name: 'deletes a segment no rule names',
    method: 'delete',
    path: (v) => `/flag-segments/${v.name}`,
    who: 'admin',
    setup: (f) => flagSegment(f),
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.include({ name: v.name })
      expect((await f.server.services.flags.listSegments(local)).data.map((s) => s.name)).to.not.include(v.name)
    },
  },
  {
    name: 'evaluates every flag for a context',
    method: 'post',
    path: EVALUATE,
    who: 'admin',
    setup: (f) => featureFlag(f, { rules: [admins], enabled: true }),
    body: { context: { role: 'admin' } },
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.version).to.be.a('number').and.at.least(1)
      expect((res.body.data as Array<{ key: string }>).find((e) => e.key === v.key)).to.include({ value: true, variant: 'on', reason: 'TARGETING_MATCH' })
    },
  },
  {
    name: 'a service with a key scoped flags:evaluate evaluates one flag',
    method: 'post',
    path: EVALUATE,
    who: { scopes: ['flags:evaluate'] },
    setup: (f) => featureFlag(f, { key: 'evaluated-by-a-service', rules: [admins], enabled: true }),
    body: { key: 'evaluated-by-a-service', context: { userId: '42', role: 'viewer' } },
    status: 200,
    check: (res) => expect(res.body.data).to.deep.equal([{ key: 'evaluated-by-a-service', value: true, variant: 'on', reason: 'DEFAULT' }]),
  },
  {
    name: 'refuses to evaluate a flag that does not exist',
    method: 'post',
    path: EVALUATE,
    who: { scopes: ['flags:evaluate'] },
    body: { key: 'no-such-flag', context: {} },
    status: 404,
    code: 'FLAG_NOT_FOUND',
  },
  {
    name: 'a key scoped flags:evaluate may not read the flags themselves',
    method: 'get',
    path: '/flags',
    who: { scopes: ['flags:evaluate'] },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'a key scoped flags:read may not evaluate for services: flags:evaluate is its own permission',
    method: 'post',
    path: EVALUATE,
    who: { scopes: ['flags:read'] },
    body: { context: {} },
    status: 403,
    code: 'FORBIDDEN',
  },
]
