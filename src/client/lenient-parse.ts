/**
 * Parsing a server's answer leniently: an older CLI against a newer server must keep working, so a field
 * this CLI does not know is dropped, never an error — whether the schema's objects strip unknown keys (the
 * zod default, nested objects included) or are strict. Anything else that does not match is the server's
 * fault for this CLI: SERVER_ERROR with a one-line reason.
 */
import type { z } from 'zod'
import { GantryError } from '../core/errors.js'

/** How many rounds of dropping unknown keys before giving up (each round handles every reported key). */
const MAX_ROUNDS = 5

/** Parses `body` with `schema`, dropping unknown keys that a strict object would refuse. */
export function parseLeniently<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  let input = body
  for (let round = 0; ; round++) {
    const result = schema.safeParse(input)
    if (result.success) return result.data
    const issues = result.error.issues
    const onlyUnknownKeys = issues.every((issue) => issue.code === 'unrecognized_keys')
    if (!onlyUnknownKeys || round === MAX_ROUNDS) throw mismatch(issues, what)
    input = structuredClone(input)
    for (const issue of issues) if (issue.code === 'unrecognized_keys') dropKeys(input, issue.path, issue.keys)
  }
}

function dropKeys(root: unknown, path: readonly PropertyKey[], keys: readonly string[]): void {
  let node: unknown = root
  for (const step of path) {
    if (node === null || typeof node !== 'object') return
    node = (node as Record<PropertyKey, unknown>)[step]
  }
  if (node === null || typeof node !== 'object') return
  for (const key of keys) delete (node as Record<string, unknown>)[key]
}

function mismatch(issues: readonly z.core.$ZodIssue[], what: string): GantryError {
  const first = issues.find((issue) => issue.code !== 'unrecognized_keys') ?? issues[0]
  const where = first && first.path.length > 0 ? first.path.map(String).join('.') : '(the body)'
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  const reason = first ? `${where}: ${first.message}` : 'unknown mismatch'
  return new GantryError('SERVER_ERROR', `${what} does not match what this CLI expects: ${oneLine(reason)}${more}.`, {
    hint: 'The server may run another Gantry version; compare `gantry --version` with the version `gantry health` reports.',
    details: { issues: issues.slice(0, 10).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) },
  })
}

/** Collapses whitespace (a server's text may hold newlines) and bounds the length: messages are one line. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}
