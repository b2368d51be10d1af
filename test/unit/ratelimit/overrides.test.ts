import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import type { RateLimitOverride } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createMemoryStore, createRateLimiter, EDGE_KEYS, IDENTITY_KEYS, type RateLimitRule, type RateLimitStore } from '../../../src/ratelimit/index.js'

const rule = (over: Partial<RateLimitRule>): RateLimitRule => ({
  name: 'r',
  match: { method: '*', path: '/*' },
  key: 'ip',
  limit: 60,
  windowMs: 60_000,
  burst: 2,
  mode: 'enforce',
  ...over,
})
const req = { method: 'GET', path: '/api/x', ip: '203.0.113.7' }

/** A store that fails every call, as Redis does while it is down. */
const deadStore: RateLimitStore = {
  consume: () => Promise.reject(new Error('Connection is closed.')),
  peek: () => Promise.reject(new Error('Connection is closed.')),
}

describe('ratelimit/limiter: overrides, store failures and key phases', () => {
  it("an override gives one subject its own figures; others keep the rule's", async () => {
    const clock = manualClock()
    const overrides: RateLimitOverride[] = [{ rule: 'r', subjectType: 'ip', subject: '203.0.113.7', limit: 600, windowMs: 60_000, burst: 5, blocked: false }]
    const limiter = createRateLimiter({ rules: [rule({})], store: createMemoryStore({ clock }), overrides, clock })
    for (let i = 0; i < 5; i++) expect((await limiter.check(req)).allowed, `request ${i + 1}`).to.equal(true)
    const sixth = await limiter.check(req)
    expect(sixth.allowed).to.equal(false)
    expect(sixth.headers['RateLimit-Policy']).to.equal('"r";q=600;w=60')
    const other = { ...req, ip: '198.51.100.1' }
    expect((await limiter.check(other)).allowed).to.equal(true)
    expect((await limiter.check(other)).allowed).to.equal(true)
    expect((await limiter.check(other)).allowed).to.equal(false)
  })

  it('a block refuses with Retry-After until it expires, then the rule applies again; an IPv4-mapped address is the same subject', async () => {
    const clock = manualClock()
    const overrides: RateLimitOverride[] = [{ rule: '*', subjectType: 'ip', subject: '203.0.113.7', blocked: true, expiresAt: clock.now() + 90_000 }]
    const limiter = createRateLimiter({ rules: [rule({})], store: createMemoryStore({ clock }), overrides, clock })
    const blocked = await limiter.check({ ...req, ip: '::ffff:203.0.113.7' })
    expect(blocked).to.include({ allowed: false, rule: 'r', retryAfterSeconds: 90, unavailable: false })
    expect(blocked.headers['Retry-After']).to.equal('90')
    clock.advance(90_000)
    expect((await limiter.check(req)).allowed).to.equal(true)
  })

  it('a block without an expiry says to come back in an hour; a rule-specific override wins over a * one', async () => {
    const clock = manualClock()
    const overrides: RateLimitOverride[] = [
      { rule: '*', subjectType: 'ip', subject: '203.0.113.7', blocked: true },
      { rule: 'r', subjectType: 'ip', subject: '203.0.113.7', limit: 60, windowMs: 60_000, burst: 1, blocked: false },
    ]
    const limiter = createRateLimiter({ rules: [rule({}), rule({ name: 'other' })], store: createMemoryStore({ clock }), overrides, clock })
    expect(await limiter.check(req)).to.include({ allowed: false, rule: 'other', retryAfterSeconds: 3600 })
  })

  it('user and apiKey overrides match the id the server passes; global and account rules take none', async () => {
    const clock = manualClock()
    const overrides: RateLimitOverride[] = [
      { rule: '*', subjectType: 'user', subject: '42', blocked: true },
      { rule: '*', subjectType: 'apiKey', subject: 'KEY1', blocked: true },
    ]
    const rules = [rule({ name: 'u', key: 'user' }), rule({ name: 'k', key: 'apiKey' }), rule({ name: 'g', key: 'global', burst: 100 })]
    const limiter = createRateLimiter({ rules, store: createMemoryStore({ clock }), overrides, clock })
    expect(await limiter.check({ ...req, user: '42' })).to.include({ allowed: false, rule: 'u' })
    expect(await limiter.check({ ...req, user: '7', apiKey: 'KEY1' })).to.include({ allowed: false, rule: 'k' })
    expect((await limiter.check({ ...req, user: '7', apiKey: 'KEY2' })).allowed).to.equal(true)
  })

  it('a shadow rule under a block counts the refusal and refuses nothing', async () => {
    const clock = manualClock()
    const overrides: RateLimitOverride[] = [{ rule: '*', subjectType: 'ip', subject: '203.0.113.7', blocked: true }]
    const limiter = createRateLimiter({ rules: [rule({ mode: 'shadow' })], store: createMemoryStore({ clock }), overrides, clock })
    const decision = await limiter.check(req)
    expect(decision).to.include({ allowed: true })
    expect(decision.shadowRefused).to.deep.equal(['r'])
  })

  it('when the store fails: open admits, closed refuses as unavailable, local decides from the fallback; each failure is reported', async () => {
    const clock = manualClock()
    const reported: string[] = []
    const make = (onStoreError: 'open' | 'closed' | 'local') =>
      createRateLimiter({
        rules: [rule({ name: onStoreError, onStoreError, burst: 1 })],
        store: deadStore,
        fallback: createMemoryStore({ clock }),
        clock,
        onStoreError: (_err, name) => reported.push(name),
      })
    const open = make('open')
    expect(await open.check(req)).to.include({ allowed: true, unavailable: false })
    expect((await open.check(req)).applied).to.deep.equal([{ rule: 'open', allowed: true, shadow: false, storeError: true }])
    const closed = await make('closed').check(req)
    expect(closed).to.include({ allowed: false, unavailable: true, retryAfterSeconds: 1 })
    expect(closed.headers).to.deep.equal({ 'Retry-After': '1' })
    const local = make('local')
    expect((await local.check(req)).allowed).to.equal(true)
    expect((await local.check(req)).allowed).to.equal(false) // burst 1 in memory
    expect(reported).to.deep.equal(['open', 'open', 'closed', 'local', 'local'])
  })

  it('a local rule continues the budget the store had spent when the store goes away, instead of a fresh burst', async () => {
    const clock = manualClock()
    const shared = createMemoryStore({ clock })
    let up = true
    const flaky: RateLimitStore = {
      consume: (key, params, nowUs) => (up ? shared.consume(key, params, nowUs) : Promise.reject(new Error('Connection is closed.'))),
      peek: (key) => shared.peek(key),
    }
    const limiter = createRateLimiter({ rules: [rule({ onStoreError: 'local', burst: 5 })], store: flaky, fallback: createMemoryStore({ clock }), clock })
    for (let i = 0; i < 4; i++) expect((await limiter.check(req)).allowed).to.equal(true)
    up = false
    expect((await limiter.check(req)).allowed).to.equal(true) // the 5th of the burst
    expect(await limiter.check(req)).to.include({ allowed: false, unavailable: false }) // not a 6th: the burst was spent
  })

  it('an error while reporting a store failure changes nothing', async () => {
    const limiter = createRateLimiter({
      rules: [rule({})],
      store: deadStore,
      onStoreError: () => {
        throw new Error('logger down')
      },
    })
    expect((await limiter.check(req)).allowed).to.equal(true)
  })

  it('checks only the rules keyed on the given keys: ip and global at the edge, user and apiKey after authentication', async () => {
    const clock = manualClock()
    const rules = [rule({ name: 'ip' }), rule({ name: 'g', key: 'global' }), rule({ name: 'u', key: 'user' }), rule({ name: 'k', key: 'apiKey' })]
    const limiter = createRateLimiter({ rules, store: createMemoryStore({ clock }), clock })
    const full = { ...req, user: '1', apiKey: 'K' }
    expect((await limiter.check(full, EDGE_KEYS)).applied.map((a) => a.rule)).to.deep.equal(['ip', 'g'])
    expect((await limiter.check(full, IDENTITY_KEYS)).applied.map((a) => a.rule)).to.deep.equal(['u', 'k'])
    expect((await limiter.check(full)).applied.map((a) => a.rule)).to.deep.equal(['ip', 'g', 'u', 'k'])
  })
})
