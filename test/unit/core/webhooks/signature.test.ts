/**
 * Our Standard Webhooks signatures against the reference implementation (the standardwebhooks package): each
 * side verifies what the other signs, so a receiver using any Standard Webhooks library accepts Gantry's
 * deliveries, and Gantry's verifier agrees with the spec, not only with itself.
 */
import { expect } from 'chai'
import { Webhook } from 'standardwebhooks'
import {
  generateWebhookSecret,
  signatureHeaders,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookHeaders,
} from '../../../../src/core/webhooks/signature.js'

const BODY = '{"type":"user.created","data":{"id":"42","email":"ada@example.com"}}'
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'
const NOW_MS = 1_750_000_000_000
const NOW = NOW_MS / 1000
const now = (): number => NOW_MS

/** The error verifyWebhook throws; fails when it accepts. */
function refusal(run: () => void): Error {
  try {
    run()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the delivery to be refused')
}

function expectRefused(run: () => void, message: RegExp): void {
  const err = refusal(run)
  expect(err).to.be.instanceOf(WebhookVerificationError)
  expect(err.message).to.match(message)
}

describe('core/webhooks: Standard Webhooks signatures', () => {
  const secret = generateWebhookSecret()
  const next = generateWebhookSecret()
  const signed = (overrides: Partial<Parameters<typeof signatureHeaders>[0]> = {}) =>
    signatureHeaders({ id: ID, timestamp: NOW, body: BODY, secrets: [secret], ...overrides })

  it('makes secrets of whsec_ and the base64 of 32 random bytes', () => {
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).to.have.length(32)
    expect(next).to.not.equal(secret)
  })

  it('signs what the reference library verifies', () => {
    const headers = signatureHeaders({ id: ID, timestamp: Math.floor(Date.now() / 1000), body: BODY, secrets: [secret] })
    expect(headers['webhook-signature']).to.match(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(new Webhook(secret).verify(BODY, { ...headers })).to.deep.equal(JSON.parse(BODY))
  })

  it('signs with both secrets during a rotation: each one alone verifies, under theirs and ours', () => {
    const headers = signatureHeaders({ id: ID, timestamp: Math.floor(Date.now() / 1000), body: BODY, secrets: [next, secret] })
    expect(headers['webhook-signature'].split(' ')).to.have.length(2)
    for (const one of [secret, next]) {
      expect(() => new Webhook(one).verify(BODY, { ...headers })).to.not.throw()
      expect(() => verifyWebhook(one, headers, BODY)).to.not.throw()
    }
    expectRefused(() => verifyWebhook(generateWebhookSecret(), headers, BODY), /signature/)
  })

  it('verifies what the reference library signs, the body as a string or as the raw bytes', () => {
    const headers = { 'webhook-id': ID, 'webhook-timestamp': String(NOW), 'webhook-signature': new Webhook(secret).sign(ID, new Date(NOW_MS), BODY) }
    expect(signed()).to.deep.equal(headers)
    verifyWebhook(secret, headers, BODY, { now })
    verifyWebhook(secret, headers, Buffer.from(BODY), { now })
    // The reference library takes the secret with or without its prefix; so do we.
    verifyWebhook(secret.slice('whsec_'.length), headers, BODY, { now })
  })

  it('reads header names in any case, from a plain object or a fetch Headers', () => {
    const headers = signed()
    const shouting = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]))
    verifyWebhook(secret, shouting, BODY, { now })
    verifyWebhook(secret, new Headers(shouting), BODY, { now })
    verifyWebhook(secret, { 'Webhook-Id': [ID], 'webhook-timestamp': String(NOW), 'Webhook-Signature': headers['webhook-signature'] }, BODY, { now })
  })

  it('refuses a wrong secret, an altered body and an altered id', () => {
    const headers = signed()
    expectRefused(() => verifyWebhook(next, headers, BODY, { now }), /No matching webhook signature/)
    expectRefused(() => verifyWebhook(secret, headers, BODY.replace('42', '43'), { now }), /No matching webhook signature/)
    expectRefused(() => verifyWebhook(secret, headers, `${BODY} `, { now }), /No matching webhook signature/)
    expectRefused(() => verifyWebhook(secret, { ...headers, 'webhook-id': 'msg_other' }, BODY, { now }), /No matching webhook signature/)
  })

  it('refuses a timestamp more than the tolerance away, either way, and an altered one', () => {
    const at = (seconds: number): number => NOW_MS + seconds * 1000
    verifyWebhook(secret, signed(), BODY, { now: () => at(300) })
    verifyWebhook(secret, signed(), BODY, { now: () => at(-300) })
    expectRefused(() => verifyWebhook(secret, signed(), BODY, { now: () => at(301) }), /too old/)
    expectRefused(() => verifyWebhook(secret, signed(), BODY, { now: () => at(-301) }), /too new/)
    verifyWebhook(secret, signed(), BODY, { now: () => at(3600), tolerance: 3600 })
    expectRefused(() => verifyWebhook(secret, signed(), BODY, { now: () => at(61), tolerance: 60 }), /too old/)
    expectRefused(() => verifyWebhook(secret, { ...signed(), 'webhook-timestamp': String(NOW + 1) }, BODY, { now }), /No matching webhook signature/)
    expectRefused(() => verifyWebhook(secret, { ...signed(), 'webhook-timestamp': '1e9' }, BODY, { now }), /Invalid webhook-timestamp/)
    // And the reference library, on the real clock, refuses our signature of an hour ago too.
    const old = signatureHeaders({ id: ID, timestamp: Math.floor(Date.now() / 1000) - 3600, body: BODY, secrets: [secret] })
    expect(() => new Webhook(secret).verify(BODY, { ...old })).to.throw(/too old/)
  })

  it('refuses a delivery missing any of the three headers, or with one empty or repeated', () => {
    const headers = signed()
    for (const name of Object.keys(headers) as Array<keyof typeof headers>) {
      const without: WebhookHeaders = { ...headers, [name]: undefined }
      expectRefused(() => verifyWebhook(secret, without, BODY, { now }), /Missing webhook headers/)
      expectRefused(() => verifyWebhook(secret, { ...headers, [name]: '' }, BODY, { now }), /Missing webhook headers/)
      expectRefused(() => verifyWebhook(secret, { ...headers, [name]: [headers[name], headers[name]] }, BODY, { now }), /Missing webhook headers/)
    }
    expectRefused(() => verifyWebhook(secret, new Headers(), BODY, { now }), /Missing webhook headers/)
  })

  it('ignores signatures of other versions: a v2 signature alone is refused, beside a v1 one it is skipped', () => {
    const v1 = signed()['webhook-signature']
    const v2 = v1.replace(/^v1,/, 'v2,')
    expectRefused(() => verifyWebhook(secret, { ...signed(), 'webhook-signature': v2 }, BODY, { now }), /No matching webhook signature/)
    verifyWebhook(secret, { ...signed(), 'webhook-signature': `${v2} v1a,${v1.slice(3)} ${v1}` }, BODY, { now })
    expectRefused(() => verifyWebhook(secret, { ...signed(), 'webhook-signature': v1.slice(3) }, BODY, { now }), /No matching webhook signature/)
  })

  it('refuses to sign without a secret or with a secret that is not base64, never quoting it', () => {
    expect(() => signed({ secrets: [] })).to.throw(RangeError)
    expect(() => signed({ timestamp: NOW + 0.5 })).to.throw(RangeError)
    const err = refusal(() => signed({ secrets: ['whsec_not base64!'] }))
    expect(err).to.be.instanceOf(TypeError)
    expect(err.message).to.not.include('not base64!')
  })
})
