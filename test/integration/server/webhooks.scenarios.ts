/**
 * Scenarios of /api/v1/admin/webhooks. Endpoints point at http://127.0.0.1:9 (the test server allows
 * private targets; nothing listens there), and no worker runs: deliveries stay pending unless a scenario
 * runs one attempt itself.
 */
import { expect } from 'chai'
import { DELIVER_JOB } from '../../../src/core/webhooks/outbox.js'
import { local, type AdminFixture, type Scenario, type Vars } from '../../helpers/admin-fixture.js'

/** Where every endpoint made here points: a closed port, so a test event gets no answer. */
export const NOWHERE = 'http://127.0.0.1:9/x'

let n = 0
/** An endpoint made for one scenario (by a local operator), subscribed to `eventTypes`: its id. */
export async function webhookEndpoint(f: AdminFixture, eventTypes: readonly string[] = ['users.*']): Promise<{ id: string }> {
  const created = await f.server.services.webhooks.create(local, { url: NOWHERE, eventTypes: [...eventTypes], description: `hook-${++n}` })
  return { id: created.endpoint.id }
}

/** An endpoint subscribed to users.* and the (pending) delivery of one audited users change to it. */
export async function webhookDelivery(f: AdminFixture): Promise<{ id: string; deliveryId: string; messageId: string }> {
  const { id } = await webhookEndpoint(f)
  await f.user('hooked')
  const [delivery] = (await f.server.services.webhooks.deliveries(local, id)).data
  expect(delivery, 'a delivery of users.created').to.include({ eventType: 'users.created', status: 'pending' })
  return { id, deliveryId: String(delivery?.id), messageId: String(delivery?.messageId) }
}

/** A delivery that failed: its endpoint was off when the worker's attempt ran (then switched on again). */
async function failedDelivery(f: AdminFixture): Promise<Vars> {
  const made = await webhookDelivery(f)
  await f.server.services.webhooks.disable(local, made.id)
  const deliver = f.server.services.deliverWebhook()
  await deliver({ id: 0, type: DELIVER_JOB, payload: { messageId: made.messageId, endpointId: made.id }, attempt: 1 }, () => Promise.resolve(true))
  await f.server.services.webhooks.enable(local, made.id)
  const [delivery] = (await f.server.services.webhooks.deliveries(local, made.id)).data
  expect(delivery).to.include({ status: 'failed' })
  return made
}

/** An endpoint's view never holds its secret. */
const noSecret = (endpoint: unknown): void => {
  expect(endpoint).to.not.have.any.keys('secret', 'previousSecret', 'previous_secret')
}

