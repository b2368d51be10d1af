/**
 * What a client can check of a rate-limit rule from the answers it got (DESIGN.md "Rate limiting").
 *
 * Admission bound (GCRA): n requests admitted at times t1 ≤ … ≤ tn need tn − t1 ≥ (n − burst)·T,
 * T = window / limit. A request is decided somewhere between the moment the client sent it and the moment
 * its answer arrived, so for any set of admitted requests the decisions span at most (last answer − first
 * send): a bound computed from client times can never flag a correct limiter. The same holds in any one
 * window: the admitted requests sent at or after a given send and answered within `window` of it were
 * decided within that window, so there are at most burst + limit of them.
 */
import { expect } from 'chai'
import type { Shot } from './http-load.js'

/** A rule's figures: `limit` per `windowMs` sustained, `burst` at once. */
export interface RuleFigures {
  readonly limit: number
  readonly windowMs: number
  readonly burst: number
}

export interface BudgetReport {
  readonly admitted: number
  readonly refused: number
  /** From the first admitted request's send to the last one's answer. */
  readonly spanMs: number
  /** burst + limit · span / window: the most GCRA can have admitted over the span. */
  readonly bound: number
  readonly maxInWindow: number
  /** Admitted above the bound over the whole span, or above limit + burst in the worst window (0 when correct). */
  readonly overAdmitted: number
}

/** The q= of `rule` in a RateLimit-Policy field, or undefined when the rule is not listed. */
export function policyQuota(shot: Shot, rule: string): number | undefined {
  const field = shot.headers['ratelimit-policy']
  const match = typeof field === 'string' ? new RegExp(`"${rule}";q=(\\d+);w=(\\d+)`).exec(field) : null
  return match ? Number(match[1]) : undefined
}

/** A 429 as DESIGN.md has it: Retry-After in whole seconds (≥ 1) and a problem+json body saying 429. */
export function expectRefusal(shot: Shot): void {
  expect(shot.status).to.equal(429)
  expect(shot.headers['retry-after'], 'Retry-After').to.match(/^[1-9]\d*$/)
  expect(shot.headers['content-type'], 'content-type').to.match(/^application\/problem\+json/)
  const problem = JSON.parse(shot.body) as { status?: number; title?: string }
  expect(problem.status).to.equal(429)
  expect(problem.title).to.be.a('string')
}

/** One rule's admissions (every answer but a 429 counts as admitted) measured against GCRA; asserts nothing. */
export function measureBudget(shots: readonly Shot[], figures: RuleFigures): BudgetReport {
  const admitted = shots.filter((s) => s.status !== 429).sort((a, b) => a.sentAt - b.sentAt)
  const refused = shots.filter((s) => s.status === 429).length
  const spanMs = admitted.length === 0 ? 0 : Math.max(...admitted.map((s) => s.answeredAt)) - Math.min(...admitted.map((s) => s.sentAt))
  const bound = figures.burst + (figures.limit * spanMs) / figures.windowMs
  let maxInWindow = 0
  for (const first of admitted) {
    const inWindow = admitted.filter((s) => s.sentAt >= first.sentAt && s.answeredAt <= first.sentAt + figures.windowMs).length
    maxInWindow = Math.max(maxInWindow, inWindow)
  }
  const overAdmitted = Math.max(0, admitted.length - Math.floor(bound), maxInWindow - (figures.limit + figures.burst))
  return { admitted: admitted.length, refused, spanMs, bound, maxInWindow, overAdmitted }
}

/**
 * Asserts one rule's admissions against GCRA: overall ≤ bound, in every window ≤ limit + burst; every 429
 * well formed, its Retry-After at most T rounded up to seconds (a refusal waits for the next admission).
 */
export function expectWithinBudget(shots: readonly Shot[], figures: RuleFigures, report: BudgetReport = measureBudget(shots, figures)): BudgetReport {
  const refused = shots.filter((s) => s.status === 429)
  for (const shot of refused) expectRefusal(shot)
  const maxRetryAfter = Math.ceil(figures.windowMs / figures.limit / 1000)
  expect(refused.filter((s) => Number(s.headers['retry-after']) > maxRetryAfter).map((s) => s.headers['retry-after'])).to.deep.equal([])
  expect(report.admitted, `admitted ${report.admitted} over ${Math.round(report.spanMs)} ms; GCRA allows at most ${report.bound.toFixed(1)}`).to.be.at.most(
    report.bound,
  )
  expect(report.maxInWindow, `admitted within one ${figures.windowMs} ms window`).to.be.at.most(figures.limit + figures.burst)
  return report
}

export interface LoadFacts {
  readonly sent: number
  readonly elapsedMs: number
  readonly ratePerSecond: number
}

/** The rate at which `shots` were sent (first to last send). */
export function loadFacts(shots: readonly Shot[]): LoadFacts {
  const first = Math.min(...shots.map((s) => s.sentAt))
  const last = Math.max(...shots.map((s) => s.sentAt))
  const elapsedMs = last - first
  return { sent: shots.length, elapsedMs, ratePerSecond: ((shots.length - 1) * 1000) / elapsedMs }
}

/** Load facts every budget test states: at least `minRatePerSecond` (10× the rule's rate), spread over every instance. */
export function expectLoad(shots: readonly Shot[], instances: number, minRatePerSecond: number): LoadFacts {
  const facts = loadFacts(shots)
  expect(facts.ratePerSecond, 'the load is at least 10× the sustained rate').to.be.at.least(minRatePerSecond)
  for (let i = 0; i < instances; i++)
    expect(shots.filter((s) => s.instance === i).length, `requests to instance ${i}`).to.be.at.least(Math.floor(shots.length / instances))
  return facts
}
