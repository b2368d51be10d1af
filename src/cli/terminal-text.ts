/**
 * Human output that a terminal shows and never obeys. Names, descriptions, audit actors and server answers
 * reach the screen inside our lines; a control character in them (src/core/text.ts) is written as a visible
 * escape instead: ESC as `\x1B`, U+202E as `\u202E`. Our own colours must still work, so the palette does not
 * emit escape sequences while a line is composed: it marks the styled span with a mark that carries a
 * random nonce, which no data can forge, and `render` turns marks into colour only after escaping the rest.
 */
import type { ChalkInstance } from 'chalk'
import { randomId } from '../core/random.js'
import { escapeControl } from '../core/text.js'

const STYLES = ['bold', 'dim', 'red', 'green', 'yellow'] as const
type Style = (typeof STYLES)[number]

/** The colours of human output: each wraps its text in marks that `render` turns into colour (or nothing). */
export type Palette = Readonly<Record<Style, (text: string) => string>>

/** Composes and renders the human lines of one run. */
export interface TerminalText {
  readonly palette: Palette
  /** `text` as written: control characters escaped, the palette's marks as `chalk`'s colours (none at level 0). */
  render(text: string, chalk: ChalkInstance): string
}

/** A TerminalText with a fresh nonce. */
export function terminalText(nonce: string = randomId()): TerminalText {
  const mark = (tag: string): string => `\u0000${nonce}${tag}\u0000`
  // The nonce is base62: nothing in it needs escaping in a pattern.
  const MARK = new RegExp(`\u0000${nonce}(/?[a-z]+)\u0000`)
  const palette = Object.fromEntries(STYLES.map((style) => [style, (text: string) => `${mark(style)}${text}${mark(`/${style}`)}`])) as Palette
  return {
    palette,
    render(text, chalk) {
      // split() puts the captured tags at odd indexes, the text between them at even ones.
      const parts = text.split(MARK)
      const open: Style[] = []
      let out = ''
      parts.forEach((part, i) => {
        if (i % 2 === 1) {
          if (part.startsWith('/')) open.pop()
          else open.push(part as Style)
        } else if (part !== '') {
          out += open.reduce<ChalkInstance>((styled, style) => styled[style], chalk)(escapeControl(part))
        }
      })
      return out
    },
  }
}
