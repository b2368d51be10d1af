/**
 * Cron schedules (`backups.schedule`): five fields, minute to weekday, read in UTC so every instance and
 * every machine agrees on when a run is due. croner parses them; it also takes seconds and years, which
 * a schedule of ours has no use for, so those are refused here.
 */
import { Cron } from 'croner'

export interface Schedule {
  /** The expression as written. */
  readonly expression: string
  /** The first run strictly after `after` (epoch ms), or undefined when the expression never fires again. */
  nextAfter(after: number): number | undefined
}

/** Parses a five-field cron expression; throws an Error whose message says what is wrong. */
export function parseSchedule(expression: string): Schedule {
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== 5) throw new Error(`expected five cron fields (minute hour day month weekday), such as "0 3 * * *"; got ${fields.length}`)
  let cron: Cron
  try {
    cron = new Cron(fields.join(' '), { timezone: 'UTC', paused: true })
  } catch (err) {
    throw new Error((err as Error).message.replace(/^CronPattern: /, ''), { cause: err })
  }
  return {
    expression,
    nextAfter(after) {
      return cron.nextRun(new Date(after))?.getTime()
    },
  }
}

/** The schema's check: the reason an expression is refused, or undefined when it parses. */
export function scheduleProblem(expression: string): string | undefined {
  try {
    parseSchedule(expression)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