export const webhookScenarios: Scenario[] = [
  {
    name: 'lists the endpoints, never a secret',
    method: 'get',
    path: '/webhooks',
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    status: 200,
    check: (res, _f, v) => {
      const endpoints = res.body.data as { id: string }[]
      expect(endpoints.map((e) => e.id)).to.include(v.id)
      for (const e of endpoints) noSecret(e)
    },
  },
  {
    name: 'creates an endpoint whose secret is in this answer only',
    method: 'post',
    path: '/webhooks',
    who: 'admin',
    body: { url: NOWHERE, eventTypes: ['users.*', 'users.*', 'roles.created'], description: 'ci' },
    status: 201,
    check: async (res, f) => {
      const secret = res.body.secret as string
      expect(secret).to.match(/^whsec_/)
      expect(res.body.endpoint).to.include({ url: NOWHERE, description: 'ci', enabled: true, disabledReason: null })
      expect(res.body.endpoint.id).to.match(/^ep_[0-9A-Za-z]{22}$/)
      expect(res.body.endpoint.eventTypes).to.deep.equal(['users.*', 'roles.created'])
      expect(res.body.endpoint.createdBy).to.match(/^user:\d+$/)
      noSecret(res.body.endpoint)
      const audit = await f.server.services.audit.list(local, { action: 'webhooks.create' })
      for (const elsewhere of [JSON.stringify(audit), JSON.stringify(f.server.logs)]) expect(elsewhere).to.not.include(secret)
    },
  },
  {
    name: 'refuses a malformed event type and an unknown field',
    method: 'post',
    path: '/webhooks',
    who: 'admin',
    body: { url: NOWHERE, eventTypes: ['Users.Created'], secret: 'whsec_mine' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['eventTypes', 'secret'],
  },
  {
    name: 'refuses a URL that is neither https nor http',
    method: 'post',
    path: '/webhooks',
    who: 'admin',
    body: { url: 'ftp://127.0.0.1/x', eventTypes: ['users.*'] },
    status: 400,
    code: 'INVALID_INPUT',
    check: (res) => expect(res.body.input).to.deep.include({ fields: ['url'], reason: 'url-scheme', scheme: 'ftp' }),
  },
  {
    name: 'refuses an endpoint without event types',
    method: 'post',
    path: '/webhooks',
    who: 'admin',
    body: { url: NOWHERE, eventTypes: [] },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['eventTypes'],
  },
  {
    name: 'an actor who may write webhooks but not read users subscribes to no users event',
    method: 'post',
    path: '/webhooks',
    who: { scopes: ['webhooks:write'] },
    body: { url: NOWHERE, eventTypes: ['users.*'] },
    status: 403,
    code: 'FORBIDDEN',
    check: (res) => expect(res.body.detail).to.include('users:read'),
  },
  {
    name: 'the same actor, reading users too, subscribes to them',
    method: 'post',
    path: '/webhooks',
    who: { scopes: ['webhooks:write', 'users:read'] },
    body: { url: NOWHERE, eventTypes: ['users.*'] },
    status: 201,
    check: (res) => expect(res.body.endpoint.createdBy).to.match(/^apikey:/),
  },
  {
    name: 'an operator (no webhooks:write) creates no endpoint',
    method: 'post',
    path: '/webhooks',
    who: 'operator',
    body: { url: NOWHERE, eventTypes: ['users.*'] },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'an operator reads the endpoints',
    method: 'get',
    path: (v) => `/webhooks/${v.id}`,
    who: 'operator',
    setup: (f) => webhookEndpoint(f),
    status: 200,
  },
  {
    name: 'shows one endpoint, never its secret',
    method: 'get',
    path: (v) => `/webhooks/${v.id}`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body).to.include({ id: v.id, url: NOWHERE, enabled: true, createdBy: local.actor })
      expect(res.body.eventTypes).to.deep.equal(['users.*'])
      noSecret(res.body)
    },
  },
  {
    name: 'refuses a malformed endpoint id',
    method: 'get',
    path: '/webhooks/ep_short',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['id'],
  },
  {
    name: 'changes the description; the endpoint passes to whoever changed it',
    method: 'patch',
    path: (v) => `/webhooks/${v.id}`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    body: { description: 'renamed' },
    status: 200,
    check: (res, _f, v) => {
      expect(res.body).to.include({ id: v.id, description: 'renamed', url: NOWHERE })
      expect(res.body.createdBy).to.match(/^user:\d+$/)
    },
  },
  {
    name: 'refuses a change that changes nothing',
    method: 'patch',
    path: (v) => `/webhooks/${v.id}`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    body: {},
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'refuses a change to a URL that is neither https nor http',
    method: 'patch',
    path: (v) => `/webhooks/${v.id}`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    body: { url: 'ftp://127.0.0.1/x' },
    status: 400,
    code: 'INVALID_INPUT',
    check: (res) => expect(res.body.input).to.deep.include({ fields: ['url'], reason: 'url-scheme' }),
  },
  {
    name: 'an actor who cannot read users changes no endpoint that sends users events, not even its description',
    method: 'patch',
    path: (v) => `/webhooks/${v.id}`,
    who: { scopes: ['webhooks:write'] },
    setup: (f) => webhookEndpoint(f),
    body: { description: 'mine now' },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'switches an endpoint off',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/disable`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    status: 200,
    check: (res, _f, v) => {
      expect(res.body).to.include({ id: v.id, enabled: false })
      expect(res.body.disabledReason).to.match(/^disabled by user:\d+$/)
    },
  },
  {
    name: 'switches an endpoint back on',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/enable`,
    who: 'admin',
    setup: async (f) => {
      const made = await webhookEndpoint(f)
      await f.server.services.webhooks.disable(local, made.id)
      return made
    },
    status: 200,
    check: (res, _f, v) => expect(res.body).to.include({ id: v.id, enabled: true, disabledReason: null, failingSince: null }),
  },
  {
    name: 'an actor who cannot read users switches no users endpoint back on',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/enable`,
    who: { scopes: ['webhooks:write'] },
    setup: async (f) => {
      const made = await webhookEndpoint(f)
      await f.server.services.webhooks.disable(local, made.id)
      return made
    },
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'deletes an endpoint: gone from then on',
    method: 'delete',
    path: (v) => `/webhooks/${v.id}`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.include({ id: v.id })
      const list = await f.server.services.webhooks.list(local)
      expect(list.data.map((e) => e.id)).to.not.include(v.id)
    },
  },
  {
    name: 'rotates the secret: a new one in this answer only, the previous one signs for the grace period',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/rotate-secret`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    body: {},
    status: 200,
    check: async (res, f, v) => {
      expect(res.body.secret).to.match(/^whsec_/)
      expect(res.body.endpoint.id).to.equal(v.id)
      expect(Date.parse(res.body.endpoint.previousSecretUntil as string) - f.server.clock.now()).to.equal(86_400_000)
      noSecret(res.body.endpoint)
    },
  },
  {
    name: 'seals every secret again under the first data key: with one key, every secret already is',
    method: 'post',
    path: () => '/encryption-key/rotate',
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    status: 200,
    check: (res) => {
      expect(res.body.resealed).to.equal(0)
      expect(res.body.endpoints).to.be.at.least(1)
      expect(res.body.keyId).to.be.a('string')
    },
  },
  {
    name: 'refuses a malformed grace',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/rotate-secret`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    body: { grace: 'soon' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['grace'],
  },
  {
    name: 'sends a test event and reports that nothing answered',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/test`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    status: 200,
    check: (res) => {
      expect(res.body).to.include({ ok: false, statusCode: null, responseExcerpt: null })
      expect(res.body.messageId).to.match(/^msg_/)
      expect(res.body.error).to.be.a('string')
    },
  },
  {
    name: "lists an endpoint's deliveries, newest first",
    method: 'get',
    path: (v) => `/webhooks/${v.id}/deliveries`,
    who: 'admin',
    query: { status: 'pending', limit: '10' },
    setup: webhookDelivery,
    status: 200,
    check: (res, _f, v) => {
      expect(res.body.data).to.have.length(1)
      expect(res.body.data[0]).to.include({ id: Number(v.deliveryId), endpointId: v.id, eventType: 'users.created', status: 'pending', attempts: 0 })
      expect(res.body.nextCursor).to.equal(null)
    },
  },
  {
    name: 'refuses an unknown delivery status',
    method: 'get',
    path: (v) => `/webhooks/${v.id}/deliveries`,
    who: 'admin',
    query: { status: 'lost' },
    setup: (f) => webhookEndpoint(f),
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['status'],
  },
  {
    name: 'queues one more attempt of a delivery',
    method: 'post',
    path: (v) => `/webhooks/deliveries/${v.deliveryId}/redeliver`,
    who: 'admin',
    setup: failedDelivery,
    status: 200,
    check: (res, _f, v) => expect(res.body).to.include({ id: Number(v.deliveryId), endpointId: v.id, status: 'pending' }),
  },
  {
    name: 'refuses a malformed delivery id',
    method: 'post',
    path: '/webhooks/deliveries/0/redeliver',
    who: 'admin',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['deliveryId'],
  },
  {
    name: 'queues again the failed deliveries of an endpoint',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/replay`,
    who: 'admin',
    setup: failedDelivery,
    body: {},
    status: 200,
    check: async (res, f, v) => {
      expect(res.body).to.deep.equal({ requeued: 1 })
      const [delivery] = (await f.server.services.webhooks.deliveries(local, v.id as string)).data
      expect(delivery).to.include({ status: 'pending' })
    },
  },
  {
    name: 'refuses a replay since a time that is neither ISO 8601 nor a duration',
    method: 'post',
    path: (v) => `/webhooks/${v.id}/replay`,
    who: 'admin',
    setup: (f) => webhookEndpoint(f),
    body: { since: 'yesterday' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['since'],
  },
]
