/**
 * The CLI's wording of next steps. Core errors name input fields and what is wrong with them
 * (InputProblem in `details`); here they become flags. The catalog's own hints fit every door; the
 * defaults below name flags, so they live with the door that has them.
 */
import { wordedHint, type ErrorCode, type GantryError, type HintWording } from '../core/errors.js'

/** Next steps by code, where the catalog has none a terminal user could follow. */
const BY_CODE: Partial<Record<ErrorCode, string>> = {
  MISSING_INPUT: 'Pass the flag, or run the command on a terminal to be asked.',
  FORCE_REQUIRED: 'Pass --force, or run it on a terminal and type the environment name to confirm.',
  CONFIRMATION_MISMATCH: 'Type the environment name exactly, or pass --force.',
  FILE_EXISTS: 'Pass --force to overwrite it.',
  CONFIG_NOT_FOUND: 'Run `gantry init`, or pass --config PATH.',
  MIGRATION_LOCK_TIMEOUT: 'Another run holds the migration lock; wait for it, or raise --lock-timeout. `gantry migrate status` shows who holds it.',
  SERVER_UNREACHABLE: "Check the URL (the environment's server.publicUrl, or --url) and that the server runs: `gantry health --url URL`.",
  REMOTE_URL_MISSING: 'Set server.publicUrl for the environment in gantry.config.json, or pass --url.',
  INTERNAL: 'Run again with --verbose for details.',
}

/** Next steps for an input problem, by `CODE:reason`, worded with the commands' flags. */
const BY_REASON: HintWording = {
  'MISSING_INPUT:password-missing': () => 'Pipe one with --password-stdin, or pass --generate-password.',
  'PASSWORD_POLICY:password-common': () => 'Pick one nobody else uses, or pass --generate-password.',
  'INVALID_INPUT:flag-variants-missing': (d) =>
    `e.g. --variant ${String(d.type) === 'number' ? 'fast=10 --variant slow=100' : 'blue=#0000ff --variant green=#00ff00'}`,
  'INVALID_INPUT:rule-incomplete': () => 'e.g. gantry ratelimit set api --match "* /api/*" --limit 100 --window 1m',
  'INVALID_INPUT:rule-key-mismatch': (d) => `Pass --rule NAME of a rule keyed on ${String(d.subjectType)}, or leave --rule out.`,
  'INVALID_INPUT:ttl-too-long': () => 'Pass a shorter --ttl, or raise auth.maxTokenTtl in gantry.config.json.',
  'INVALID_INPUT:batch-unsupported': () => 'Run it without --atomic (or with --no-atomic), or set migrations.transaction to "each" in gantry.config.json.',
  'INVALID_INPUT:batch-not-transactional': () => 'Run it without --atomic (or with --no-atomic): each migration then commits on its own.',
  'INVALID_INPUT:owner-required': () => 'Pass --owner EMAIL: a local run acts as no user (with --remote the default owner is you).',
  'SSO_UNAVAILABLE:device-flow-unavailable': () => 'Sign in through a browser on this machine instead: gantry login --sso --no-device.',
  'INVALID_INPUT:duration-not-positive': (d) => `Pass a positive duration to --${String((d.fields as string[])[0])}, such as 30d.`,
}

/** The hint the CLI prints for an error: its input problem in flags, else the error's own, else the CLI's default. */
export function cliHint(err: GantryError): string | undefined {
  return wordedHint(err, BY_REASON) ?? err.hint ?? BY_CODE[err.code]
}

/** A word as a POSIX shell reads it back: bare when it is safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/**
 * The command that shows the next page: the one the user ran (`command` and its `argv`, every filter,
 * --limit and -e kept) with its --cursor replaced by `cursor`, ready to paste.
 */
export function nextPageCommand(command: string, argv: readonly string[], cursor: string): string {
  const kept: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--cursor') i++
    else if (!arg.startsWith('--cursor=')) kept.push(arg)
  }
  return [command, ...[...kept, '--cursor', cursor].map(shellWord)].join(' ')
}
