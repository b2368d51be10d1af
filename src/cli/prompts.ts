import { GantryError } from '../core/errors.js'

/** Whether the run may ask questions: both ends are a terminal and no JSON is expected. */
export function canPrompt(json: boolean): boolean {
  return !json && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY)
}

/**
 * A value from its flag, else asked on a terminal, else an error naming the flag (`hint` words the way out
 * when there is a better one than the flag, such as init's --yes). `check` throws on a value it refuses: a
 * flag's value fails the run, a typed one is asked again with the reason.
 */
export async function valueOrAsk(
  value: string | undefined,
  ask: { flag: string; message: string; default?: string; choices?: readonly string[]; json: boolean; hint?: string; check?: (value: string) => void },
): Promise<string> {
  if (value !== undefined) {
    ask.check?.(value)
    return value
  }
  if (!canPrompt(ask.json)) {
    if (ask.default !== undefined) return ask.default
    throw new GantryError('MISSING_INPUT', `Missing --${ask.flag}: there is no terminal to ask on.`, { hint: ask.hint })
  }
  const prompts = await import('@inquirer/prompts')
  if (ask.choices) {
    return prompts.select({ message: ask.message, choices: ask.choices.map((c) => ({ value: c, name: c })), default: ask.default })
  }
  const { check } = ask
  return prompts.input({ message: ask.message, default: ask.default, required: true, validate: check && ((typed) => refusal(check, typed) ?? true) })
}

/** Why `check` refuses `value`, or undefined when it takes it. */
function refusal(check: (value: string) => void, value: string): string | undefined {
  try {
    check(value)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Asks a yes/no question on a terminal; elsewhere the answer is `fallback`. The prompt offers `offered`
 * (default: the fallback); a question whose yes changes state offers No.
 */
export async function confirm(message: string, options: { json: boolean; fallback: boolean; offered?: boolean }): Promise<boolean> {
  if (!canPrompt(options.json)) return options.fallback
  const prompts = await import('@inquirer/prompts')
  return prompts.confirm({ message, default: options.offered ?? options.fallback })
}

/**
 * Guards a destructive action, saying what it does where (`place`: the environment and its database or
 * server). In a protected environment: `--force`, or the environment's name typed at a terminal prompt;
 * without a terminal and without --force it is a usage error (exit 2); --yes never does there. Elsewhere a
 * terminal asks yes/no (No offered) unless --yes or --force; a script without a terminal is not asked.
 */
export async function confirmDestructive(options: {
  environment: string
  isProtected: boolean
  force: boolean
  yes?: boolean
  json: boolean
  action: string
  place?: string
}): Promise<void> {
  if (options.force) return
  const where = `${options.isProtected ? 'protected environment' : 'environment'} "${options.environment}"${options.place ? ` (${options.place})` : ''}`
  if (!options.isProtected) {
    if (options.yes || !canPrompt(options.json)) return
    if (!(await confirm(`${options.action} in ${where}. Go ahead?`, { json: options.json, fallback: true, offered: false }))) throw declined()
    return
  }
  if (!canPrompt(options.json)) {
    throw new GantryError('FORCE_REQUIRED', `${options.action} in ${where} needs --force.`)
  }
  const prompts = await import('@inquirer/prompts')
  const typed = await prompts.input({ message: `${options.action} in ${where}. Type "${options.environment}" to confirm:` })
  if (typed.trim() !== options.environment) {
    throw new GantryError('CONFIRMATION_MISMATCH', `Confirmation "${typed.trim()}" does not match "${options.environment}"; nothing was done.`)
  }
}

/** A No at a confirmation: the run ends as a cancellation does, having done nothing. */
const declined = (): GantryError => new GantryError('CANCELLED', 'Cancelled; nothing was done.')

/** Reads a secret piped on stdin (`--password-stdin`): the whole input without its final line break. */
export async function readSecretFromStdin(flag: string): Promise<string> {
  if (process.stdin.isTTY) {
    throw new GantryError('MISSING_INPUT', `--${flag} reads the secret from a pipe, but stdin is a terminal.`, {
      hint: `Pipe it: printf '%s' "$SECRET" | gantry … --${flag}`,
    })
  }
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const secret = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  if (!secret) throw new GantryError('MISSING_INPUT', `--${flag} got nothing on stdin.`)
  return secret
}

/** Asks for a secret at a hidden terminal prompt, twice to confirm; without a terminal, names the flag to use. */
export async function askSecret(options: { message: string; flag: string; json: boolean; confirm?: boolean }): Promise<string> {
  if (!canPrompt(options.json)) {
    throw new GantryError('MISSING_INPUT', `No terminal to ask for the ${options.message.toLowerCase()}: pass --${options.flag}.`)
  }
  const prompts = await import('@inquirer/prompts')
  const first = await prompts.password({ message: options.message, mask: '*' })
  if (options.confirm !== false) {
    const again = await prompts.password({ message: `${options.message} (again)`, mask: '*' })
    if (again !== first) throw new GantryError('INVALID_INPUT', 'The two entries differ; nothing was changed.')
  }
  return first
}
