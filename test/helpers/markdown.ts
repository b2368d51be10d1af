/**
 * Reading the README and docs/ as a reader's browser does: the command blocks marked to run, the headings a
 * link can point at (GitHub's anchors) and the links between the pages.
 */

/** The line that marks the ```sh block right below it as one test/e2e/readme.test.ts runs (GitHub hides it). */
export const TEST_MARKER = '<!-- test -->'
/** The marker with any spacing: a misspelt one must fail like a misplaced one, not be skipped. */
const MARKER_LINE = /^<!--\s*test\s*-->$/

export interface MarkedBlock {
  /** The line of the opening fence, counted from 1. */
  readonly line: number
  /** The block's lines, between its fences. */
  readonly lines: readonly string[]
}

/**
 * The ```sh blocks of `markdown` marked with TEST_MARKER on the line before their fence, in order. A marker
 * that is not directly followed by a ```sh fence, or a marked block that is never closed, is an error naming
 * its line: a marker must never silently do nothing.
 */
export function markedBlocks(markdown: string, file: string): MarkedBlock[] {
  const lines = markdown.split('\n')
  const blocks: MarkedBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!MARKER_LINE.test((lines[i] ?? '').trim())) continue
    if (lines[i + 1]?.trim() !== '```sh') throw new Error(`${file}:${i + 1}: ${TEST_MARKER} is not directly followed by a \`\`\`sh fence`)
    const close = lines.findIndex((line, j) => j > i + 1 && line.trim() === '```')
    if (close < 0) throw new Error(`${file}:${i + 2}: the block marked ${TEST_MARKER} is never closed`)
    blocks.push({ line: i + 2, lines: lines.slice(i + 2, close) })
    i = close
  }
  return blocks
}

/** The lines of `markdown` outside fenced code blocks, with their numbers (a `# comment` in a block is no heading). */
function proseLines(markdown: string): Array<{ line: number; text: string }> {
  let fenced = false
  const prose: Array<{ line: number; text: string }> = []
  markdown.split('\n').forEach((text, index) => {
    if (/^\s*```/.test(text)) fenced = !fenced
    else if (!fenced) prose.push({ line: index + 1, text })
  })
  return prose
}

/** The anchors GitHub gives the headings of `markdown`: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*)$/.exec(text)?.[1]
    if (heading === undefined) continue
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(slug) ?? 0
    anchors.add(count ? `${slug}-${count}` : slug)
    seen.set(slug, count + 1)
  }
  return anchors
}

export interface Link {
  readonly line: number
  /** The link's target as written: `docs/server.md`, `#exit-codes`, `reliability.md#nothing-lost`. */
  readonly target: string
}

/** The links of `markdown` to other files of the repository or to its own headings (not to other sites). */
export function localLinks(markdown: string): Link[] {
  return proseLines(markdown).flatMap(({ line, text }) =>
    [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ line, target: m[1] ?? '' })).filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target)),
  )
}
