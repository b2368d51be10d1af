import { expect } from 'chai'
import { manualClock } from '../../../src/core/clock.js'
import { GantryError } from '../../../src/core/errors.js'
import { doneLine, formatElapsed, migrateProgress, reportLines, runningText, summaryLine } from '../../../src/cli/migrate-progress.js'
import type { Palette } from '../../../src/cli/terminal-text.js'
import { createUi, type Spinner, type Ui } from '../../../src/cli/ui.js'
import type { MigrationProgress, RunReport } from '../../../src/db/migrator/types.js'

const plain = Object.fromEntries(['bold', 'dim', 'red', 'green', 'yellow'].map((s) => [s, (t: string) => t])) as unknown as Palette

/** What a run showed: lines on stdout, the spinner's texts, in the order they came. */
interface Shown {
  readonly events: string[]
}

/** A Ui at a terminal, recording instead of drawing: `spin` hands its work a spinner that records. */
function terminalUi(shown: Shown): Ui {
  const spinner: Spinner = {
    update: (text) => shown.events.push(`spinner: ${text}`),
    out: (line) => shown.events.push(`out: ${line}`),
  }
  const ui: Ui = {
    json: false,
    color: plain,
    out: (line = '') => shown.events.push(`out: ${line}`),
    note: () => undefined,
    warn: () => undefined,
    table: () => undefined,
    fields: () => undefined,
    paged: async (draw) => draw(ui),
    async spin(text, work) {
      shown.events.push(`spin: ${text}`)
      const result = await work(spinner)
      shown.events.push('spin ended')
      return result
    },
    progress: () => undefined,
  }
  return ui
}

/** A ticker the test drives: `tick()` is what the interval would call, `stopped` whether the run stopped it. */
function manualTicker(): { every: (ms: number, tick: () => void) => () => void; tick(): void; stopped: boolean; ms: number | undefined } {
  const ticker = {
    ms: undefined as number | undefined,
    stopped: false,
    tick: () => undefined as void,
    every(ms: number, tick: () => void) {
      ticker.ms = ms
      ticker.tick = tick
      return () => {
        ticker.stopped = true
      }
    },
  }
  return ticker
}

const start = (name: string, index: number, total: number, direction: 'up' | 'down' = 'up'): MigrationProgress => ({
  phase: 'start',
  direction,
  set: 'app',
  name,
  index,
  total,
})
const done = (name: string, durationMs: number, index: number, total: number, direction: 'up' | 'down' = 'up'): MigrationProgress => ({
  phase: 'done',
  direction,
  run: { set: 'app', name, durationMs },
  index,
  total,
})

const REPORT: RunReport = {
  direction: 'up',
  transaction: 'each',
  done: [{ set: 'app', name: '001_users', durationMs: 12 }],
  failed: { set: 'app', name: '002_tags', statement: 'insert into nope\nvalues (1)', ran: ['create table `tags` (`id` integer)'], partial: false },
  kept: [{ set: 'app', name: '001_users' }],
  at: { set: 'app', name: '001_users' },
  state: '1 migration of this run stays applied; the database is at app/001_users.',
  next: 'Fix 002_tags.js and run `gantry migrate latest` again: it goes on from app/002_tags.',
}

