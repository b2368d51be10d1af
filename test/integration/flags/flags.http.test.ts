/**
 * Feature flags over HTTP, in the bundled server's app (the in-process test server on SQLite): the admin
 * routes (/api/v1/admin/flags…) with flags:read / flags:write, and the evaluation endpoint for services in
 * other languages (POST /api/v1/flags/evaluate, an API key with flags:evaluate), which answers from the
 * server's live snapshot. The test server does not compose live flags itself, so this wires them the way
 * compose.ts does (startLiveFlags over the flags service, then evaluateFrom), with no poll and no
 * subscription: the snapshot moves only when a test calls refresh().
 */
import { expect } from 'chai'
import request from 'supertest'
import type { ExplainResult, FlagView } from '../../../src/core/flags/flags.schema.js'
import { startLiveFlags, type LiveFlags } from '../../../src/server/live-flags.js'
import { adminFixture, expectProblem, local, type AdminFixture } from '../../helpers/admin-fixture.js'
import { ADMINS_AND_OPERATORS, onOffRollout, onOffSplit } from '../../helpers/flag-fixtures.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'

const FLAGS = '/api/v1/admin/flags'
const EVALUATE = '/api/v1/flags/evaluate'
/** Long enough that no poll runs during a test. */
const NO_POLL = 60 * 60_000

