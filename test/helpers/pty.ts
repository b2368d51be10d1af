import { execFile, execFileSync, spawn } from 'node:child_process'
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
 * columns included), to completion, in the test's own terminal (ptyEnv). Output past `maxBytes` fails the
 * run (a spinner that never stops writes megabytes).
 */
export function runOnPty(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; columns?: number; rows?: number; color?: boolean; maxBytes?: number; timeoutMs?: number },
): Promise<PtyRun> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      'script',
      ['-qfec', ptyCommand(args, options), '/dev/null'],
      { cwd: options.cwd, env: ptyEnv(options), maxBuffer: options.maxBytes ?? 1024 * 1024, timeout: options.timeoutMs ?? 30_000, killSignal: 'SIGKILL' },
      (error, raw) => {
        if (error && typeof error.code !== 'number') return reject(error)
        resolvePromise({ code: error ? (error.code as number) : 0, raw, text: stripVTControlCharacters(raw).replace(/\r\n/g, '\n') })
      },
    )
    child.stdin?.end()
  })
}

/**
 * The answers to type, each once the screen shows its question (a text the screen must include). An answer
 * may be work to do first (a request to the server on the terminal), resolving with what to type; it can
 * wait for the screen to show a text.
 */
export type Answers = Array<readonly [question: string, typed: string | ((terminal: TerminalView) => Promise<string>)]>

/** What an answer's work sees of the terminal. */
export interface TerminalView {
  /** Everything shown so far, escape sequences included. */
  screen(): string
  /** Resolves once the screen shows `text` (the run's timeout bounds the wait). */
  shows(text: string): Promise<void>
}

/**
 * Runs `gantry ARGS` on a pseudo-terminal as runOnPty does, typing each answer once its question is on the
 * screen, in order; resolves with the exit code, everything shown, and the answers never asked for (an empty
 * list when every question came). A run still going after `timeoutMs` (default 60 s) is killed.
 */
export function onTerminal(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; columns?: number; rows?: number; answers?: Answers; timeoutMs?: number },
): Promise<{ code: number | null; screen: string; unasked: Answers }> {
  const answers = [...(options.answers ?? [])]
  const child = spawn('script', ['-qfec', ptyCommand(args, options), '/dev/null'], { cwd: options.cwd, env: ptyEnv(options), stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  let seen = 0
  let answering = false
  let failed: unknown
  const waiting: Array<{ text: string; resolve: () => void }> = []
  const view: TerminalView = {
    screen: () => screen,
    shows: (text) => (screen.includes(text) ? Promise.resolve() : new Promise((resolve) => waiting.push({ text, resolve }))),
  }
  /**
   * Types each answer whose question is on the screen, in order. Only what appeared after the last question
   * answered counts (a question asked again must show again), and one chunk of output may hold several
   * questions: a loaded machine reads "Pick another one." and the next "Password" prompt at once.
   */
  const answerNext = (): void => {
    while (!answering) {
      const next = answers[0]
      const at = next ? screen.indexOf(next[0], seen) : -1
      if (!next || at === -1) return
      answers.shift()
      seen = at + next[0].length
      const [, typed] = next
      if (typeof typed === 'string') {
        child.stdin.write(typed)
        continue
      }
      answering = true
      typed(view).then(
        (text) => {
          answering = false
          seen = screen.length
          child.stdin.write(text)
          answerNext()
        },
        (err: unknown) => {
          // The test's own check failed: end the run and report that, not a timeout.
          failed = err
          child.kill('SIGKILL')
        },
      )
    }
  }
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString()
    for (const wait of waiting.filter((w) => screen.includes(w.text))) {
      waiting.splice(waiting.indexOf(wait), 1)
      wait.resolve()
    }
    answerNext()
  })
  // A question that never comes ends the run (SIGKILL) and the test reports what the screen showed, rather
  // than mocha's timeout reporting nothing.
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  return new Promise((done, reject) =>
    child.on('close', (code) => {
      clearTimeout(deadline)
      if (failed === undefined) done({ code, screen, unasked: answers })
      else reject(failed)
    }),
  )
}

/** The shell line `script` runs: size the terminal, then gantry. */
function ptyCommand(args: readonly string[], size: { columns?: number; rows?: number }): string {
  return `stty cols ${size.columns ?? 100} rows ${size.rows ?? 40}; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`
}

/**
 * The terminal is the test's, not the caller's: TERM=xterm-256color, a UTF-8 C locale unless `env` says
 * otherwise, no COLUMNS/LINES, no colours unless `color`, and no CI (ora draws nothing where CI is set, as
 * `npm test` under CI=true would have it).
 */
function ptyEnv(options: { env?: NodeJS.ProcessEnv; color?: boolean }): NodeJS.ProcessEnv {
  return cliEnv({
    TERM: 'xterm-256color',
    CI: undefined,
    COLUMNS: undefined,
    LINES: undefined,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    LANGUAGE: undefined,
    ...(options.color ? { NO_COLOR: undefined, FORCE_COLOR: undefined } : {}),
    ...options.env,
  })
}
