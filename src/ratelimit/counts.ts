/**
 * Per-rule decision counts shared by every instance: each instance adds up its decisions in memory and
 * flushes the sums to the database every few seconds (one upsert per rule that saw traffic), so
 * `gantry ratelimit list` shows what the rules did across the fleet without a write per request.
 */
import type { CountDeltas } from '../core/ratelimits/ratelimits.schema.js'
import type { RateLimitDecision } from './types.js'

/** How often an instance adds its counts to the shared ones. */
const COUNTS_FLUSH_MS = 5000

export interface DecisionCounts {
  record(decision: RateLimitDecision): void
  /** Adds what was counted since the last flush (also on shutdown); a failed flush keeps its counts for the next. */
  flush(): Promise<void>
  close(): Promise<void>
}

/** Counts decisions and hands the sums to `write` every `everyMs`. */
export function createDecisionCounts(options: {
  write: (deltas: CountDeltas) => Promise<void>
  onError: (err: unknown) => void
  everyMs?: number
}): DecisionCounts {
  let pending: CountDeltas = {}
  let flushing: Promise<void> | undefined

  const flush = async (): Promise<void> => {
    await flushing
    const deltas = pending
    if (Object.keys(deltas).length === 0) return
    pending = {}
    flushing = options.write(deltas).catch((err: unknown) => {
      // Put them back: the database may be restarting; the next flush carries them.
      for (const [rule, d] of Object.entries(deltas)) {
        const p = (pending[rule] ??= { admitted: 0, refused: 0, shadowRefused: 0, storeErrors: 0 })
        p.admitted += d.admitted
        p.refused += d.refused
        p.shadowRefused += d.shadowRefused
        p.storeErrors += d.storeErrors
      }
      options.onError(err)
    })
    await flushing
    flushing = undefined
  }
  const timer = setInterval(() => void flush(), options.everyMs ?? COUNTS_FLUSH_MS)
  timer.unref()

  return {
    record(decision) {
      for (const applied of decision.applied) {
        const d = (pending[applied.rule] ??= { admitted: 0, refused: 0, shadowRefused: 0, storeErrors: 0 })
        if (applied.storeError) d.storeErrors += 1
        if (applied.allowed) d.admitted += 1
        else if (applied.shadow) d.shadowRefused += 1
        else d.refused += 1
      }
    },
    flush,
    async close() {
      clearInterval(timer)
      await flush()
    },
  }
}
