/**
 * A server process a test helper starts and watches: what it wrote, how it ended (exit code, signal or spawn
 * error), and promises for its exit and for the end of its output — what a helper needs to say why a
 * private server died at start; and the retry of a start whose port was taken meanwhile.
 */
import type { ChildProcess } from 'node:child_process'

export interface WatchedProcess {
  /** Settles when the process exits or cannot be spawned. */
  readonly exited: Promise<void>
  /** Settles once its stdout and stderr are read to the end (a spawn error closes them too). */
  readonly closed: Promise<void>
  /** What it wrote to stdout and stderr so far. */
  output(): string
  /** How it ended: `exit code N`, `killed by SIG`, or the spawn error; empty while it runs. */
  ending(): string
  /** Whether it has exited. */
  gone(): boolean
}

/** Starts watching `child`, spawned from `command` with stdout and stderr piped. */
export function watchProcess(child: ChildProcess, command: string): WatchedProcess {
  let output = ''
  let ending = ''
  let gone = false
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, sig) => {
      ending ||= sig ? `killed by ${sig}` : `exit code ${code}`
      resolve()
    })
    child.once('error', (err) => {
      ending = `${command} could not start: ${err.message}`
      resolve()
    })
  })
  void exited.then(() => (gone = true))
  return {
    exited,
    closed: new Promise<void>((resolve) => child.once('close', () => resolve())),
    output: () => output,
    ending: () => ending,
    gone: () => gone,
  }
}

/**
 * A port found free was taken before the server bound it: by an outgoing connection's local port (the kernel
 * hands out the same range), or by another suite's server on a machine running several. Another port then.
 */
export class PortTakenError extends Error {}

/** How often a fresh start tries new ports after losing one to another process. */
const START_ATTEMPTS = 5

/** Runs `start` (a fresh start on new ports) again while it fails with PortTakenError, at most START_ATTEMPTS times. */
export async function startOnFreePorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw err
    }
  }
}
