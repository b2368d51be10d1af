import { GantryError } from '../core/errors.js'

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** What to put in place of an unset variable that has no default; the strict default throws. */
export type UnsetHandler = (name: string, path: string) => string

const failOnUnset: UnsetHandler = (name, path) => {
  throw new GantryError('CONFIG_VAR_UNSET', `Environment variable ${name} is not set (used by ${path || 'the config'}).`, {
    details: { variable: name, path: path || undefined },
  })
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a JSON value (docker compose semantics: the
 * default applies when the variable is unset or empty; `$${` is a literal `${`). An unset variable without a
 * default is an error naming the variable and where it is used, never a value — unless `onUnset` says
 * otherwise (display code leaves the reference in place).
 */
export function interpolate<T>(value: T, vars: Readonly<Record<string, string | undefined>>, path = '', onUnset: UnsetHandler = failOnUnset): T {
  if (typeof value === 'string') return interpolateString(value, vars, path, onUnset) as T
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, vars, `${path}[${i}]`, onUnset)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, vars, path ? `${path}.${key}` : key, onUnset)])) as T
  }
  return value
}

function interpolateString(text: string, vars: Readonly<Record<string, string | undefined>>, path: string, onUnset: UnsetHandler): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '${'
    const found = vars[name]
    if (found !== undefined && found !== '') return found
    if (fallback !== undefined) return fallback
    return onUnset(name, path)
  })
}

/** One `${VAR}` reference: the variable and its `:-default`, when it has one. */
export interface VariableReference {
  readonly name: string
  readonly fallback: string | undefined
}

/** Every reference in a JSON value, one per variable (a default found on any use counts). */
export function variableReferences(value: unknown): VariableReference[] {
  const found = new Map<string, string | undefined>()
  const walk = (item: unknown): void => {
    if (typeof item === 'string') {
      for (const m of item.matchAll(REFERENCE)) {
        if (m[1]) found.set(m[1], found.get(m[1]) ?? m[2])
      }
    } else if (Array.isArray(item)) item.forEach(walk)
    else if (item !== null && typeof item === 'object') Object.values(item).forEach(walk)
  }
  walk(value)
  return [...found.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, fallback]) => ({ name, fallback }))
}

/** The names of the variables a JSON value refers to. */
export function referencedVariables(value: unknown): string[] {
  return variableReferences(value).map((ref) => ref.name)
}
