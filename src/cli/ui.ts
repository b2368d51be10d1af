import { stripVTControlCharacters } from 'node:util'
import { Chalk, type ChalkInstance } from 'chalk'
import { createProgressBar, type ProgressBar } from './progress.js'

/** Terminal output for one command run: colours, tables and spinners that step aside for --json and pipes. */
export interface Ui {
  readonly json: boolean
  readonly color: ChalkInstance
  /** A line of human output on stdout (silent under --json). */
  out(line?: string): void
  /** A diagnostic line on stderr (silent under --json). */
  note(line: string): void
  warn(line: string): void
  /** Columns aligned on their visible width; `columns` names the keys and their headers, in order. */
  table<T extends object>(rows: readonly T[], columns: ReadonlyArray<readonly [keyof T & string, string]>): void
  /** Runs `work` under a spinner on a TTY; elsewhere it just runs it. */
  spin<R>(text: string, work: () => Promise<R>): Promise<R>
  /** A progress bar on stderr when it is a terminal (not TERM=dumb); none under --json or on a pipe or file. */
  progress(): ProgressBar | undefined
}

/** Colour level from NO_COLOR / FORCE_COLOR and whether stdout is a terminal. */
export function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean): 0 | 1 | 2 | 3 {
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0
    return force === '2' ? 2 : force === '3' ? 3 : 1
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  if (!isTTY || env.TERM === 'dumb') return 0
  return 1
}

/** Builds the Ui for a run. */
export function createUi(options: { json: boolean; env?: NodeJS.ProcessEnv; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream }): Ui {
  const env = options.env ?? process.env
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const color = new Chalk({ level: colorLevel(env, Boolean(stdout.isTTY)) })
  // stderr may be a file while stdout is a terminal (and the reverse): each stream gets its own colours.
  const errColor = new Chalk({ level: colorLevel(env, Boolean(stderr.isTTY)) })
  const json = options.json
  const write = (stream: NodeJS.WriteStream, line: string): void => {
    if (!json) stream.write(`${line}\n`)
  }
  return {
    json,
    color,
    out: (line = '') => write(stdout, line),
    note: (line) => write(stderr, errColor.dim(line)),
    warn: (line) => write(stderr, errColor.yellow(`Warning: ${line}`)),
    table(rows, columns) {
      if (json) return
      const cells = rows.map((row) => columns.map(([key]) => formatCell((row as Record<string, unknown>)[key])))
      const headers = columns.map(([, header]) => header)
      const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => visibleWidth(r[i] ?? ''))))
      const line = (parts: string[]): string =>
        parts.map((p, i) => (i === parts.length - 1 ? p : p + ' '.repeat((widths[i] ?? 0) - visibleWidth(p)))).join('  ')
      write(stdout, color.bold(line(headers)))
      for (const r of cells) write(stdout, line(r))
    },
    async spin(text, work) {
      if (json || !stderr.isTTY) return work()
      const { default: ora } = await import('ora')
      const spinner = ora({ text, stream: stderr, color: 'cyan' }).start()
      try {
        const result = await work()
        spinner.succeed()
        return result
      } catch (err) {
        spinner.fail()
        throw err
      }
    },
    progress() {
      if (json || !stderr.isTTY || env.TERM === 'dumb') return undefined
      return createProgressBar(stderr, { style: (line) => errColor.dim(line) })
    },
  }
}

function visibleWidth(text: string): number {
  return stripVTControlCharacters(text).length
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (value instanceof Date) return value.toISOString()
  return String(value)
}
