import { GantryError, inputProblem } from '../errors.js'
import { COMMON_PASSWORDS } from './common-passwords.js'

/** Above this a password is refused whatever the configuration: argon2 cost grows with input length. */
export const PASSWORD_HARD_MAX = 128

/** NIST SP 800-63B style: length only, no composition rules, common passwords refused. */
export interface PasswordPolicy {
  /** Fewest characters (default 12; never above 64, so a 64-character passphrase always passes). */
  readonly minLength: number
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 12 }

/** The policy with its bounds applied. */
export function passwordPolicy(options: Partial<PasswordPolicy> = {}): PasswordPolicy {
  const minLength = Math.min(Math.max(options.minLength ?? DEFAULT_PASSWORD_POLICY.minLength, 1), 64)
  return { minLength }
}

/** Throws PASSWORD_POLICY when `password` breaks the policy; the message never repeats the password. */
export function checkPassword(password: string, policy: PasswordPolicy): void {
  const length = [...password].length // code points, so an emoji is one character
  if (length < policy.minLength) {
    throw new GantryError('PASSWORD_POLICY', `The password is too short: at least ${policy.minLength} characters.`, {
      hint: 'A few unrelated words make a long, memorable password.',
    })
  }
  if (length > PASSWORD_HARD_MAX) {
    throw new GantryError('PASSWORD_POLICY', `The password is too long: at most ${PASSWORD_HARD_MAX} characters.`)
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    throw new GantryError('PASSWORD_POLICY', 'The password is on the list of common passwords.', {
      hint: 'Pick one nobody else uses, or have one generated.',
      details: inputProblem(['password'], 'password-common'),
    })
  }
}
