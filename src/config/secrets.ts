import { randomBytes } from 'node:crypto'
import { redact } from '../db/url.js'

/** Variable names whose values are never shown: secrets, passwords, tokens, keys. */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY|PASS/i

/** The placeholder shown instead of a secret. */
export const MASK = '***'

/** Whether a variable's name says it holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

/** A fresh secret: 32 random bytes, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** A variable's value as it may be shown: secrets masked, passwords inside URLs masked. */
export function displayValue(name: string, value: string): string {
  if (isSecretName(name)) return MASK
  return redact(value)
}

/**
 * A copy of environment settings safe to print: the password of every URL (database, redis) and
 * `auth.secret` replaced by ***. References such as `${GANTRY_AUTH_SECRET}` are not secrets and stay.
 */
export function maskSettings<T>(settings: T): T {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      if (key === 'auth.secret' && value !== '' && !/^\$\{[^}]*\}$/.test(value)) return MASK
      return redact(value)
    }
    if (Array.isArray(value)) return value.map((item) => walk(item, key))
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, key ? `${key}.${k}` : k)]))
    }
    return value
  }
  return walk(settings, '') as T
}
