/**
 * Durations as config files and flags write them: a whole number and a unit (500ms, 30s, 15m, 24h, 90d).
 * The one parser: token lifetimes, API key expiry and grace, and audit time bounds all read it.
 */
import { z } from 'zod'
import { GantryError } from './errors.js'

const DURATION = /^(\d+)(ms|s|m|h|d)$/
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** A duration string, checked: `expires: durationSchema` in an input schema. */
export const durationSchema = z.string().trim().regex(DURATION, 'expected a duration such as 30s, 15m, 24h or 90d')

/** Whether `text` is a duration. */
export function isDuration(text: string): boolean {
  return DURATION.test(text)
}

/** Milliseconds of a duration; INVALID_INPUT when `text` is not one (or is too long to count in ms). */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim())
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN
  if (!Number.isSafeInteger(ms)) throw new GantryError('INVALID_INPUT', `"${text}" is not a duration such as 30s, 15m, 24h or 90d.`)
  return ms
}

/** Milliseconds written back as a duration in the largest unit that divides them (60000 → 1m), the inverse of parseDuration. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  return `${ms}ms`
}
