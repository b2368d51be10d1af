import { expect } from 'chai'
import fc from 'fast-check'
import { manualClock } from '../../../src/core/clock.js'
import { MAX_MATCH_WILDCARDS } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createMemoryStore, createRateLimiter, loginRules, matchesPath, normalisePath } from '../../../src/ratelimit/index.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'

const LOGIN_RULES = loginRules(BUILTIN_RULE_ROUTES.login)

const LOGIN = '/api/v1/auth/login'

// Spellings a router or a proxy in front of it may still send to the login handler.
const VARIANTS = [
  '/api/v1/auth/login',
  '/API/v1/auth/login/',
  '/Api/V1/Auth/LOGIN',
  '//api/v1//auth/./login',
  '/api/v1/x/../auth/login',
  '/api/v1/auth/%6Cogin',
  '/api/v1/auth/%6cOGIN',
  '/%61%70%69/v1/auth/login',
  '/api/v1/auth%2Flogin',
  '/api/v1/auth%2flogin',
  '/api/v1/auth/login?next=/admin',
  '/api/v1/auth/login#frag',
  '/api/v1/auth/login/.',
  '/api/v1/auth/login/./',
  '/api/v1/auth/x/y/../../login',
  '/api/v1/auth/%2e/login',
  '/api/v1/x/%2E%2E/auth/login',
  '/api/v1/auth\\login',
  '/api/v1/auth%5Clogin',
  '/../../api/v1/auth/login',
  'api/v1/auth/login',
  '/api/v1/auth/login//',
]

