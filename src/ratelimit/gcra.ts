/**
 * GCRA, exactly as DESIGN.md "Rate limiting" states it, in integer microseconds. Pure functions: the memory
 * store runs `gcraStep` and the Redis script transcribes it, so both decide alike; the limiter derives
 * the header figures from the step's result with the rest.
 */
import type { GcraParams } from './types.js'

const US_PER_SECOND = 1_000_000

/** T = window / limit in whole microseconds (floored, at least 1). */
export function intervalUs(windowMs: number, limit: number): number {
  return Math.max(1, Math.floor((windowMs * 1000) / limit))
}

/**
 * One decision: admitted iff TAT − now ≤ (burst − 1)·T; then TAT = max(TAT, now) + T. A refusal leaves TAT
 * as it was. An absent key behaves as TAT = now (idle), so a TAT in the past is the same as none.
 */
export function gcraStep(tatUs: number | undefined, nowUs: number, { intervalUs: t, burst }: GcraParams): { allowed: boolean; tatUs: number } {
  const tat = tatUs ?? nowUs
  if (tat - nowUs > (burst - 1) * t) return { allowed: false, tatUs: tat }
  return { allowed: true, tatUs: Math.max(tat, nowUs) + t }
}

/** How many requests would be admitted at once right now (0..burst). */
export function remaining(tatUs: number, nowUs: number, { intervalUs: t, burst }: GcraParams): number {
  // The k-th request from now is admitted iff max(TAT, now) + (k−1)·T − now ≤ (burst−1)·T.
  const backlog = Math.max(0, tatUs - nowUs)
  return Math.max(0, burst - Math.ceil(backlog / t))
}

/** Whole seconds until the key is idle again (TAT ≤ now): the whole burst is back. */
export function secondsUntilIdle(tatUs: number, nowUs: number): number {
  return Math.ceil(Math.max(0, tatUs - nowUs) / US_PER_SECOND)
}

/** Retry-After of a refusal: TAT − (burst − 1)·T − now, rounded up to whole seconds, at least 1. */
export function retryAfterSeconds(tatUs: number, nowUs: number, { intervalUs: t, burst }: GcraParams): number {
  return Math.max(1, Math.ceil((tatUs - (burst - 1) * t - nowUs) / US_PER_SECOND))
}
