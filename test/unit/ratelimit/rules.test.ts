import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import { GantryError } from '../../../src/core/errors.js'
import { createMemoryStore, createRateLimiter, environmentRules, loginRules, type RateLimitRule } from '../../../src/ratelimit/index.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const LOGIN_RULES = loginRules(BUILTIN_RULE_ROUTES.login)

const defaultRule = (limit: number, burst: number): RateLimitRule => ({
  name: 'default',
  match: { method: '*', path: '/*' },
  exempt: ['/api/health', '/api/health/*', '/metrics'],
  key: 'ip',
  limit,
  windowMs: 60_000,
  burst,
  mode: 'enforce',
  onStoreError: 'open',
})

const byName = (name: string) => {
  const rule = LOGIN_RULES.find((r) => r.name === name)
  if (!rule) throw new Error(`no ${name}`)
  return rule
}
const intervalMs = (r: RateLimitRule) => r.windowMs / r.limit

describe('ratelimit/rules', () => {
  it('has no default rule where the environment is unlimited', () => {
    expect(environmentRules(null, BUILTIN_RULE_ROUTES.exempt)).to.deep.equal([])
  })

  it('turns the staging and production defaults (DESIGN.md) into one per-address rule', () => {
    expect(environmentRules({ limit: 500, window: '1m', burst: 100 }, BUILTIN_RULE_ROUTES.exempt)).to.deep.equal([defaultRule(500, 100)])
    expect(environmentRules({ limit: 100, window: '1m', burst: 20 }, BUILTIN_RULE_ROUTES.exempt)).to.deep.equal([defaultRule(100, 20)])
    expect(environmentRules({ limit: 10, window: '90s', burst: 1 }, BUILTIN_RULE_ROUTES.exempt)[0]?.windowMs).to.equal(90_000)
  })

  it('refuses a default it cannot enforce', () => {
    expect(() => environmentRules({ limit: 100, window: 'soon', burst: 20 }, BUILTIN_RULE_ROUTES.exempt)).to.throw(GantryError)
    expect(() => environmentRules({ limit: 100, window: '1m', burst: 0 }, BUILTIN_RULE_ROUTES.exempt)).to.throw(GantryError)
    expect(() => environmentRules({ limit: 0, window: '1m', burst: 5 }, BUILTIN_RULE_ROUTES.exempt)).to.throw(GantryError)
  })

  it('has login rules per address and per account on POST /api/v1/auth/login, the account one tighter', () => {
    expect(LOGIN_RULES.map((r) => [r.name, r.key, r.match.method, r.match.path, r.mode])).to.deep.equal([
      ['login-ip', 'ip', 'POST', '/api/v1/auth/login', 'enforce'],
      ['login-account', 'account', 'POST', '/api/v1/auth/login', 'enforce'],
    ])
    const ip = byName('login-ip')
    const account = byName('login-account')
    expect(intervalMs(account)).to.be.greaterThan(intervalMs(ip))
    expect(account.burst).to.be.lessThan(ip.burst)
    // At least the lockout's 5 failures at once: an honest user meets the lockout's answer before a 429.
    expect(account.burst).to.be.at.least(5)
  })

  it('throttles logins per account across addresses and per address across accounts, and nothing else', async () => {
    const clock = manualClock()
    const limiter = createRateLimiter({ rules: LOGIN_RULES, store: createMemoryStore({ clock }) })
    const login = (ip: string, account: string) => limiter.check({ method: 'POST', path: '/api/v1/auth/login', ip, account })
    const account = byName('login-account')
    for (let i = 0; i < account.burst; i++) expect((await login(`192.0.2.${i}`, 'victim@example.com')).allowed).to.equal(true)
    expect(await login('192.0.2.200', 'VICTIM@example.com')).to.include({ allowed: false, rule: 'login-account' })
    const ip = byName('login-ip')
    for (let i = 0; i < ip.burst; i++) expect((await login('198.51.100.9', `user${i}@example.com`)).allowed).to.equal(true)
    expect(await login('198.51.100.9', 'someone-else@example.com')).to.include({ allowed: false, rule: 'login-ip' })
    expect((await limiter.check({ method: 'GET', path: '/api/v1/auth/me', ip: '198.51.100.9' })).applied).to.deep.equal([])
  })
})
