import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../package-root.js'

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g

/**
 * Fills `{{name}}` placeholders. Every placeholder must have a value and every value must be used, so a
 * renamed placeholder fails loudly in the tests instead of shipping `{{name}}` to a user.
 */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>()
  const out = text.replace(PLACEHOLDER, (_match, key: string) => {
    const value = values[key]
    if (value === undefined) throw new Error(`Template placeholder {{${key}}} has no value.`)
    used.add(key)
    return value
  })
  const unused = Object.keys(values).filter((key) => !used.has(key))
  if (unused.length > 0) throw new Error(`Template values not used: ${unused.join(', ')}.`)
  return out
}

/** The text of a template under Gantry's templates/ folder (resolved from the package root, never the cwd). */
export function readTemplate(relativePath: string): string {
  return readFileSync(join(packageRoot(), 'templates', relativePath), 'utf8')
}
