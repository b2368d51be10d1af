import { execFileSync, spawn } from 'node:child_process'
import { BIN, cliEnv } from './cli.js'

/** Whether util-linux `script` is there, to run the CLI on a pseudo-terminal. */
export function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The answers to type, each once the screen shows its question (a text the screen must include). */
export type Answers = Array<readonly [question: string, typed: string]>

/**
 * Runs `gantry ARGS` on a pseudo-terminal (util-linux `script`, 100 columns) and types each answer once its
 * question is on the screen, in order; resolves with the exit code, everything shown, and the answers
 * never asked for (an empty list when every question came).
 */
export function onTerminal(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; answers?: Answers },
): Promise<{ code: number | null; screen: string; unasked: Answers }> {
  const answers = [...(options.answers ?? [])]
  const command = `stty cols 100 rows 40; exec ${[process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    env: cliEnv({ TERM: 'xterm', ...options.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let screen = ''
  let seen = 0
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString()
    const next = answers[0]
    // Only what appeared since the last answer counts: a question asked again must show again.
    if (next && screen.indexOf(next[0], seen) !== -1) {
      answers.shift()
      seen = screen.length
      child.stdin.write(next[1])
    }
  })
  return new Promise((done) => child.on('close', (code) => done({ code, screen, unasked: answers })))
}
