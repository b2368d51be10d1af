/**
 * Whether a `gantry serve` process came through a test whole: still running under the PID it started
 * with, and no log line of its own saying it failed (error or fatal, an uncaught exception, an unhandled
 * rejection). A crash that a supervisor would hide by restarting is a crash here.
 */
import { readFileSync } from 'node:fs'
import type { LogLine, ServeProcess } from './serve-process.js'

const ERROR = 50
const FATAL = 60
const UNCAUGHT = /uncaught|unhandled/i

export interface ServeHealth {
  /** Exited, or answering under another PID: 0 or 1. */
  readonly crashed: number
  /** Fatal lines and lines that speak of an uncaught exception or unhandled rejection (stderr too). */
  readonly fatalLines: readonly string[]
  /** Lines logged at error level: each is a failure of the server's own (a 5xx is logged with its cause). */
  readonly errorLines: readonly string[]
}

/** The PID the process announced in its 'listening' line. */
export function listeningPid(serve: ServeProcess): number | undefined {
  return serve.logs.find((line) => line.msg === 'listening')?.pid
}

/** What the process shows now, against the PID it started with. */
export function serveHealth(serve: ServeProcess, startPid: number): ServeHealth {
  const running = serve.child.exitCode === null && serve.child.signalCode === null && isAlive(startPid)
  const crashed = running && serve.child.pid === startPid && listeningPids(serve.logs).every((pid) => pid === startPid) ? 0 : 1
  const text = (line: LogLine) => JSON.stringify(line).slice(0, 400)
  const fatalLines = [
    ...serve.logs.filter((line) => Number(line.level) >= FATAL || UNCAUGHT.test(String(line.msg ?? line.raw ?? ''))).map(text),
    ...serve
      .stderr()
      .split('\n')
      .filter((line) => UNCAUGHT.test(line)),
  ]
  const errorLines = serve.logs.filter((line) => Number(line.level) === ERROR).map(text)
  return { crashed, fatalLines, errorLines }
}

function listeningPids(logs: readonly LogLine[]): number[] {
  return logs.filter((line) => line.msg === 'listening').map((line) => Number(line.pid))
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}