describe('ratelimit/paths', () => {
  it('lands every path variant of the login route on the login rule', async () => {
    for (const path of VARIANTS) {
      expect(normalisePath(path), path).to.equal(LOGIN)
      const limiter = createRateLimiter({ rules: LOGIN_RULES, store: createMemoryStore({ clock: manualClock() }) })
      const decision = await limiter.check({ method: 'POST', path, ip: '198.51.100.1', account: 'a@example.com' })
      expect(
        decision.applied.map((a) => a.rule),
        path,
      ).to.deep.equal(['login-ip', 'login-account'])
    }
  })

  it('does not fold different paths together', () => {
    for (const path of [
      '/api/v1/auth/login2',
      '/api/v1/auth/logi',
      '/api/v1/auth',
      '/api/v1/auth/login/x',
      '/api/v1/auth/log%20in',
      '/api/v1/auth/login%3F',
      '/api/v1/auth/%252Flogin',
    ]) {
      expect(normalisePath(path), path).not.to.equal(LOGIN)
    }
    expect(normalisePath('/')).to.equal('/')
    expect(normalisePath('')).to.equal('/')
    expect(normalisePath('/..')).to.equal('/')
    expect(normalisePath('/a/b/../../../c')).to.equal('/c')
    expect(normalisePath('/a/%252F')).to.equal('/a/%252f') // decoded once, as a server does
  })

  it('keeps malformed percent-encoding as it is and never throws', () => {
    expect(normalisePath('/api/%zz/%4')).to.equal('/api/%zz/%4')
    expect(normalisePath('/a%/b%2')).to.equal('/a%/b%2')
    expect(normalisePath('/%E0%A4%A/x')).to.equal('/%e0%a4%a/x')
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (raw) => {
        const once = normalisePath(raw)
        expect(once.startsWith('/')).to.equal(true)
        expect(once === '/' || !once.endsWith('/')).to.equal(true)
        expect(once).not.to.match(/\/\/|\/\.\.?(\/|$)/)
        expect(normalisePath(once)).to.equal(once) // idempotent
      }),
      { numRuns: 2000 },
    )
  })

  it('normalises exactly as the regex-based version did, on random paths dense in escapes, separators and dots', () => {
    // The previous implementation, kept as the oracle: the same result, in plain scans instead of a regex split
    // and a replace callback per escape.
    const oracle = (path: string) => {
      const end = path.search(/[?#]/)
      const bare = end === -1 ? path : path.slice(0, end)
      const decoded = bare.replace(/%([0-9A-Fa-f]{2})/g, (match, hex: string) => {
        const char = String.fromCharCode(Number.parseInt(hex, 16))
        return /^[A-Za-z0-9\-._~]$/.test(char) || char === '/' || char === '\\' ? char : match
      })
      const segments: string[] = []
      for (const segment of decoded.toLowerCase().split(/[/\\]/)) {
        if (segment === '' || segment === '.') continue
        if (segment === '..') segments.pop()
        else segments.push(segment)
      }
      return `/${segments.join('/')}`
    }
    const pieces = [
      '%',
      '%%',
      '2',
      '5',
      'f',
      'F',
      'c',
      'C',
      'e',
      'E',
      '6',
      '1',
      '3',
      '7',
      'z',
      'g',
      'a',
      'A',
      '/',
      '\\',
      '.',
      '..',
      '?',
      '#',
      '~',
      '_',
      '-',
      'İ',
      'Σ',
      '\u0000',
      ' ',
    ]
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.constantFrom(...pieces), { maxLength: 40, size: 'max' }).map((p) => p.join('')),
          fc.string({ unit: 'binary', maxLength: 40 }),
        ),
        (raw) => {
          expect(normalisePath(raw), JSON.stringify(raw)).to.equal(oracle(raw))
        },
      ),
      { numRuns: 20_000 },
    )
  })

  it('normalises random case, slash, dot-segment and percent-encoding mutations of a path to the same result', () => {
    const segment = fc.stringMatching(/^[a-z0-9\-._~]{1,8}$/).filter((s) => s !== '.' && s !== '..')
    const hex = (c: string, upper: boolean) => {
      const code = c.charCodeAt(0).toString(16).padStart(2, '0')
      return `%${upper ? code.toUpperCase() : code}`
    }
    // One spelling of a segment: each character as is, upper-cased or percent-encoded (either hex case).
    const spell = (s: string) =>
      fc
        .array(fc.integer({ min: 0, max: 3 }), { minLength: s.length, maxLength: s.length })
        .map((how) => [...s].map((c, i) => [c, c.toUpperCase(), hex(c, true), hex(c, false)][how[i] ?? 0]).join(''))
    // What may stand between two segments: a slash and its variants, or a detour through another segment.
    const separator = fc.oneof(
      fc.constantFrom('/', '//', '/./', '/%2F', '/%2f', '\\', '%5C', '/%2e/', '/%2E/./'),
      segment.map((s) => `/${s}/../`),
      segment.map((s) => `/${s}/%2e%2E/`),
    )
    const tail = fc.constantFrom('', '/', '//', '/.', '?a=1', '#x', '/?a=/b/../c', '%2F')
    const sample = fc
      .array(segment, { minLength: 1, maxLength: 6 })
      .chain((segments) =>
        fc.tuple(
          fc.constant(segments),
          fc.tuple(...segments.map(spell)),
          fc.array(separator, { minLength: segments.length, maxLength: segments.length }),
          tail,
        ),
      )
    fc.assert(
      fc.property(sample, ([segments, spelled, separators, end]) => {
        const canonical = `/${segments.join('/')}`
        const mutated = spelled.map((s, i) => `${separators[i]}${s}`).join('') + end
        expect(normalisePath(canonical), canonical).to.equal(canonical)
        expect(normalisePath(mutated), mutated).to.equal(canonical)
      }),
      { numRuns: 2000 },
    )
  })

  it('matches patterns: exact, /* below a prefix, /* everything', () => {
    expect(matchesPath('/api/v1/auth/login', LOGIN)).to.equal(true)
    expect(matchesPath('/api/v1/auth/login', '/api/v1/auth/login2')).to.equal(false)
    expect(matchesPath('/api/*', '/api/v1/x')).to.equal(true)
    expect(matchesPath('/api/*', '/api')).to.equal(false)
    expect(matchesPath('/api/*', '/apix/y')).to.equal(false)
    expect(matchesPath('/*', '/')).to.equal(true)
    expect(matchesPath('/*', '/anything/at/all')).to.equal(true)
    expect(matchesPath('/API/V1/Auth/Login/', LOGIN)).to.equal(true) // patterns are normalised too
    expect(matchesPath('/a.b', '/axb')).to.equal(false) // no regex leaks
    expect(matchesPath('/a+', '/aa')).to.equal(false)
  })

  it('matches exactly as `*` → `.*` did, on random patterns and paths', () => {
    // The old matcher, kept as the oracle: fine on inputs this small, exponential on long ones.
    const oracle = (pattern: string, path: string) =>
      new RegExp(
        `^${normalisePath(pattern)
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        's',
      ).test(path)
    // A small alphabet, so parts repeat, overlap and nearly match: where a leftmost choice could go wrong.
    const text = (chars: string, maxLength: number) => fc.array(fc.constantFrom(...chars), { maxLength }).map((cs) => cs.join(''))
    fc.assert(
      fc.property(text('ab/*.', 12), text('ab/.', 16), (pattern, raw) => {
        const path = normalisePath(raw)
        expect(matchesPath(`/${pattern}`, path), `/${pattern} on ${path}`).to.equal(oracle(`/${pattern}`, path))
      }),
      { numRuns: 20_000 },
    )
  })

  it(`decides the worst cases in linear time: ${MAX_MATCH_WILDCARDS} wildcards, near-miss parts, 16,000-character paths`, () => {
    const wildcards = MAX_MATCH_WILDCARDS
    const cases: Array<[pattern: string, path: string]> = [
      // The shape: every `*` can take any split of a run of one letter, and the end never matches.
      [`/${'*a'.repeat(wildcards)}b`, `/${'a'.repeat(41)}`],
      [`/${'*a'.repeat(wildcards)}b`, `/${'a'.repeat(16_000)}`],
      [`/${'*ab'.repeat(wildcards - 1)}*c`, `/${'ab'.repeat(8_000)}`],
      // A long part that almost occurs everywhere: a naive search compares it afresh at every place.
      [`/*${'a'.repeat(120)}b*${'a'.repeat(120)}b`, `/${'a'.repeat(16_000)}`],
      [`/${'*/'.repeat(wildcards)}x`, `/${'a/'.repeat(8_000)}`],
      [`/*${'ab'.repeat(60)}c*`, `/${'ab'.repeat(8_000)}`],
    ]
    const started = performance.now()
    for (const [pattern, path] of cases) expect(matchesPath(pattern, path), pattern).to.equal(false)
    // Linear, these take well under a millisecond each; the backtracking regex took 4 s on the first alone.
    expect(performance.now() - started).to.be.below(250)
    expect(matchesPath(`/${'*a'.repeat(wildcards)}`, `/${'a'.repeat(16_000)}`)).to.equal(true)
  })
})
