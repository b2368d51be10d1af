/**
 * Which scheduled backups to keep (`backups.keep: { daily, weekly }`), as a pure choice over what a backup
 * folder lists: the newest scheduled backup of each of the last `daily` UTC days that have one, and of each
 * of the last `weekly` ISO weeks that have one; every other scheduled backup of the environment goes.
 * Counting days that have a backup (not calendar days back from today) means a worker that was down for a
 * week finds its last good backups still there. Only what the schedule made is ever deleted: a backup
 * taken by hand or before a migration, one of another environment sharing the folder, one whose header
 * does not read, one dated after `now` (a clock set wrong must not push the real ones out) are kept, and so
 * is the backup just taken.
 */
import type { BackupTrigger } from './backup.schema.js'

/** A listed backup as retention sees it: null trigger, environment or start when its header did not read. */
export interface RetentionCandidate {
  readonly file: string
  readonly environment: string | null
  readonly trigger: BackupTrigger | null
  /** ISO 8601, the manifest's startedAt. */
  readonly startedAt: string | null
}

export interface RetentionPolicy {
  readonly daily: number
  readonly weekly: number
}

/** The files among `backups` retention deletes, given the environment's policy. */
export function backupsToDelete(
  backups: readonly RetentionCandidate[],
  options: { readonly environment: string; readonly keep: RetentionPolicy; readonly now: number; readonly justTaken?: string | undefined },
): string[] {
  const scheduled = backups
    .map((b) => ({ file: b.file, at: b.startedAt === null ? Number.NaN : Date.parse(b.startedAt), of: b }))
    .filter(({ file, at, of }) => of.trigger === 'schedule' && of.environment === options.environment && at <= options.now && file !== options.justTaken)
    // Newest first; equal starts in file order, so the choice never depends on how the folder listed them.
    .sort((a, b) => b.at - a.at || (a.file < b.file ? 1 : a.file > b.file ? -1 : 0))
  const kept = new Set<string>()
  // The backup just taken is the newest of its day and week: it fills those buckets.
  const justTaken = options.justTaken === undefined ? undefined : backups.find((b) => b.file === options.justTaken)
  const takenAt = justTaken?.startedAt ? Date.parse(justTaken.startedAt) : Number.NaN
  for (const [count, bucketOf] of [
    [options.keep.daily, utcDay],
    [options.keep.weekly, isoWeek],
  ] as const) {
    const buckets = new Set<string>(Number.isNaN(takenAt) || count === 0 ? [] : [bucketOf(takenAt)])
    for (const { file, at } of scheduled) {
      const bucket = bucketOf(at)
      if (buckets.has(bucket)) continue
      if (buckets.size >= count) break
      buckets.add(bucket)
      kept.add(file)
    }
  }
  return scheduled.filter(({ file }) => !kept.has(file)).map(({ file }) => file)
}

/** `2026-12-05`: the UTC day of an instant. */
function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10)
}

/** `2026-W49`: the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday) of an instant, in UTC. */
function isoWeek(at: number): string {
  const date = new Date(at)
  const day = (date.getUTCDay() + 6) % 7 // Monday 0 … Sunday 6
  // The Thursday of this week decides its year.
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3)
  const year = new Date(thursday).getUTCFullYear()
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1
  return `${year}-W${String(week).padStart(2, '0')}`
}
