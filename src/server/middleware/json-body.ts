/**
 * The JSON body of a request: application/json only (415 otherwise), within the size limit (413), and no
 * deeper than a real payload ever is (400), so a crafted body cannot make validation walk a deep tree.
 * No input may hold a NUL character: PostgreSQL refuses it in text (a 500 otherwise) and SQLite cuts
 * strings at it in LIKE and lower(), and no Gantry field has a use for it.
 */
import express, { type RequestHandler } from 'express'
import { GantryError } from '../../core/errors.js'

/** No Gantry payload nests deeper than a few levels; 32 leaves room and stops pathological input. */
const MAX_DEPTH = 32

/** Parses a JSON body for routes that take one. */
export function jsonBody(limit: string): RequestHandler[] {
  const parse = express.json({ limit, strict: true, type: () => true })
  return [
    (req, _res, next) => {
      if (!hasBody(req.headers)) return next()
      if (!req.is('application/json'))
        return next(new GantryError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${req.get('content-type') ?? '(none)'} is not accepted here.`))
      parse(req, _res, next)
    },
    (req, _res, next) => {
      try {
        checkInput(req.body, 'body')
        next()
      } catch (err) {
        next(err)
      }
    },
  ]
}

/** Refuses input (a parsed body, the query, the path parameters) nested too deep or holding a NUL character. */
export function checkInput(value: unknown, what: 'body' | 'query' | 'path'): void {
  const { depth, nul } = inspect(value)
  if (depth > MAX_DEPTH) throw new GantryError('INVALID_INPUT', `The ${what} nests deeper than ${MAX_DEPTH} levels.`)
  if (nul) throw new GantryError('INVALID_INPUT', `The ${what} holds a NUL character (U+0000), which no field accepts.`)
}

/** Whether a request carries a body (RFC 9112: a Content-Length above 0 or a Transfer-Encoding). */
export function hasBody(headers: { 'content-length'?: string | undefined; 'transfer-encoding'?: string | undefined }): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')
}

/** Nesting depth of parsed JSON and whether a key or string holds NUL, walked without recursion (a deep value must not overflow the stack). */
function inspect(value: unknown): { depth: number; nul: boolean } {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (typeof node === 'string' && node.includes('\u0000')) return { depth: deepest, nul: true }
    if (node === null || typeof node !== 'object') continue
    deepest = Math.max(deepest, depth + 1)
    if (deepest > MAX_DEPTH) return { depth: deepest, nul: false }
    for (const [key, child] of Object.entries(node)) {
      if (key.includes('\u0000')) return { depth: deepest, nul: true }
      stack.push([child, depth + 1])
    }
  }
  return { depth: deepest, nul: false }
}
