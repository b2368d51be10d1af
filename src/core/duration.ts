/**
 * Durations as config files and flags write them: a whole number and a unit (500ms, 30s, 15m, 24h, 90d).
 * The one parser: token lifetimes, API key expiry and grace, and audit time bounds all read it.
 */
import { z } from 'zod'
import { GantryError } from './errors.js'

const DURATION = /^(\d+)(ms|s|m|h|d)$/
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
/**
 * The longest duration: 100 years. Longer ones mean "forever" to a person, and a time that far from now is
 * past what a Date can hold (a cut-off of `now - 10^8 days` would throw when printed).
 */
export const MAX_DURATION_MS = 36_525 * UNIT_MS.d

/** Milliseconds of a duration, or NaN when `text` is not one. */
function durationMs(text: string): number {
  const match = DURATION.exec(text.trim())
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN
}

/** Whether a duration is at most 100 years (true for a text that is no duration: the pattern refuses that). */
export function withinMaxDuration(text: string): boolean {
  return !(durationMs(text) > MAX_DURATION_MS)
}

/** What a schema says of a duration over 100 years. */
export const MAX_DURATION_MESSAGE = 'expected a duration of at most 36525d (100 years)'

/** A duration string, checked: `expires: durationSchema` in an input schema. */
export const durationSchema = z
  .string()
  .trim()
  .regex(DURATION, 'expected a duration such as 30s, 15m, 24h or 90d')
  .refine(withinMaxDuration, MAX_DURATION_MESSAGE)

/** Whether `text` is a duration. */
export function isDuration(text: string): boolean {
  return DURATION.test(text)
}

/** Milliseconds of a duration; INVALID_INPUT when `text` is not one or is longer than 100 years. */
export function parseDuration(text: string): number {
  const ms = durationMs(text)
  if (Number.isNaN(ms)) throw new GantryError('INVALID_INPUT', `"${text}" is not a duration such as 30s, 15m, 24h or 90d.`)
  if (ms > MAX_DURATION_MS) throw new GantryError('INVALID_INPUT', `"${text}" is longer than 100 years (36525d), the longest duration.`)
  return ms
}

/** Milliseconds written back as a duration in the largest unit that divides them (60000 → 1m), the inverse of parseDuration. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  return `${ms}ms`
}
