import { distance } from 'fastest-levenshtein'

/**
 * The candidate closest to what was typed, when it is close enough to be what was meant: at most a third of
 * the typed length in edits (at least one, at most three), as git and gh judge a typo. Ties go to the
 * candidate listed first.
 */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  const budget = Math.min(3, Math.max(1, Math.floor(typed.length / 3)))
  let best: { candidate: string; edits: number } | undefined
  for (const candidate of candidates) {
    const edits = distance(typed, candidate)
    if (edits <= budget && (best === undefined || edits < best.edits)) best = { candidate, edits }
  }
  return best?.candidate
}
