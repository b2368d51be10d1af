/**
 * Reliability, bad inputs: the slowest rate-limit decision — matching the path and the GCRA step, in process
 * — over adversarial match patterns and paths. Patterns are what `ratelimit set` accepts at worst (the most
 * `*` it allows, parts that nearly occur everywhere, up to 255 characters); paths are what a client can send
 * before authentication (up to 16,000 characters: Node's default limit on a request head is 16 KB), runs of
 * one letter, near-misses, slashes, dot segments and percent-encoding. Each pattern is a rule keyed by
 * address, as the edge checks it before anything else. The regex matcher this replaced (each `*` a
 * backtracking `.*`) held the event loop for 4 s on the first pattern with a 41-character path.
 *
 * Each pattern is compiled once, as the server compiles its rules once per change, and every pattern is
 * warmed up on every path before anything is timed: what an attack meets is the steady state, not the first
 * calls of code V8 has not optimised yet (those measured up to 2 ms on the first patterns, 0.4 ms after).
 * Each pair is then decided several times and the least time kept: a matcher that backtracks pays its cost
 * on every call, so the least of the repeats still shows it, while what only sometimes adds time — the
 * process descheduled on a busy machine (npm test runs two test files at once on two cores), a GC pause, a
 * compiler or GC thread charged to the process — does not. The repeats run in rounds over every pair, so
 * those of one pair are spread over the whole timing rather than taken in one burst. (The process's CPU
 * time, tried before, counts those threads too: under the whole suite's load a median of 0.27 ms read 1.4 ms.)
 *
 * The recorded figure is the time as measured, against the 1 ms target (docs/reliability.md). What the test
 * asserts is how the time grows with the path, which no machine's speed changes: each pattern and path shape
 * is decided at 4,000 and at 16,000 characters, and the longer may take at most GROWTH_BOUND times the
 * shorter (or 1 ms). Linear work grows 4×; a matcher that backtracks or is quadratic grows 16× or far more.
 * Two CI runs failed a fixed bound while the code was linear: a machine slower throughout (1.17 ms, where a
 * quiet run reads 0.3 ms), then one pattern's matcher left unoptimised on a busy machine (1.66 ms, while a
 * reference of the same length took 0.09 ms), whose background compiler had no core to run on. Either slows
 * both lengths alike.
 */
import { expect } from 'chai'
import { manualClock } from '../../src/core/clock.js'
import { MAX_MATCH_WILDCARDS, matchSchema, parseMatch } from '../../src/core/ratelimits/ratelimits.schema.js'
import { createMemoryStore, createRateLimiter, type RateLimitRule } from '../../src/ratelimit/index.js'
import { atScale, record } from '../helpers/scorecard.js'

/** The target: a decision never holds the event loop for more than this. */
const TARGET_MS = 1
/** Timed decisions per pattern and path (the least is kept). */
const REPEATS = atScale(15, 9)
/** How much longer a decision on a path 4× as long may take: linear is 4× at most (fixed costs make it less). */
const GROWTH_BOUND = 8
/** Untimed rounds over every pattern and path first: V8 optimises after enough calls, on a thread of its own. */
const WARM_UP_ROUNDS = 10
/** Path lengths tried: the 41 characters, then up to the longest a request line can carry. */
const LENGTHS = atScale([41, 256, 4_000, 16_000], [41, 4_000, 16_000])
/** The two lengths the growth bound compares. */
const SHORTER = 4_000
const LONGER = 16_000

const W = MAX_MATCH_WILDCARDS
const PATTERNS: readonly string[] = [
  // Every `*` can take any share of a run of one letter, and the end never matches: the shape.
  `/${'*a'.repeat(W)}b`,
  `/${'*ab'.repeat(W - 1)}*c`,
  `/${'*/'.repeat(W)}x`,
  `/${'*a'.repeat(W)}`,
  // Long parts that almost occur at every place: a naive search compares each afresh.
  `/*${'a'.repeat(120)}b*${'a'.repeat(120)}b`,
  `/*${'ab'.repeat(60)}c*`,
  `/api/*${'a/'.repeat(60)}*x`,
]

/** Paths of about `length` characters, each built to keep some pattern above searching for as long as possible. */
const paths = (length: number): string[] => [
  `/${'a'.repeat(length - 1)}`,
  `/${'a'.repeat(length - 2)}b`,
  `/${'ab'.repeat(length / 2)}`,
  `/${'a/'.repeat(length / 2)}`,
  `/${'A'.repeat(length - 1)}`,
  `/${'%61'.repeat(length / 3)}`,
  `/api/${'a/'.repeat(length / 2)}`,
  `/${'./'.repeat(length / 2)}a`,
  `/${'x/../'.repeat(length / 5)}a`,
]

