/**
 * The one backoff policy: `baseMs · 2^attempt` (attempt counting from 0), capped at `maxMs`. Given a
 * `random`, the wait is drawn from [d/2, d] ("equal jitter"): parallel clients and deploy gates spread
 * out, and none comes back at once, as full jitter's [0, d) allows.
 */
export interface Backoff {
  readonly baseMs: number
  readonly maxMs: number
}

export function backoffMs(attempt: number, { baseMs, maxMs }: Backoff, random?: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt)
  return random === undefined ? ceiling : Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
