import { randomBytes } from 'node:crypto'
import { redact, SECRET_NAME } from '../db/url.js'

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

const REFERENCE_WITH_DEFAULT = /\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}/g
const PURE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/

/** A setting's text as it may be shown: URL passwords masked, and the default of a secret reference. */
function maskText(value: string, secretSetting: boolean): string {
  const defaults = value.replace(REFERENCE_WITH_DEFAULT, (match, name: string, fallback: string) =>
    fallback !== '' && (secretSetting || isSecretName(name)) ? `\${${name}:-${MASK}}` : match,
  )
  return redact(defaults)
}

/**
 * A copy of environment settings safe to print: the password of every URL (database, redis, also inside
 * a `${VAR:-default}`), the default of a secret-named reference, and a literal `auth.secret` (or `encryptionKey`)
 * (or a provider's `clientSecret`) replaced by ***. A bare reference such as `${GANTRY_AUTH_SECRET}` names no secret and stays.
 */
export function maskSettings<T>(settings: T): T {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      const secretSetting = key === 'auth.secret' || key === 'encryptionKey' || key === 'auth.sso.providers.clientSecret'
      if (secretSetting && value !== '' && !PURE_REFERENCE.test(value)) return MASK
      return maskText(value, secretSetting)
    }
    if (Array.isArray(value)) return value.map((item) => walk(item, key))
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, key ? `${key}.${k}` : k)]))
    }
    return value
  }
  return walk(settings, '') as T
}
