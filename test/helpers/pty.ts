import { execFile, execFileSync } from 'node:child_process'
import { stripVTControlCharacters } from 'node:util'
import { BIN, cliEnv } from './cli.js'

/** What a run on a pseudo-terminal left on the screen: stdout and stderr together, as a user sees them. */
export interface PtyRun {
  readonly code: number
  /** Everything written, escape sequences and carriage returns included. */
  readonly raw: string
  /** The same without escape sequences, lines ending in \n. */
  readonly text: string
}

/** Whether util-linux `script` is there, to run the CLI on a pseudo-terminal. */
export function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`

/**
 * Runs `gantry ARGS` on a pseudo-terminal of `columns` x `rows` (util-linux `script`; `stty` sizes it, 0
 * columns included), to completion. The terminal is the test's, not the caller's: TERM=xterm-256color, a
 * UTF-8 C locale unless `env` says otherwise, no COLUMNS/LINES, and no colours unless `color`. Output past
 * `maxBytes` fails the run (a spinner that never stops writes megabytes).
 */
export function runOnPty(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; columns?: number; rows?: number; color?: boolean; maxBytes?: number; timeoutMs?: number },
): Promise<PtyRun> {
  const command = `stty cols ${options.columns ?? 100} rows ${options.rows ?? 40}; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`
  const env = cliEnv({
    TERM: 'xterm-256color',
    COLUMNS: undefined,
    LINES: undefined,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    LANGUAGE: undefined,
    ...(options.color ? { NO_COLOR: undefined, FORCE_COLOR: undefined } : {}),
    ...options.env,
  })
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      'script',
      ['-qfec', command, '/dev/null'],
      { cwd: options.cwd, env, maxBuffer: options.maxBytes ?? 1024 * 1024, timeout: options.timeoutMs ?? 30_000, killSignal: 'SIGKILL' },
      (error, raw) => {
        if (error && typeof error.code !== 'number') return reject(error)
        resolvePromise({ code: error ? (error.code as number) : 0, raw, text: stripVTControlCharacters(raw).replace(/\r\n/g, '\n') })
      },
    )
    child.stdin?.end()
  })
}
