import { Chalk } from 'chalk'
import { ExitCode, GantryError, isGantryError, type ErrorCode } from '../core/errors.js'
import { cliHint } from './hints.js'
import { escapeControl } from '../core/text.js'
import { colorLevel } from './ui.js'

/** The JSON printed on stdout when a --json run fails. */
export interface ErrorJson {
  error: { code: ErrorCode; message: string; hint?: string | undefined; details?: Readonly<Record<string, unknown>> | undefined }
}

/**
 * Prints a failure the one way every command and hook does: `Error (CODE): message` and `Try: hint` on
 * stderr (coloured only when stderr is a terminal, control characters escaped: a message may quote input),
 * the error document on stdout under --json, the cause under --verbose; sets the documented exit code.
 */
export function renderFailure(thrown: unknown, options: { json: boolean; verbose: boolean }): void {
  const failure = toGantryError(thrown)
  const hint = cliHint(failure)
  process.exitCode = failure.exit
  if (options.json) {
    const body: ErrorJson = { error: { code: failure.code, message: failure.message, hint, details: failure.details } }
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
  }
  const color = new Chalk({ level: colorLevel(process.env, Boolean(process.stderr.isTTY)) })
  // Ctrl-C is the user's own choice, not a failure to explain: one quiet line, and how to go on where work was left half done.
  if (failure.code === 'CANCELLED') {
    process.stderr.write(`${escapeControl(failure.message)}\n`)
    if (hint && !options.json) process.stderr.write(`${color.dim(escapeControl(`Try: ${hint}`))}\n`)
    return
  }
  process.stderr.write(`${color.red(escapeControl(`Error (${failure.code}): ${failure.message}`))}\n`)
  const usage = failure.details?.usage
  if (typeof usage === 'string' && !options.json) process.stderr.write(`${escapeControl(`Usage: ${usage}`)}\n`)
  if (hint && !options.json) process.stderr.write(`${color.dim(escapeControl(`Try: ${hint}`))}\n`)
  if (options.verbose && failure.cause !== undefined) process.stderr.write(`${color.dim(describeCause(failure.cause))}\n`)
}

type Thrown = Error & { oclif?: { exit?: number } }

/** What a Ctrl-C ends with, at a prompt or during a run. */
export const cancelled = (): GantryError => new GantryError('CANCELLED', 'Cancelled.')

/** An error of oclif's argument and flag parser (CLIParseError and its kin), or one worded like them. */
export function isParseError(thrown: unknown): boolean {
  if (!(thrown instanceof Error) || isGantryError(thrown)) return false
  const err: Thrown = thrown
  return 'parse' in err || err.oclif?.exit === ExitCode.usage || /^(Nonexistent|Unexpected|Missing|Expected|Parsing|The following)/.test(err.message)
}

/** Maps what was thrown to the catalog: our errors as they are, oclif's parse errors as usage errors. */
export function toGantryError(thrown: unknown): GantryError {
  if (isGantryError(thrown)) return thrown
  const err: Thrown = thrown instanceof Error ? thrown : new Error(String(thrown))
  if (isParseError(err)) return new GantryError('INVALID_INPUT', parseErrorLine(err.message), { hint: 'See the command with --help.', cause: err })
  if (err.name === 'ExitPromptError' || err.name === 'AbortPromptError') return cancelled()
  return new GantryError('INTERNAL', `Unexpected error: ${err.message.split('\n')[0]}`, { cause: err })
}

/**
 * oclif's parse errors span lines ("Parsing --step \n\tExpected an integer …\nSee more help with --help");
 * the reason is in the detail lines. One line: the heading, then the details.
 */
export function parseErrorLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim().replace(/\s{2,}/g, ': ')) // "name  The migration…" (an argument and its description)
    .filter((l) => l !== '' && !/^See more help/.test(l) && !/^The following errors? occurred:?$/.test(l))
  const [head = 'Invalid input', ...details] = lines
  const text = details.length ? `${head.replace(/:$/, '')}: ${details.join('; ')}` : head
  return text.replace(/\.$/, '') + '.'
}

/** The cause's stack (or text) line by line: a stack is many lines, each escaped like any other. */
function describeCause(cause: unknown): string {
  const text = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)
  return text.split('\n').map(escapeControl).join('\n')
}
