import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import { GantryError } from '../../../src/core/errors.js'
import { sfString } from '../../../src/ratelimit/headers.js'
import {
  createMemoryStore,
  createRateLimiter,
  DEFAULT_KEY_PREFIX,
  environmentRules,
  RATELIMIT_HEADERS_DRAFT,
  type RateLimitRule,
  type RateLimitStore,
  type RateLimitSubject,
} from '../../../src/ratelimit/index.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const base: RateLimitRule = { name: 'r', match: { method: '*', path: '/*' }, key: 'ip', limit: 100, windowMs: 60_000, burst: 20, mode: 'enforce' }
const rule = (over: Partial<RateLimitRule>): RateLimitRule => ({ ...base, ...over })
const subject = (over: Partial<RateLimitSubject> = {}): RateLimitSubject => ({ method: 'GET', path: '/api/v1/things', ip: '203.0.113.7', ...over })

/** A memory store that records every key it is asked about, in order. */
function spyStore() {
  const clock = manualClock()
  const inner = createMemoryStore({ clock })
  const keys: string[] = []
  const store: RateLimitStore = { consume: (key, params, nowUs) => (keys.push(key), inner.consume(key, params, nowUs)), peek: (key) => inner.peek(key) }
  return { clock, store, keys }
}

// RFC 9651 list of items: sf-string then integer parameters, items joined by ", ".
const ITEM = String.raw`"(?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"(?:;[a-z]+=\d+)+`
const SF_LIST = new RegExp(`^${ITEM}(?:, ${ITEM})*$`)

