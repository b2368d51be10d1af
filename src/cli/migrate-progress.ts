/**
 * What `migrate latest` and `migrate rollback` show while they run: at a terminal a spinner naming the
 * running migration, n of N and its elapsed time; a line per migration as it completes (on a terminal, a
 * pipe or a file alike); then a summary, or, when the run fails, its report (what stays committed, where
 * the database stands). The migrator only tells (onProgress); everything drawn is decided here.
 */
import { systemClock, type Clock } from '../core/clock.js'
import { isGantryError } from '../core/errors.js'
import { runReportSchema, type MigrationProgress, type MigrationRun, type RunReport } from '../db/migrator/types.js'
import type { Palette } from './terminal-text.js'
import type { Spinner, Ui } from './ui.js'

type Direction = 'up' | 'down'

/** How often the running migration's elapsed time is redrawn. */
const TICK_MS = 100

const WORDS = {
  up: { running: 'Migrating', step: 'Applying', done: 'Applied', none: 'Already up to date: no pending migrations.' },
  down: { running: 'Rolling back', step: 'Rolling back', done: 'Rolled back', none: 'Nothing to roll back.' },
} as const

/** "0.4 s", "12.3 s", "2 min 05 s". */
export function formatElapsed(ms: number): string {
  const tenths = Math.round(Math.max(ms, 0) / 100)
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`
  const seconds = Math.round(ms / 1000)
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`
}

/** The spinner's text while a migration runs: `Applying app/20240101_users (3 of 49) · 1.2 s`. */
export function runningText(event: Extract<MigrationProgress, { phase: 'start' }>, elapsedMs: number): string {
  return `${WORDS[event.direction].step} ${event.set}/${event.name} (${event.index} of ${event.total}) · ${formatElapsed(elapsedMs)}`
}

/** The line a completed migration leaves: `✔ app/20240101_users (12 ms)`, `↩ …` when rolled back. */
export function doneLine(color: Palette, direction: Direction, run: MigrationRun): string {
  const mark = direction === 'up' ? color.green('✔') : color.yellow('↩')
  return `${mark} ${run.set}/${run.name} ${color.dim(`(${run.durationMs} ms)`)}`
}

/** The line a run ends with: `Applied 49 migrations in 3.2 s.`, or that there was nothing to do. */
export function summaryLine(direction: Direction, count: number, elapsedMs: number): string {
  if (count === 0) return WORDS[direction].none
  return `${WORDS[direction].done} ${count} migration${count === 1 ? '' : 's'} in ${formatElapsed(elapsedMs)}.`
}

/** A failed run's report as lines (its next step is the error's hint, printed with the error). */
export function reportLines(color: Palette, report: RunReport): string[] {
  const { failed } = report
  // A raw statement may span lines: each is its own output line (a line break inside one would be escaped).
  const indented = (sql: string, indent: string): string[] => sql.split(/\r?\n/).map((l) => `${indent}${l}`)
  const lines = [color.red(`Failed: ${failed.set}/${failed.name} (${report.direction})`)]
  if (failed.statement) lines.push(...indented(`at: ${failed.statement}`, '  '))
  if (failed.ran.length > 0) {
    const fate = failed.partial ? 'still committed' : 'rolled back with it'
    lines.push(`  ran before it in this migration, ${fate}:`, ...failed.ran.flatMap((sql) => indented(sql, '    ')))
  }
  lines.push(`  ${report.state}`)
  return lines
}

/** The run report a failure carries, if it is one of a migrate run's. */
export function reportOf(err: unknown): RunReport | undefined {
  if (!isGantryError(err)) return undefined
  const parsed = runReportSchema.safeParse(err.details?.report)
  return parsed.success ? parsed.data : undefined
}

/** Live progress of one latest or rollback run. */
export interface MigrateProgress {
  /** The migrator's onProgress. */
  readonly onProgress: (event: MigrationProgress) => void
  /** Runs `work` under the spinner, then prints the summary, or the report when `work` fails (and rethrows). */
  run<R>(work: () => Promise<R>): Promise<R>
}

export interface MigrateProgressOptions {
  readonly direction: Direction
  readonly clock?: Clock | undefined
  /** Calls `tick` every `ms` until the returned function is called (setInterval by default). */
  readonly every?: ((ms: number, tick: () => void) => () => void) | undefined
}

/** Progress of a run on `ui`. */
export function migrateProgress(ui: Ui, options: MigrateProgressOptions): MigrateProgress {
  const { direction } = options
  const clock = options.clock ?? systemClock
  const every = options.every ?? repeat
  let spinner: Spinner | undefined
  let running: { event: Extract<MigrationProgress, { phase: 'start' }>; since: number } | undefined
  let count = 0
  const redraw = (): void => {
    if (running) spinner?.update(runningText(running.event, clock.now() - running.since))
  }
  return {
    onProgress(event) {
      if (event.phase === 'start') {
        running = { event, since: clock.now() }
        redraw()
        return
      }
      running = undefined
      count += 1
      spinner?.out(doneLine(ui.color, direction, event.run))
      // Until the next one starts (or the run commits): how far it got.
      spinner?.update(`${WORDS[direction].running} · ${event.index} of ${event.total} done`)
    },
    async run(work) {
      const started = clock.now()
      try {
        const result = await ui.spin(WORDS[direction].running, async (s) => {
          spinner = s
          const stop = every(TICK_MS, redraw)
          try {
            return await work()
          } finally {
            stop()
            spinner = undefined
          }
        })
        ui.out(summaryLine(direction, count, clock.now() - started))
        return result
      } catch (err) {
        const report = reportOf(err)
        if (report) for (const line of reportLines(ui.color, report)) ui.out(line)
        throw err
      }
    },
  }
}

function repeat(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms)
  timer.unref()
  return () => clearInterval(timer)
}