const rule = (pattern: string): RateLimitRule => ({
  name: 'adversarial',
  match: { method: '*', path: pattern },
  key: 'ip',
  limit: 100,
  windowMs: 60_000,
  burst: 20,
  mode: 'enforce',
})

describe('reliability: rate-limit decisions over adversarial patterns and paths (ReDoS)', function () {
  this.timeout(atScale(300_000, 60_000))

  it('ratelimit-redos-decision: no decision takes more than 1 ms, whatever pattern the input accepts and path a client sends', async () => {
    // Only patterns the rules input accepts: the attacker is an operator who may set rules, not a database edit.
    for (const pattern of PATTERNS) expect(matchSchema.safeParse(`* ${pattern}`).success && parseMatch(`* ${pattern}`)?.path, pattern).to.equal(pattern)

    const subjects = LENGTHS.flatMap((length) => paths(length).map((path, shape) => ({ method: 'GET', path, ip: '203.0.113.7', length, shape })))
    const limiters = PATTERNS.map((pattern) => {
      const clock = manualClock()
      return { pattern, limiter: createRateLimiter({ rules: [rule(pattern)], store: createMemoryStore({ clock }), clock }) }
    })
    for (let round = 0; round < WARM_UP_ROUNDS; round++) for (const { limiter } of limiters) for (const subject of subjects) await limiter.check(subject)
    const pairs = limiters.flatMap(({ pattern, limiter }) =>
      subjects.map((subject) => ({ pattern, limiter, subject, path: subject.path, leastMs: Infinity, maxMs: 0 })),
    )
    for (let round = 0; round < REPEATS; round++) {
      for (const pair of pairs) {
        const started = performance.now()
        await pair.limiter.check(pair.subject)
        const ms = performance.now() - started
        pair.leastMs = Math.min(pair.leastMs, ms)
        pair.maxMs = Math.max(pair.maxMs, ms)
      }
    }

    const slowest = pairs.reduce((a, b) => (b.leastMs > a.leastMs ? b : a))
    const short = (text: string) => (text.length > 40 ? `${text.slice(0, 30)}… (${text.length} chars)` : text)
    const value = Number(slowest.leastMs.toFixed(3))
    console.log(
      `      ${pairs.length} pattern/path pairs × ${REPEATS}: slowest (least of the repeats) ${value} ms (${short(slowest.pattern)} on ${short(slowest.path)})`,
    )
    record({
      id: 'ratelimit-redos-decision',
      area: 'bad inputs tried',
      what: 'slowest rate-limit decision, the least of its repeats (normalising and matching the path, and the GCRA step, in process) over adversarial match patterns and paths',
      tried: `${PATTERNS.length} patterns with up to ${W} "*" (up to 255 characters) × ${subjects.length} paths of ${LENGTHS.map((n) => n.toLocaleString('en-US')).join(', ')} characters, each pair decided ${REPEATS}× after ${WARM_UP_ROUNDS} warm-up rounds (the least per pair)`,
      value,
      unit: 'ms',
      target: { comparison: '<=', value: TARGET_MS },
      detail: {
        slowest: { pattern: short(slowest.pattern), path: short(slowest.path), leastMs: value },
        slowestSingleMs: Number(Math.max(...pairs.map((p) => p.maxMs)).toFixed(3)),
        decisions: pairs.length * (REPEATS + WARM_UP_ROUNDS),
      },
    })
    const least = (pattern: string, shape: number, length: number): number =>
      pairs.find((p) => p.pattern === pattern && p.subject.shape === shape && p.subject.length === length)?.leastMs ?? NaN
    const over = pairs
      .filter((pair) => pair.subject.length === LONGER)
      .map((pair) => ({ pair, shorterMs: least(pair.pattern, pair.subject.shape, SHORTER) }))
      .filter(({ pair, shorterMs }) => !(pair.leastMs <= Math.max(TARGET_MS, GROWTH_BOUND * shorterMs)))
      .map(
        ({ pair, shorterMs }) =>
          `${short(pair.pattern)} on ${short(pair.path)}: ${pair.leastMs.toFixed(3)} ms, at ${SHORTER} characters ${shorterMs.toFixed(3)} ms`,
      )
    expect(
      over.length,
      `grew more than ${GROWTH_BOUND}× from ${SHORTER} to ${LONGER} characters, and over ${TARGET_MS} ms: ${over.slice(0, 3).join('; ')}`,
    ).to.equal(0)
  })
})
