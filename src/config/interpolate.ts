import { GantryError } from '../core/errors.js'

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a JSON value (docker compose semantics: the
 * default applies when the variable is unset or empty; `$${` is a literal `${`). An unset variable without a
 * default is an error naming the variable and where it is used, never a value.
 */
export function interpolate<T>(value: T, vars: Readonly<Record<string, string | undefined>>, path = ''): T {
  if (typeof value === 'string') return interpolateString(value, vars, path) as T
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, vars, `${path}[${i}]`)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, vars, path ? `${path}.${key}` : key)]),
    ) as T
  }
  return value
}

function interpolateString(text: string, vars: Readonly<Record<string, string | undefined>>, path: string): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '${'
    const found = vars[name]
    if (found !== undefined && found !== '') return found
    if (fallback !== undefined) return fallback
    throw new GantryError('CONFIG_VAR_UNSET', `Environment variable ${name} is not set (used by ${path || 'the config'}).`)
  })
}

/** The names of the variables a JSON value refers to. */
export function referencedVariables(value: unknown): string[] {
  const names = new Set<string>()
  const walk = (item: unknown): void => {
    if (typeof item === 'string') for (const m of item.matchAll(REFERENCE)) if (m[1]) names.add(m[1])
    else if (Array.isArray(item)) item.forEach(walk)
    else if (item !== null && typeof item === 'object') Object.values(item).forEach(walk)
  }
  walk(value)
  return [...names].sort()
}