describe('ratelimit/limiter', () => {
  it('pins the header revision', () => {
    expect(RATELIMIT_HEADERS_DRAFT).to.equal('draft-ietf-httpapi-ratelimit-headers-11')
  })

  it('sends RateLimit-Policy (q, w) and RateLimit (r, t) as structured-field lists, Retry-After when refused', async () => {
    const { store, clock } = spyStore()
    const limiter = createRateLimiter({ rules: environmentRules({ limit: 100, window: '1m', burst: 20 }, BUILTIN_RULE_ROUTES.exempt), store })
    const first = await limiter.check(subject())
    expect(first.headers).to.deep.equal({ 'RateLimit-Policy': '"default";q=100;w=60', RateLimit: '"default";r=19;t=1' })
    for (let i = 0; i < 9; i++) await limiter.check(subject())
    // This is the 11th, T = 0.6 s: 9 left at once, idle again in 6.6 s (rounded up).
    expect((await limiter.check(subject())).headers.RateLimit).to.equal('"default";r=9;t=7')
    clock.advance(600) // one T back, one spent: the same figures
    expect((await limiter.check(subject())).headers.RateLimit).to.equal('"default";r=9;t=7')
    for (let i = 0; i < 9; i++) await limiter.check(subject())
    const refused = await limiter.check(subject())
    expect(refused.allowed).to.equal(false)
    // r = 0: t is the wait for the next admission, the same moment as Retry-After (draft §6).
    expect(refused.headers).to.deep.equal({ 'RateLimit-Policy': '"default";q=100;w=60', RateLimit: '"default";r=0;t=1', 'Retry-After': '1' })
    for (const value of [first.headers['RateLimit-Policy'], first.headers.RateLimit, refused.headers.RateLimit]) expect(value).to.match(SF_LIST)
  })

  it('advertises no request the next decision would refuse when T is not a whole µs (999 per 500 ms, burst 2)', async () => {
    const { store, clock } = spyStore()
    const limiter = createRateLimiter({ rules: [rule({ limit: 999, windowMs: 500, burst: 2 })], store })
    await limiter.check(subject())
    await limiter.check(subject())
    clock.advance(1)
    // T = 500.5 µs; TAT − now is 501.5 µs after the third, past the tolerance of one T: nothing is left.
    const third = await limiter.check(subject())
    expect([third.allowed, third.headers.RateLimit]).to.deep.equal([true, '"r";r=0;t=1'])
    expect((await limiter.check(subject())).headers).to.deep.include({ RateLimit: '"r";r=0;t=1', 'Retry-After': '1' })
  })

  it('lists every enforced rule that applied, in order; w rounds a part second up; names are escaped', async () => {
    const { store } = spyStore()
    const rules = [rule({ name: 'a', windowMs: 1_400, limit: 5, burst: 2 }), rule({ name: 'b"\\', key: 'global', limit: 1000, windowMs: 3_600_000, burst: 10 })]
    const decision = await createRateLimiter({ rules, store }).check(subject())
    expect(decision.headers['RateLimit-Policy']).to.equal('"a";q=5;w=2, "b\\"\\\\";q=1000;w=3600')
    expect(decision.headers.RateLimit).to.equal('"a";r=1;t=1, "b\\"\\\\";r=9;t=4')
    expect(decision.headers['RateLimit-Policy']).to.match(SF_LIST)
    expect(decision.headers.RateLimit).to.match(SF_LIST)
    expect(decision.rule).to.equal('a') // the most restrictive: fewest left
    expect(sfString('naïve\n')).to.equal('"na?ve?"')
    const tie = await createRateLimiter({ rules: [rule({ name: 'x' }), rule({ name: 'y' })], store }).check(subject())
    expect(tie.rule).to.equal('x') // the first of equals
  })

  it('the first refusal stops the chain and earlier budgets are not refunded', async () => {
    const { store, keys } = spyStore()
    const rules = [rule({ name: 'a', burst: 5 }), rule({ name: 'b', key: 'user', burst: 1 }), rule({ name: 'c', key: 'global', burst: 100 })]
    const limiter = createRateLimiter({ rules, store })
    expect((await limiter.check(subject({ user: 'u1' }))).allowed).to.equal(true)
    for (let i = 0; i < 2; i++) {
      const refused = await limiter.check(subject({ user: 'u1' }))
      expect(refused).to.include({ allowed: false, rule: 'b' })
      expect(refused.applied).to.deep.equal([
        { rule: 'a', allowed: true, shadow: false, storeError: false },
        { rule: 'b', allowed: false, shadow: false, storeError: false },
      ])
      expect(refused.headers['RateLimit-Policy']).to.equal('"a";q=100;w=60, "b";q=100;w=60') // c was never reached
    }
    expect(keys.filter((k) => k.includes(':c:'))).to.have.length(1)
    // a was spent by all three requests: 5 − 3 − this one = 1 left. A refund would leave 3.
    const anonymous = await limiter.check(subject())
    expect(anonymous.headers.RateLimit).to.equal('"a";r=1;t=3, "c";r=98;t=2')
  })

  it('a shadow rule records what it would refuse and refuses nothing; its budget is spent only when it admits', async () => {
    const { store, clock } = spyStore()
    const rules = [rule({ name: 's', mode: 'shadow', burst: 2, limit: 1 }), rule({ name: 'e', burst: 10 })]
    const limiter = createRateLimiter({ rules, store })
    for (let i = 0; i < 2; i++) expect((await limiter.check(subject())).shadowRefused).to.deep.equal([])
    const over = await limiter.check(subject())
    expect(over).to.include({ allowed: true, rule: 'e' })
    expect(over.shadowRefused).to.deep.equal(['s'])
    expect(over.applied).to.deep.equal([
      { rule: 's', allowed: false, shadow: true, storeError: false },
      { rule: 'e', allowed: true, shadow: false, storeError: false },
    ])
    expect(over.headers['RateLimit-Policy']).to.equal('"e";q=100;w=60') // not advertised
    clock.advance(60_000) // one T of s: exactly one more, because its refusals spent nothing
    expect((await limiter.check(subject())).shadowRefused).to.deep.equal([])
    expect((await limiter.check(subject())).shadowRefused).to.deep.equal(['s'])
  })

  it('skips a rule whose key the request lacks, and answers {} when nothing applied', async () => {
    const { store, keys } = spyStore()
    const limiter = createRateLimiter({ rules: [rule({ name: 'u', key: 'user', burst: 1 }), rule({ name: 'k', key: 'apiKey', burst: 1 })], store })
    for (let i = 0; i < 3; i++) {
      const anonymous = await limiter.check(subject({ user: '', apiKey: '  ' }))
      expect(anonymous).to.deep.equal({ allowed: true, rule: undefined, headers: {}, shadowRefused: [], applied: [], unavailable: false })
    }
    expect(keys).to.deep.equal([])
    expect((await limiter.check(subject({ user: 'u1' }))).applied).to.deep.equal([{ rule: 'u', allowed: true, shadow: false, storeError: false }])
  })

  it('builds store keys as prefix + rule + ":" + value; global is one budget; accounts ignore case; API keys are hashed', async () => {
    const { store, keys } = spyStore()
    const rules = [rule({ name: 'g', key: 'global', burst: 2 }), rule({ name: 'acc', key: 'account' }), rule({ name: 'key', key: 'apiKey' })]
    const limiter = createRateLimiter({ rules, store, keyPrefix: 'app:' })
    await limiter.check(subject({ ip: '1.1.1.1', account: ' Alice@Example.com', apiKey: 'gk_prod_secret' }))
    expect(keys.slice(0, 2)).to.deep.equal(['app:g:all', 'app:acc:alice@example.com'])
    expect(keys[2]).to.match(/^app:key:[A-Za-z0-9_-]{43}$/)
    expect(keys[2]).not.to.include('secret')
    await limiter.check(subject({ ip: '2.2.2.2', account: 'alice@example.com' }))
    expect(keys[4]).to.equal('app:acc:alice@example.com')
    expect((await limiter.check(subject({ ip: '3.3.3.3' }))).rule).to.equal('g') // a third address, one global budget of 2
    const { store: s2, keys: k2 } = spyStore()
    await createRateLimiter({ rules: [base], store: s2 }).check(subject())
    expect(k2).to.deep.equal([`${DEFAULT_KEY_PREFIX}r:203.0.113.7`])
  })

  it('matches the method (any case; HEAD counts as GET) and the path pattern; honours exempt patterns', async () => {
    const { store } = spyStore()
    const rules = [
      rule({ name: 'post', match: { method: 'POST', path: '/api/v1/auth/login' } }),
      rule({ name: 'get', match: { method: 'get', path: '/api/*' }, exempt: ['/api/public/*'] }),
    ]
    const limiter = createRateLimiter({ rules, store })
    const applied = async (method: string, path: string) => (await limiter.check(subject({ method, path }))).applied.map((a) => a.rule)
    expect(await applied('post', '/api/v1/auth/login')).to.deep.equal(['post'])
    expect(await applied('GET', '/api/v1/auth/login')).to.deep.equal(['get'])
    expect(await applied('HEAD', '/api/x')).to.deep.equal(['get'])
    expect(await applied('PUT', '/api/x')).to.deep.equal([])
    expect(await applied('GET', '/api')).to.deep.equal([]) // '/api/*' is below /api only
    expect(await applied('GET', '/api/public/doc')).to.deep.equal([])
    expect(await applied('GET', '/API/Public/../private')).to.deep.equal(['get'])
  })

  it('exempts health and /metrics from environment defaults, and nothing else', async () => {
    const { store } = spyStore()
    const limiter = createRateLimiter({ rules: environmentRules({ limit: 100, window: '1m', burst: 1 }, BUILTIN_RULE_ROUTES.exempt), store })
    for (const path of ['/api/health', '/api/health/ready', '/metrics', '/API/Health/', '/api//health/./ready?x=1']) {
      for (let i = 0; i < 3; i++) expect(await limiter.check(subject({ path })), path).to.deep.include({ allowed: true, headers: {}, applied: [] })
    }
    for (const path of ['/api/healthz', '/metrics/x', '/api/v1/users', '/']) {
      expect((await limiter.check(subject({ path, ip: path }))).applied, path).to.have.length(1)
    }
  })

  it('refuses invalid rules and duplicate names', () => {
    const store = createMemoryStore({ clock: manualClock() })
    const bad: Partial<RateLimitRule>[] = [
      { limit: 0 },
      { limit: 1.5 },
      { windowMs: 0 },
      { burst: 0 },
      { burst: 2.5 },
      { name: '' },
      { name: 'a:b' },
      { name: 'a b' },
      { key: 'email' as never },
      { mode: 'log' as never },
    ]
    for (const over of bad) expect(() => createRateLimiter({ rules: [rule(over)], store }), JSON.stringify(over)).to.throw(GantryError)
    expect(() => createRateLimiter({ rules: [base, base], store })).to.throw(GantryError, /unique/)
  })
})
