import { formatCount as count } from './format.js'

/**
 * A one-line progress bar on a terminal, redrawn in place. Our own rather than a library's: the bar is a
 * pure function of the state and the width (tested as such), and drawing it is a carriage return and an
 * erase-line; cli-progress would bring its own formatting language and timers for the same line.
 */

/** What a bar shows. */
export interface BarState {
  /** Work done of the whole, in any unit (bytes read of the file's size); a whole of 0 counts as done. */
  readonly done: number
  readonly total: number
  /** Items handled so far, counted and timed ("12,345 rows · 8,120 rows/s"). */
  readonly items: number
  readonly unit: string
  /** Further counts after the rate, e.g. [[12000, 'imported'], [345, 'skipped']]. */
  readonly counts: ReadonlyArray<readonly [number, string]>
}

/** A bar on a stream. */
export interface ProgressBar {
  /** Shows the new state; redraws at most every `intervalMs` (100 ms: ~10 times a second). */
  update(state: BarState): void
  /** Erases the bar; when `finished`, writes a summary of the last state in its place (see renderSummary). */
  done(finished?: boolean): void
}

const MIN_BAR = 10
const MAX_BAR = 40

/**
 * The bar's line, at most `width - 1` columns (a line that fills the last column wraps on some terminals,
 * and a wrapped line cannot be redrawn in place):
 * `[██████░░░░░░]  42% · 12,345 rows · 8,120 rows/s · 12,000 imported · 345 skipped`.
 * When the width is short the rate goes first, then the bar, then the end of the text.
 */
export function renderBar(state: BarState, elapsedMs: number, width: number): string {
  const fraction = state.total > 0 ? Math.min(Math.max(state.done / state.total, 0), 1) : 1
  const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`
  const rows = `${count(state.items)} ${state.unit}`
  const counts = state.counts.map(([n, label]) => `${count(n)} ${label}`)
  const rate = elapsedMs > 0 ? [`${count((state.items * 1000) / elapsedMs)} ${state.unit}/s`] : []
  const room = width - 1
  for (const text of [[percent, rows, ...rate, ...counts].join(' · '), [percent, rows, ...counts].join(' · ')]) {
    const barWidth = Math.min(MAX_BAR, room - text.length - 3)
    if (barWidth < MIN_BAR) continue
    const filled = Math.floor(fraction * barWidth)
    return `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${text}`
  }
  return [percent, rows, ...counts].join(' · ').slice(0, Math.max(room, 0))
}

/** The line a finished bar leaves: `12,345 rows in 3.2 s (3,858 rows/s).` (the counts are the caller's report). */
export function renderSummary(state: BarState, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? ` (${count((state.items * 1000) / elapsedMs)} ${state.unit}/s)` : ''
  return `${count(state.items)} ${state.unit} in ${(elapsedMs / 1000).toFixed(1)} s${rate}.`
}

/** Draws a bar on `stream` (a terminal) from the moment it is created. */
export function createProgressBar(
  stream: NodeJS.WriteStream,
  options: { now?: () => number; intervalMs?: number; style?: (line: string) => string } = {},
): ProgressBar {
  const now = options.now ?? Date.now
  const interval = options.intervalMs ?? 100
  const started = now()
  let latest: BarState | undefined
  let drawnAt: number | undefined
  return {
    update(state) {
      latest = state
      const at = now()
      if (drawnAt !== undefined && at - drawnAt < interval) return
      drawnAt = at
      stream.write(`\r${renderBar(state, at - started, stream.columns || 80)}\x1b[K`)
    },
    done(finished = false) {
      if (drawnAt !== undefined) stream.write('\r\x1b[K')
      drawnAt = undefined
      if (finished && latest) {
        const line = renderSummary(latest, now() - started)
        stream.write(`${options.style ? options.style(line) : line}\n`)
      }
      latest = undefined
    },
  }
}
