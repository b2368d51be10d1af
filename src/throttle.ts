/** Log calls for failures that come in storms (Redis down: every decision fails): one line per interval, with a count of the rest. */

/** Store failures and Redis connection errors are logged at most this often. */
export const STORE_WARN_EVERY_MS = 10_000
/** `report` at most once per `everyMs`; the calls skipped in between are counted into the next one. */
export function throttled(report: (err: unknown, suppressed: number) => void, everyMs: number): (err: unknown) => void {
  let last = Number.NEGATIVE_INFINITY
  let suppressed = 0
  return (err) => {
    const now = Date.now()
    if (now - last < everyMs) {
      suppressed += 1
      return
    }
    last = now
    report(err, suppressed)
    suppressed = 0
  }
}

/** An error as a log field: its type and message, never its stack or a driver's whole object. */
export const errorFields = (err: unknown) => (err instanceof Error ? { type: err.name, message: err.message } : { message: String(err) })
