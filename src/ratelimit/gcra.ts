/**
 * GCRA, exactly as DESIGN.md "Rate limiting" states it, with T = window / limit kept exact. T used to be
 * floored to whole microseconds, and every disagreement with the specification that caused was a request
 * admitted that it refuses (limit 999 per 500 ms, burst 2, requests at 0, 0, 1 and 1 ms: the 4th came in);
 * "at most limit + burst per window" broke once limit·(limit + 1) > 1000·window(ms), e.g. 3,000 per second.
 * T is a whole number of 1/limit µs, so every time here is whole µs plus a remainder in 1/limit µs, and
 * every comparison is exact in integers. Pure functions: the memory store runs `gcraStep`, the Redis script
 * transcribes it from `emission`'s figures, and the limiter derives the header figures from the result.
 */
import type { GcraParams, Tat } from './types.js'

const US_PER_SECOND = 1_000_000

/** A span of time: whole µs plus `frac` of 1/limit µs (0 ≤ frac < limit). */
export interface Span {
  readonly us: number
  readonly frac: number
}

/** `k` times `span`, in 1/`per` µs. */
function times(k: number, span: Span, per: number): Span {
  const frac = k * span.frac
  if (Number.isSafeInteger(frac)) return { us: k * span.us + Math.floor(frac / per), frac: frac % per }
  // Past 2^53 only with a burst and a limit both near 10^8 (an override's burst defaults to its limit).
  const big = BigInt(k) * BigInt(span.frac)
  return { us: k * span.us + Number(big / BigInt(per)), frac: Number(big % BigInt(per)) }
}

/** T = window / limit and the tolerance (burst − 1)·T, exact: what the Redis script takes as arguments. */
export function emission({ limit, windowMs, burst }: GcraParams): { interval: Span; tolerance: Span } {
  const windowUs = windowMs * 1000
  const interval = { us: Math.floor(windowUs / limit), frac: windowUs % limit }
  return { interval, tolerance: times(burst - 1, interval, limit) }
}

/**
 * `tat` in 1/`per` µs. A TAT written under other figures (an override changed the key's limit) with a
 * remainder has no exact form in these units: it becomes the next whole µs, later, so never more admitted.
 */
function inUnits(tat: Tat, per: number): Tat {
  if (tat.per === per) return tat
  return { us: tat.frac === 0 ? tat.us : tat.us + 1, frac: 0, per }
}

/** The first whole µs at which the key is idle again (TAT ≤ now): stores expire keys then. */
export function idleAtUs(tat: Tat): number {
  return tat.frac === 0 ? tat.us : tat.us + 1
}

/**
 * One decision: admitted iff TAT − now ≤ (burst − 1)·T; then TAT = max(TAT, now) + T. A refusal leaves TAT
 * as it was. An absent key behaves as TAT = now (idle), so a TAT in the past is the same as none.
 */
export function gcraStep(tat: Tat | undefined, nowUs: number, params: GcraParams): { allowed: boolean; tat: Tat } {
  const per = params.limit
  const { interval, tolerance } = emission(params)
  const held = tat === undefined ? undefined : inUnits(tat, per)
  const from = held === undefined || held.us < nowUs ? { us: nowUs, frac: 0, per } : held
  const ahead = from.us - nowUs
  if (ahead > tolerance.us || (ahead === tolerance.us && from.frac > tolerance.frac)) return { allowed: false, tat: from }
  const frac = from.frac + interval.frac
  return { allowed: true, tat: frac >= per ? { us: from.us + interval.us + 1, frac: frac - per, per } : { us: from.us + interval.us, frac, per } }
}

/** How many requests would be admitted at once right now (0..burst); undefined is an idle key. */
export function remaining(tat: Tat | undefined, nowUs: number, params: GcraParams): number {
  const { burst, limit: per } = params
  if (tat === undefined || idleAtUs(tat) <= nowUs) return burst
  const held = inUnits(tat, per)
  const { interval } = emission(params)
  // The k-th request from now is admitted iff backlog = TAT − now ≤ (burst − k)·T: so burst less the fewest
  // whole T that cover the backlog (bisection over 1..burst, each step an exact comparison).
  const backlog = { us: held.us - nowUs, frac: held.frac }
  const covers = (n: number) => {
    const span = times(n, interval, per)
    return span.us > backlog.us || (span.us === backlog.us && span.frac >= backlog.frac)
  }
  if (!covers(burst)) return 0
  let low = 1
  let high = burst
  while (low < high) {
    const mid = Math.floor((low + high) / 2)
    if (covers(mid)) high = mid
    else low = mid + 1
  }
  return burst - high
}

/** Whole seconds until the key is idle again (TAT ≤ now): the whole burst is back. */
export function secondsUntilIdle(tat: Tat, nowUs: number): number {
  return Math.ceil(Math.max(0, idleAtUs(tat) - nowUs) / US_PER_SECOND)
}

/** Retry-After of a refusal: TAT − (burst − 1)·T − now, rounded up to whole seconds, at least 1. */
export function retryAfterSeconds(tat: Tat, nowUs: number, params: GcraParams): number {
  const held = inUnits(tat, params.limit)
  const { tolerance } = emission(params)
  // us + frac/limit with −limit < frac < limit: rounded up to whole µs, that is us, plus 1 when frac > 0.
  const us = held.us - tolerance.us - nowUs
  const waitUs = held.frac > tolerance.frac ? us + 1 : us
  return Math.max(1, Math.ceil(waitUs / US_PER_SECOND))
}