describe('cli: migrate progress', () => {
  it('formats elapsed time, the running line, the done line and the summary', () => {
    expect([0, 400, 12_345, 59_999, 60_000, 125_000].map(formatElapsed)).to.deep.equal(['0.0 s', '0.4 s', '12.3 s', '1 min 00 s', '1 min 00 s', '2 min 05 s'])
    expect(runningText(start('20240101_users', 3, 49) as Extract<MigrationProgress, { phase: 'start' }>, 1_234)).to.equal(
      'Applying app/20240101_users (3 of 49) · 1.2 s',
    )
    expect(runningText(start('x', 1, 2, 'down') as Extract<MigrationProgress, { phase: 'start' }>, 0)).to.equal('Rolling back app/x (1 of 2) · 0.0 s')
    expect(doneLine(plain, 'up', { set: 'gantry', name: '0001_core', durationMs: 7 })).to.equal('✔ gantry/0001_core (7 ms)')
    expect(doneLine(plain, 'down', { set: 'app', name: 'x', durationMs: 0 })).to.equal('↩ app/x (0 ms)')
    expect(summaryLine('up', 49, 3_210)).to.equal('Applied 49 migrations in 3.2 s.')
    expect(summaryLine('up', 1, 80)).to.equal('Applied 1 migration in 0.1 s.')
    expect(summaryLine('down', 2, 61_000)).to.equal('Rolled back 2 migrations in 1 min 01 s.')
    expect(summaryLine('up', 0, 5)).to.equal('Already up to date: no pending migrations.')
    expect(summaryLine('down', 0, 5)).to.equal('Nothing to roll back.')
  })

  it('at a terminal: the spinner names the running migration, n of N and its elapsed time as the clock moves; each done migration leaves its line; a summary ends the run', async () => {
    const shown: Shown = { events: [] }
    const clock = manualClock(1_000)
    const ticker = manualTicker()
    const progress = migrateProgress(terminalUi(shown), { direction: 'up', clock, every: ticker.every })
    const result = await progress.run(async () => {
      clock.advance(500) // waiting for the lock, reading the state
      progress.onProgress(start('001_users', 1, 2))
      clock.advance(1_200)
      ticker.tick()
      clock.advance(100)
      progress.onProgress(done('001_users', 1_300, 1, 2))
      ticker.tick() // between migrations: nothing to redraw
      progress.onProgress(start('002_tags', 2, 2))
      clock.advance(61_000)
      ticker.tick()
      progress.onProgress(done('002_tags', 61_000, 2, 2))
      return 'result'
    })
    expect(result).to.equal('result')
    expect(ticker.ms).to.equal(100)
    expect(ticker.stopped).to.equal(true)
    expect(shown.events).to.deep.equal([
      'spin: Migrating',
      'spinner: Applying app/001_users (1 of 2) · 0.0 s',
      'spinner: Applying app/001_users (1 of 2) · 1.2 s',
      'out: ✔ app/001_users (1300 ms)',
      'spinner: Migrating · 1 of 2 done',
      'spinner: Applying app/002_tags (2 of 2) · 0.0 s',
      'spinner: Applying app/002_tags (2 of 2) · 1 min 01 s',
      'out: ✔ app/002_tags (61000 ms)',
      'spinner: Migrating · 2 of 2 done',
      'spin ended',
      'out: Applied 2 migrations in 1 min 03 s.',
    ])
  })

  it("when the run fails, prints its report (the statement, what ran before it, the state) and rethrows the run's error", async () => {
    const shown: Shown = { events: [] }
    const progress = migrateProgress(terminalUi(shown), { direction: 'up', clock: manualClock(), every: manualTicker().every })
    const failure = new GantryError('MIGRATION_FAILED', 'Migration app/002_tags.js failed', { hint: REPORT.next, details: { report: REPORT } })
    let thrown: unknown
    await progress
      .run(async () => {
        progress.onProgress(start('001_users', 1, 2))
        progress.onProgress(done('001_users', 12, 1, 2))
        progress.onProgress(start('002_tags', 2, 2))
        throw failure
      })
      .catch((err: unknown) => {
        thrown = err
      })
    expect(thrown).to.equal(failure)
    expect(shown.events.filter((e) => e.startsWith('out: '))).to.deep.equal([
      'out: ✔ app/001_users (12 ms)',
      'out: Failed: app/002_tags (up)',
      'out:   at: insert into nope',
      'out:   values (1)',
      'out:   ran before it in this migration, rolled back with it:',
      'out:     create table `tags` (`id` integer)',
      'out:   1 migration of this run stays applied; the database is at app/001_users.',
    ])
    // Another command's error (no report) passes through with nothing added.
    const quiet: Shown = { events: [] }
    const other = migrateProgress(terminalUi(quiet), { direction: 'down', clock: manualClock(), every: manualTicker().every })
    const plainError = new GantryError('MIGRATION_LOCK_TIMEOUT', 'Timed out')
    expect(await other.run(() => Promise.reject(plainError)).catch((err: unknown) => err)).to.equal(plainError)
    expect(quiet.events).to.deep.equal(['spin: Rolling back'])
  })

  it('reports a partial migration: what ran stays committed', () => {
    const partial: RunReport = { ...REPORT, failed: { ...REPORT.failed, statement: null, partial: true } }
    expect(reportLines(plain, partial)).to.deep.equal([
      'Failed: app/002_tags (up)',
      '  ran before it in this migration, still committed:',
      '    create table `tags` (`id` integer)',
      `  ${REPORT.state}`,
    ])
  })

  it('off a terminal, lines stream as each migration completes and no spinner is drawn; under --json nothing is written', async () => {
    for (const json of [false, true]) {
      const written = { stdout: [] as string[], stderr: [] as string[] }
      const stream = (into: string[]) => ({ isTTY: false, write: (text: string) => into.push(text) }) as unknown as NodeJS.WriteStream
      const ui = createUi({ json, env: { NO_COLOR: '1' }, stdout: stream(written.stdout), stderr: stream(written.stderr) })
      const clock = manualClock()
      const progress = migrateProgress(ui, { direction: 'down', clock, every: manualTicker().every })
      await progress.run(async () => {
        progress.onProgress(start('002_tags', 1, 2, 'down'))
        progress.onProgress(done('002_tags', 3, 1, 2, 'down'))
        // Written as it completed, before the run ended.
        expect(written.stdout).to.deep.equal(json ? [] : ['↩ app/002_tags (3 ms)\n'])
        clock.advance(2_500)
        progress.onProgress(start('001_users', 2, 2, 'down'))
        progress.onProgress(done('001_users', 4, 2, 2, 'down'))
      })
      expect(written.stdout).to.deep.equal(json ? [] : ['↩ app/002_tags (3 ms)\n', '↩ app/001_users (4 ms)\n', 'Rolled back 2 migrations in 2.5 s.\n'])
      expect(written.stderr).to.deep.equal([])
    }
  })
})
