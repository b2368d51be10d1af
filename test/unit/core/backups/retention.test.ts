import { expect } from 'chai'
import { backupsToDelete, type RetentionCandidate } from '../../../../src/core/backups/retention.js'

/** A scheduled backup of production started at `iso` (its file named after it). */
const scheduled = (iso: string, environment = 'production'): RetentionCandidate => ({
  file: `/b/${environment}-${iso}.gantry-backup`,
  environment,
  trigger: 'schedule',
  startedAt: iso,
})
const manual = (iso: string): RetentionCandidate => ({ ...scheduled(iso), file: `/b/manual-${iso}.gantry-backup`, trigger: 'manual' })
const migration = (iso: string): RetentionCandidate => ({ ...scheduled(iso), file: `/b/migration-${iso}.gantry-backup`, trigger: 'migration' })
const unreadable: RetentionCandidate = { file: '/b/broken.gantry-backup', environment: null, trigger: null, startedAt: null }

/** Nightly scheduled backups at 03:00 UTC from `first` for `days` days. */
const nightly = (first: string, days: number): RetentionCandidate[] =>
  Array.from({ length: days }, (_, i) => scheduled(new Date(Date.parse(`${first}T03:00:00.000Z`) + i * 86_400_000).toISOString()))

const deletedDays = (deleted: string[]): string[] => deleted.map((f) => /(\d{4}-\d\d-\d\dT\d\d:\d\d)/.exec(f)?.[1] ?? f).sort()

describe('core: backup retention (backups.keep)', () => {
  // Thursday 2026-01-15; ISO week 2026-W03 runs Monday 12th to Sunday 18th.
  const now = Date.parse('2026-01-15T03:10:00.000Z')

  const cases: Array<{ name: string; backups: RetentionCandidate[]; keep: { daily: number; weekly: number }; justTaken?: string; deleted: string[] }> = [
    {
      name: 'nightly for 30 days, 7 daily and 4 weekly: the last 7 days, and the newest of weeks W03, W02, W01 and 2025-W52 (Sundays 11th, 4th, 28th)',
      backups: nightly('2025-12-17', 30),
      keep: { daily: 7, weekly: 4 },
      // Kept: 9th–15th (daily; the 15th and 11th are also W03's and W02's newest), 4 January (W01), 28 December (W52).
      deleted: nightly('2025-12-17', 30)
        .map((b) => b.startedAt!.slice(0, 16))
        .filter(
          (d) =>
            !['2026-01-09', '2026-01-10', '2026-01-11', '2026-01-12', '2026-01-13', '2026-01-14', '2026-01-15', '2026-01-04', '2025-12-28'].includes(
              d.slice(0, 10),
            ),
        )
        .sort(),
    },
    {
      name: 'several a day: only the newest of each day is a daily one',
      backups: [
        scheduled('2026-01-15T01:00:00.000Z'),
        scheduled('2026-01-15T02:00:00.000Z'),
        scheduled('2026-01-14T23:00:00.000Z'),
        scheduled('2026-01-14T01:00:00.000Z'),
      ],
      keep: { daily: 2, weekly: 0 },
      deleted: ['2026-01-14T01:00', '2026-01-15T01:00'],
    },
    {
      name: 'days counted are days that have a backup: a gap (no worker ran) does not eat into them',
      backups: [
        scheduled('2026-01-15T03:00:00.000Z'),
        scheduled('2026-01-05T03:00:00.000Z'),
        scheduled('2026-01-04T03:00:00.000Z'),
        scheduled('2026-01-03T03:00:00.000Z'),
      ],
      keep: { daily: 3, weekly: 0 },
      deleted: ['2026-01-03T03:00'],
    },
    {
      name: 'ISO weeks across a year end: Monday 29 December 2025 is in 2026-W01 with Sunday 4 January',
      backups: [
        scheduled('2026-01-04T03:00:00.000Z'),
        scheduled('2025-12-29T03:00:00.000Z'),
        scheduled('2025-12-28T03:00:00.000Z'),
        scheduled('2025-12-21T03:00:00.000Z'),
      ],
      keep: { daily: 0, weekly: 2 },
      // W01: 4 Jan (newest) beats 29 Dec; W52 of 2025: 28 Dec; 21 Dec (W51) is a third week.
      deleted: ['2025-12-21T03:00', '2025-12-29T03:00'],
    },
    {
      name: 'manual and migration backups, unreadable files and other environments are never deleted, nor counted',
      backups: [
        manual('2026-01-15T02:00:00.000Z'),
        manual('2025-01-01T00:00:00.000Z'),
        migration('2025-06-01T00:00:00.000Z'),
        unreadable,
        scheduled('2025-01-01T03:00:00.000Z', 'staging'),
        scheduled('2026-01-14T03:00:00.000Z'),
        scheduled('2026-01-13T03:00:00.000Z'),
      ],
      keep: { daily: 1, weekly: 0 },
      deleted: ['2026-01-13T03:00'],
    },
    {
      name: 'the backup just taken is kept and is the newest of its day and week, even at keep 0',
      backups: [scheduled('2026-01-15T03:00:00.000Z'), scheduled('2026-01-14T03:00:00.000Z')],
      keep: { daily: 0, weekly: 0 },
      justTaken: scheduled('2026-01-15T03:00:00.000Z').file,
      deleted: ['2026-01-14T03:00'],
    },
    {
      name: 'the just-taken backup fills today: an earlier one of the same day goes',
      backups: [scheduled('2026-01-15T03:00:00.000Z'), scheduled('2026-01-15T01:00:00.000Z'), scheduled('2026-01-14T03:00:00.000Z')],
      keep: { daily: 2, weekly: 0 },
      justTaken: scheduled('2026-01-15T03:00:00.000Z').file,
      deleted: ['2026-01-15T01:00'],
    },
    {
      name: 'a backup dated after now (a clock set wrong) is kept and takes no day from the real ones',
      backups: [scheduled('2026-03-01T03:00:00.000Z'), scheduled('2026-01-15T03:00:00.000Z'), scheduled('2026-01-14T03:00:00.000Z')],
      keep: { daily: 1, weekly: 0 },
      deleted: ['2026-01-14T03:00'],
    },
    {
      name: 'nothing to delete when there are fewer than kept',
      backups: nightly('2026-01-13', 3),
      keep: { daily: 7, weekly: 4 },
      deleted: [],
    },
  ]

  for (const c of cases) {
    it(c.name, () => {
      const deleted = backupsToDelete(c.backups, { environment: 'production', keep: c.keep, now, justTaken: c.justTaken })
      expect(deletedDays(deleted)).to.deep.equal(c.deleted)
      // Only scheduled backups of the environment are ever named.
      for (const file of deleted) expect(c.backups.find((b) => b.file === file)).to.include({ trigger: 'schedule', environment: 'production' })
    })
  }

  it('the choice does not depend on the order the folder listed the files in', () => {
    const backups = [...nightly('2025-12-01', 45), scheduled('2026-01-10T05:00:00.000Z'), scheduled('2026-01-10T05:00:00.000Z', 'staging')]
    const expected = backupsToDelete(backups, { environment: 'production', keep: { daily: 5, weekly: 3 }, now })
    expect(backupsToDelete([...backups].reverse(), { environment: 'production', keep: { daily: 5, weekly: 3 }, now }).sort()).to.deep.equal(
      [...expected].sort(),
    )
  })
})
