import { Chalk, type ChalkInstance } from 'chalk'
import { writePaged } from './pager.js'
import { createProgressBar, type ProgressBar } from './progress.js'
import { layoutTable } from './table-layout.js'
import { terminalText, type Palette } from './terminal-text.js'

/**
 * Terminal output for one command run: colours, tables and spinners that step aside for --json and pipes.
 * Everything it writes has its control characters escaped (terminal-text.ts): data inside a line is shown,
 * never obeyed by the terminal.
 */
export interface Ui {
  readonly json: boolean
  /** Colours for out/note/warn lines and table cells; they apply as the line is written, per stream. */
  readonly color: Palette
  /** A line of human output on stdout (silent under --json); leading line breaks are layout (blank lines before it). */
  out(line?: string): void
  /** A diagnostic line on stderr (silent under --json). */
  note(line: string): void
  warn(line: string): void
  /**
   * Columns aligned on their visible width; `columns` names the keys and their headers, in order. Wider
   * than the terminal, each row is a record of its own (table-layout.ts). With no rows, `empty` is printed
   * alone instead (a header over nothing reads as a broken table).
   */
  table<T extends object>(rows: readonly T[], columns: ReadonlyArray<readonly [keyof T & string, string]>, options?: { empty?: string }): void
  /** One object as a FIELD / VALUE table, a row per field in its order (`users show`, `apikeys show`). */
  fields(record: object): void
  /**
   * What `draw` writes to stdout, through the user's pager when it is longer than the terminal (pager.ts);
   * as drawn off a terminal and under --json.
   */
  paged(draw: (ui: Ui) => void): Promise<void>
  /**
   * Runs `work` under a spinner when stderr is drawable (isDrawable); elsewhere it just runs it. `work` may
   * change the spinner's text and write lines above it; when it wrote lines, they are the record and the
   * spinner leaves none of its own. Otherwise the spinner ends ✔ when `work` resolves and ✖ when it throws,
   * unless `verdict` reads another mark from the result (a check that resolves with a failure must not end green).
   */
  spin<R>(text: string, work: (spinner: Spinner) => Promise<R>, verdict?: (result: R) => Verdict): Promise<R>
  /** A progress bar on stderr when it is drawable (isDrawable); none under --json or on a pipe or file. */
  progress(): ProgressBar | undefined
}

/** The spinner a `spin` work drives. */
export interface Spinner {
  /** Replaces the spinner's text (nothing off a terminal and under --json). */
  update(text: string): void
  /** A line of human output on stdout, written above the spinner (like Ui.out). */
  out(line: string): void
}

/** How a spinner ends: ✔, ⚠ or ✖. */
export type Verdict = 'ok' | 'warn' | 'fail'

/**
 * Whether a spinner or a progress bar can be drawn on `stream`: a terminal, not TERM=dumb, with a width. A
 * terminal that reports 0 columns (a pty nobody sized) is no terminal to draw on: ora divides by the width
 * and spins forever there.
 */
export function isDrawable(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && env.TERM !== 'dumb' && (stream.columns ?? 0) > 0
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
  const outColor = new Chalk({ level: colorLevel(env, Boolean(stdout.isTTY)) })
  // stderr may be a file while stdout is a terminal (and the reverse): each stream gets its own colours.
  const errColor = new Chalk({ level: colorLevel(env, Boolean(stderr.isTTY)) })
  const { palette, render } = terminalText()
  const json = options.json
  const write = (stream: NodeJS.WriteStream, text: string): void => {
    if (!json) stream.write(`${text}\n`)
  }
  /** A line as written: its leading line breaks kept (the command's layout), the rest rendered. */
  const line = (text: string, chalk: ChalkInstance): string => {
    const body = text.replace(/^\n+/, '')
    return text.slice(0, text.length - body.length) + render(body, chalk)
  }
  const out = (text = ''): void => write(stdout, line(text, outColor))
  return {
    json,
    color: palette,
    out,
    note: (text) => write(stderr, line(palette.dim(text), errColor)),
    warn: (text) => write(stderr, line(palette.yellow(`Warning: ${text}`), errColor)),
    table(rows, columns, options = {}) {
      if (json) return
      if (rows.length === 0 && options.empty !== undefined) {
        write(stdout, line(options.empty, outColor))
        return
      }
      // Each cell on its own: a line break in one is escaped, never a row of its own.
      const cells = rows.map((row) => columns.map(([key]) => render(formatCell((row as Record<string, unknown>)[key]), outColor)))
      const headers = columns.map(([, header]) => render(header, outColor))
      const width = stdout.isTTY && (stdout.columns ?? 0) > 0 ? stdout.columns : undefined
      for (const text of layoutTable(headers, cells, { width, bold: (h) => outColor.bold(h) })) write(stdout, text)
    },
    fields(record) {
      this.table(
        Object.entries(record).map(([field, value]) => ({ field, value })),
        [
          ['field', 'FIELD'],
          ['value', 'VALUE'],
        ],
      )
    },
    async paged(draw) {
      if (json || !stdout.isTTY) return draw(this)
      let text = ''
      // The terminal's own stream underneath (its width, its colours), with writes kept for the pager.
      const kept = Object.assign(Object.create(stdout) as NodeJS.WriteStream, { write: (chunk: string) => ((text += chunk), true) })
      draw(createUi({ json, env, stdout: kept, stderr }))
      await writePaged(text, { stdout, env })
    },
    async spin(text, work, verdict) {
      if (json || !isDrawable(stderr, env)) return work({ update: () => undefined, out })
      const { default: ora } = await import('ora')
      const spinner = ora({ text: render(text, errColor), stream: stderr, color: 'cyan' }).start()
      let wroteLines = false
      const handle: Spinner = {
        update: (next) => {
          spinner.text = render(next, errColor)
        },
        out: (text) => {
          spinner.clear()
          out(text)
          spinner.render()
          wroteLines = true
        },
      }
      try {
        const result = await work(handle)
        const mark = verdict?.(result) ?? 'ok'
        if (wroteLines) spinner.stop()
        else if (mark === 'ok') spinner.succeed()
        else if (mark === 'warn') spinner.warn()
        else spinner.fail()
        return result
      } catch (err) {
        spinner.fail()
        throw err
      }
    },
    progress() {
      if (json || !isDrawable(stderr, env)) return undefined
      return createProgressBar(stderr, { style: (text) => render(palette.dim(text), errColor) })
    },
  }
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (value instanceof Date) return value.toISOString()
  return String(value)
}