describe('feature flags over HTTP (SQLite)', function () {
  let s: TestServer
  let f: AdminFixture
  let live: LiveFlags
  const reloadErrors: unknown[] = []

  beforeEach(async () => {
    s = await createTestServer('sqlite')
    f = adminFixture(s)
    reloadErrors.length = 0
    live = await startLiveFlags({
      source: s.services.flags,
      pollMs: NO_POLL,
      onReloadError: (err) => reloadErrors.push(err),
      onListenerError: (err) => reloadErrors.push(err),
    })
    s.services.flags.evaluateFrom(live.current)
  })
  afterEach(async () => {
    live?.close()
    await s?.cleanup()
    expect(reloadErrors).to.deep.equal([])
  })

  const as = async (who: Parameters<AdminFixture['headers']>[0]) => f.headers(who)
  /** POSTs `body` as `who`; with `status`, fails unless that is the answer's. */
  const post = async (path: string, body: unknown, who: Parameters<AdminFixture['headers']>[0] = 'admin', status?: number) => {
    const res = await request(s.app)
      .post(path)
      .set(await as(who))
      .send(body as object)
    if (status !== undefined) expect(res.status, JSON.stringify(res.body)).to.equal(status)
    return res
  }
  /** PATCHes new-checkout as an admin; fails unless answered 200. */
  const patchCheckout = async (body: object) =>
    request(s.app)
      .patch(`${FLAGS}/new-checkout`)
      .set(await as('admin'))
      .send(body)
      .expect(200)
  /** PUTs new-checkout's rollout (25 % on) as an admin; fails unless answered 200. */
  const rollOutCheckout = async () =>
    request(s.app)
      .put(`${FLAGS}/new-checkout/rollout`)
      .set(await as('admin'))
      .send({ split: onOffSplit(25, 75) })
      .expect(200)

  /** new-checkout: on, admins first, then 25% of everyone else. */
  const seed = async (): Promise<FlagView> => {
    const created = await post(FLAGS, { key: 'new-checkout', type: 'boolean', description: 'The new checkout' })
    expect(created.status, JSON.stringify(created.body)).to.equal(201)
    await patchCheckout({ enabled: true })
    await post(`${FLAGS}/new-checkout/rules`, { rule: ADMINS_AND_OPERATORS }, 'admin', 200)
    return (await rollOutCheckout()).body as FlagView
  }

  describe('admin routes', () => {
    it('create (201), PATCH, add a rule, PUT a rollout (twice: the same), explain; each answered as the flag now is', async () => {
      const created = await post(FLAGS, { key: 'new-checkout', type: 'boolean', description: 'The new checkout' })
      expect(created.status).to.equal(201)
      expect(created.body).to.deep.include({ key: 'new-checkout', enabled: false, defaultVariant: 'on', offVariant: 'off', stale: false })
      expect(created.body.createdBy).to.match(/^user:\d+$/)

      const patched = await patchCheckout({ enabled: true })
      expect(patched.body).to.deep.include({ enabled: true, description: 'The new checkout' })
      const ruled = await post(`${FLAGS}/new-checkout/rules`, { rule: ADMINS_AND_OPERATORS }, 'admin', 200)
      expect((ruled.body as FlagView).rules).to.have.length(1)
      const first = (await rollOutCheckout()).body as FlagView
      const second = (await rollOutCheckout()).body as FlagView
      expect(first.rules).to.have.length(2).and.deep.equal(second.rules)
      expect(first.rules[1]?.serve).to.deep.equal(onOffRollout(25_000, 75_000))

      const explained = await post(`${FLAGS}/new-checkout/explain`, { context: { userId: '42', role: 'viewer' } }, 'viewer', 200)
      const { evaluation, explanation } = explained.body as ExplainResult
      expect(evaluation).to.include({ key: 'new-checkout', reason: 'SPLIT', ruleIndex: 1 })
      expect(evaluation.bucket).to.be.a('number')
      expect(explanation.rules.map((r) => [r.index, r.matched])).to.deep.equal([
        [0, false],
        [1, true],
      ])
      expect(explanation.rules[0]?.conditions[0]).to.deep.include({ attribute: 'role', actual: 'viewer', held: false })

      const got = await request(s.app)
        .get(`${FLAGS}/new-checkout`)
        .set(await as('viewer'))
        .expect(200)
      expect(got.body).to.deep.equal(second)
      const listed = await request(s.app)
        .get(FLAGS)
        .query({ stale: 'false' })
        .set(await as('viewer'))
        .expect(200)
      expect((listed.body as { data: FlagView[] }).data.map((x) => x.key)).to.deep.equal(['new-checkout'])
    })

    it('refusals are problem+json naming the body field: FLAG_EXISTS 409, FLAG_NOT_FOUND 404, a variant the flag lacks 400, a missing variants list 400, a viewer 403', async () => {
      await seed()
      const again = await post(FLAGS, { key: 'new-checkout', type: 'boolean' })
      expect(again.status).to.equal(409)
      expectProblem(again, 'FLAG_EXISTS')
      const missing = await request(s.app)
        .patch(`${FLAGS}/nope`)
        .set(await as('admin'))
        .send({ enabled: true })
      expect(missing.status).to.equal(404)
      expectProblem(missing, 'FLAG_NOT_FOUND')
      const unknownVariant = await request(s.app)
        .patch(`${FLAGS}/new-checkout`)
        .set(await as('admin'))
        .send({ rules: [{ serve: { variant: 'maybe' } }] })
      expect(unknownVariant.status).to.equal(400)
      expectProblem(unknownVariant, 'INVALID_INPUT', ['rules[0].serve.variant'])
      // A string flag names its variants: the problem names the body field, never a CLI flag (expectProblem checks).
      const noVariants = await post(FLAGS, { key: 'colour', type: 'string' })
      expect(noVariants.status).to.equal(400)
      expectProblem(noVariants, 'INVALID_INPUT')
      expect(JSON.stringify(noVariants.body)).to.include('variants')
      const badIndex = await request(s.app)
        .delete(`${FLAGS}/new-checkout/rules/7`)
        .set(await as('admin'))
      expect(badIndex.status).to.equal(400)
      expectProblem(badIndex, 'INVALID_INPUT')
      const notHundred = await request(s.app)
        .put(`${FLAGS}/new-checkout/rollout`)
        .set(await as('admin'))
        .send({ split: [{ variant: 'on', percent: 30 }] })
      expect(notHundred.status).to.equal(400)
      expectProblem(notHundred, 'INVALID_INPUT', ['split'])
      const viewer = await post(FLAGS, { key: 'sneaky', type: 'boolean' }, 'viewer')
      expect(viewer.status).to.equal(403)
      expectProblem(viewer, 'FORBIDDEN')
      const anonymous = await request(s.app).get(FLAGS)
      expect(anonymous.status).to.equal(401)
      expectProblem(anonymous)
      expect((await s.services.flags.list(local)).data.map((x) => x.key)).to.deep.equal(['new-checkout'])
    })
  })

  describe('POST /api/v1/flags/evaluate', () => {
    it('an API key with flags:evaluate: one flag or every flag, with variant and reason, at the live version', async () => {
      await seed()
      await post(FLAGS, { key: 'dark-mode', type: 'boolean' }, 'admin', 201)
      await live.refresh()
      const key = await as({ scopes: ['flags:evaluate'] })
      const one = await request(s.app)
        .post(EVALUATE)
        .set(key)
        .send({ key: 'new-checkout', context: { userId: '42', role: 'operator' } })
        .expect(200)
      expect(one.body).to.deep.equal({
        version: live.current()?.version,
        data: [{ key: 'new-checkout', value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleIndex: 0 }],
      })
      expect(one.body.version).to.equal(5)
      const all = await request(s.app)
        .post(EVALUATE)
        .set(key)
        .send({ context: { userId: '42' } })
        .expect(200)
      const byKey = Object.fromEntries((all.body.data as Array<{ key: string; reason: string; variant: string }>).map((e) => [e.key, [e.variant, e.reason]]))
      expect(Object.keys(byKey).sort()).to.deep.equal(['dark-mode', 'new-checkout'])
      expect(byKey['dark-mode']).to.deep.equal(['off', 'DISABLED'])
      expect(byKey['new-checkout']?.[1]).to.equal('SPLIT')
      // No context at all: the rollout's fallback for a missing targeting key.
      const anonymous = await request(s.app).post(EVALUATE).set(key).send({ key: 'new-checkout' }).expect(200)
      expect(anonymous.body.data[0]).to.include({ variant: 'off', reason: 'TARGETING_KEY_MISSING', ruleIndex: 1 })
    })

    it('unknown flag 404 FLAG_NOT_FOUND; a key without flags:evaluate (or a viewer) 403; a nested context 400; no credentials 401', async () => {
      await seed()
      await live.refresh()
      const key = await as({ scopes: ['flags:evaluate'] })
      const unknown = await request(s.app).post(EVALUATE).set(key).send({ key: 'nope', context: {} })
      expect(unknown.status).to.equal(404)
      expectProblem(unknown, 'FLAG_NOT_FOUND')
      for (const who of [{ scopes: ['flags:read', 'users:read'] }, 'viewer'] as const) {
        const refused = await request(s.app)
          .post(EVALUATE)
          .set(await as(who))
          .send({ key: 'new-checkout' })
        expect(refused.status, JSON.stringify(who)).to.equal(403)
        expectProblem(refused, 'FORBIDDEN')
      }
      const nested = await request(s.app)
        .post(EVALUATE)
        .set(key)
        .send({ key: 'new-checkout', context: { userId: '42', plan: { tier: 'pro' } } })
      expect(nested.status).to.equal(400)
      expectProblem(nested, 'INVALID_INPUT', ['context'])
      const badKey = await request(s.app).post(EVALUATE).set(key).send({ key: 'Not A Key' })
      expect(badKey.status).to.equal(400)
      expectProblem(badKey, 'INVALID_INPUT', ['key'])
      const nobody = await request(s.app).post(EVALUATE).send({ key: 'new-checkout' })
      expect(nobody.status).to.equal(401)
      expectProblem(nobody)
    })

    it('answers from the live snapshot: a change through the API is served once the live flags refreshed', async () => {
      await seed()
      await live.refresh()
      const key = await as({ scopes: ['flags:evaluate'] })
      const evaluate = async () =>
        (
          await request(s.app)
            .post(EVALUATE)
            .set(key)
            .send({ key: 'new-checkout', context: { userId: '42', role: 'admin' } })
            .expect(200)
        ).body as { version: number; data: Array<{ variant: string; reason: string }> }
      expect(await evaluate()).to.deep.include({ version: 4 })
      expect((await evaluate()).data[0]).to.include({ variant: 'on', reason: 'TARGETING_MATCH' })

      await patchCheckout({ enabled: false })
      // The database has version 5; this instance serves what it holds until its snapshot reloads (the poll
      // or a Redis announcement does that within a second in `gantry serve`; here refresh() stands for them).
      expect(await s.services.flags.version()).to.equal(5)
      const stale = await evaluate()
      expect([stale.version, stale.data[0]?.reason]).to.deep.equal([4, 'TARGETING_MATCH'])
      await live.refresh()
      const fresh = await evaluate()
      expect([fresh.version, fresh.data[0]?.variant, fresh.data[0]?.reason]).to.deep.equal([5, 'off', 'DISABLED'])
    })
  })
})
