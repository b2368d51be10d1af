/**
 * Text that people type for other people to read: user names, API key names, role descriptions, the
 * GANTRY_ACTOR of an audit entry. A terminal acts on some characters instead of showing them (OSC 52 writes
 * the clipboard, CR/LF fakes table rows, a bidi override reverses what is read), so they are refused here at
 * input, and the CLI escapes the same characters in everything it prints.
 */
import { z } from 'zod'

/**
 * One control character: C0 (TAB, CR, LF and ESC among them), DEL, C1, and the bidirectional embeddings,
 * overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

/** The first control character of `text` as `U+001B at character 5`, or undefined when it has none. */
export function findControlCharacter(text: string): string | undefined {
  const match = CONTROL_CHARACTER.exec(text)
  if (!match) return undefined
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
  return `U+${code} at character ${match.index + 1}`
}

/** The check of such a text field: `name: z.string().check(plainText)`; parseInput names the field. */
export const plainText = z.superRefine((text: string, ctx) => {
  const found = findControlCharacter(text)
  if (found) ctx.addIssue({ code: 'custom', message: `contains a control character (${found}): use printable text only` })
})

const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'g')

const CONTROL_RUNS = new RegExp(`${CONTROL_CHARACTER.source}+`, 'g')

/** `text` with each run of control characters made one space: a name another system gave us, kept readable. */
export function withoutControl(text: string): string {
  return text.replace(CONTROL_RUNS, ' ')
}

/**
 * `text` with every control character written as a visible escape (`\x1B`, `\x0A`, `\x9B`, `\u202E`): how
 * text we did not vet (a receiver's answer, a message) is kept and shown.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`
  })
}

function hex(code: number, digits: number): string {
  return code.toString(16).toUpperCase().padStart(digits, '0')
}
