/**
 * `gantry serve`'s log for a person at a terminal: each of pino's JSON lines as one readable line,
 * `14:03:07 INFO  GET /api/v1/users 200 4 ms`, the `listening` line as a banner naming the version,
 * environment, URL, database and Redis. Off a terminal (or with --log-format json) the JSON lines are
 * written as they are, for log collectors. Paths, request ids and messages come from clients: every value
 * goes through `render`, so a control character in them is shown escaped, never obeyed.
 */
import { Chalk } from 'chalk'
import { terminalText, type Palette } from './terminal-text.js'
import { colorLevel } from './ui.js'

/** Where pino writes: one JSON document per line (it may hand over several lines in one chunk). */
export interface LogSink {
  write(chunk: string): void
}

/** pino's numeric levels, as the labels operators read. */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

/** Fields every line carries that the pretty line shows otherwise (time, level) or not at all. */
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'env', 'req', 'res', 'responseTime', 'err'])

type Entry = Record<string, unknown>

/** A sink that writes each JSON line to `out` as its pretty line, coloured as `out` and `env` allow (colorLevel). */
export function prettyLogSink(out: { write(text: string): unknown; isTTY?: boolean }, env: NodeJS.ProcessEnv): LogSink {
  const chalk = new Chalk({ level: colorLevel(env, Boolean(out.isTTY)) })
  const { palette, render } = terminalText()
  return {
    write(chunk) {
      for (const json of chunk.split('\n')) {
        if (json.trim() !== '') for (const line of prettyLines(json, palette)) out.write(`${render(line, chalk)}\n`)
      }
    },
  }
}

/**
 * One log line for a person, then an error's stack frames, a line each (each line is rendered on its own: a
 * line break inside a value is escaped, never a line of its own). A line that is not JSON is shown as it came.
 */
export function prettyLines(json: string, color: Palette): string[] {
  let entry: Entry
  try {
    entry = JSON.parse(json) as Entry
  } catch {
    return [json]
  }
  if (entry === null || typeof entry !== 'object') return [json]
  const level = typeof entry.level === 'number' ? entry.level : 30
  const head = `${color.dim(clock(entry.time))} ${levelLabel(level, color)}`
  if (entry.msg === 'listening' && typeof entry.url === 'string') return [`${head} ${banner(entry, color)}`]
  const body = isRequestLine(entry) ? requestText(entry, color) : `${text(entry.msg)}${fields(entry, color)}`
  const [message, ...frames] = errorLines(entry.err, color)
  return [`${head} ${body}${message ?? ''}`, ...frames]
}

/** `Gantry 0.1.0 · development · http://127.0.0.1:3000 · sqlite:./.gantry/development.sqlite3 · Redis: none`. */
function banner(entry: Entry, color: Palette): string {
  const parts = [
    `Gantry ${text(entry.version)}`,
    text(entry.environment),
    color.bold(text(entry.url)),
    text(entry.database ?? '?'),
    `Redis: ${entry.redis === null || entry.redis === undefined ? 'none (rate limits in memory)' : text(entry.redis)}`,
  ]
  return `${color.green('listening')}  ${parts.join(' · ')}`
}

function isRequestLine(entry: Entry): entry is Entry & { req: Entry; res: Entry } {
  return typeof entry.req === 'object' && entry.req !== null && typeof entry.res === 'object' && entry.res !== null
}

/** `GET /api/v1/users 200 4 ms  req-id`, the status in the colour of its class. */
function requestText(entry: Entry & { req: Entry; res: Entry }, color: Palette): string {
  const status = Number(entry.res.status)
  const paint = status >= 500 ? color.red : status >= 400 ? color.yellow : color.green
  const took = typeof entry.responseTime === 'number' ? ` ${Math.round(entry.responseTime)} ms` : ''
  return `${text(entry.req.method)} ${text(entry.req.path)} ${paint(String(status))}${took}  ${color.dim(text(entry.req.id))}`
}

/** The fields a line carries beyond the usual ones, `key=value`, values as JSON unless plain text. */
function fields(entry: Entry, color: Palette): string {
  const extra = Object.entries(entry).filter(([key]) => !SHOWN_ELSEWHERE.has(key))
  if (extra.length === 0) return ''
  return `  ${extra.map(([key, value]) => color.dim(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)).join(' ')}`
}

/** An error's type and message, then its stack frames dimmed below: a developer at the terminal wants them. */
function errorLines(err: unknown, color: Palette): string[] {
  if (typeof err !== 'object' || err === null) return []
  const { type, message, stack } = err as Entry
  const frames = typeof stack === 'string' ? stack.split('\n').filter((l) => /^\s+at /.test(l)) : []
  return [`: ${text(type ?? 'Error')}: ${text(message)}`, ...frames.map((frame) => color.dim(`    ${frame.trim()}`))]
}

function levelLabel(level: number, color: Palette): string {
  const label = (LEVELS[level] ?? String(level)).padEnd(5)
  return level >= 50 ? color.red(label) : level >= 40 ? color.yellow(label) : level >= 30 ? color.green(label) : color.dim(label)
}

/** The local time of day, HH:MM:SS (a dev server's log is read as it happens). */
function clock(time: unknown): string {
  const at = typeof time === 'number' ? new Date(time) : new Date(NaN)
  if (Number.isNaN(at.getTime())) return '--:--:--'
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value)
}
