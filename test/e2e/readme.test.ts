/**
 * The README's claims, where they are commands: every ```sh block marked `<!-- test -->` on the line before
 * its fence runs here, in the README's order, in one fresh workspace — as a newcomer following it would —
 * with `gantry` on PATH being this checkout's built CLI and an environment holding nothing of the caller's
 * (no GANTRY_* variables, a HOME of its own). So the README cannot drift from the CLI. Then the links of the
 * README and docs/ are followed, so moving a section cannot leave a link pointing at nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { delimiter, dirname, join, relative } from 'node:path'
import { expect } from 'chai'
import { gantryOnPath, PACKAGE_ROOT, runBash, tempDir } from '../helpers/cli.js'
import { headingAnchors, localLinks, markedBlocks, TEST_MARKER, type MarkedBlock } from '../helpers/markdown.js'

const README = join(PACKAGE_ROOT, 'README.md')

/**
 * The block as one bash -e script; when a command fails, an ERR trap names its README line and the command
 * (LINENO counts the trap's own line as 1, so a block line's README line is the fence's + LINENO - 1).
 */
function script(block: MarkedBlock): string {
  const trap = `trap 'rc=$?; echo "README.md line $((${block.line} + LINENO - 1)) exited $rc: $BASH_COMMAND" >&2' ERR`
  return [trap, ...block.lines].join('\n')
}

describe('e2e: the README blocks marked to run, against the built CLI', function () {
  this.timeout(120_000)
  // A misplaced marker fails the first test below, not the loading of every suite of the run.
  let blocks: MarkedBlock[] = []
  let misplaced: unknown
  try {
    blocks = markedBlocks(readFileSync(README, 'utf8'), 'README.md')
  } catch (error) {
    misplaced = error
  }
  let scratch: string
  let workspace: string
  let env: NodeJS.ProcessEnv

  before(() => {
    scratch = tempDir('gantry-readme-')
    workspace = join(scratch, 'project')
    mkdirSync(workspace)
    mkdirSync(join(scratch, 'home'))
    // Only what a fresh login shell has: a PATH (with node on it, as a user who installed Gantry has) and a HOME.
    const path = [gantryOnPath(join(scratch, 'bin')), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter)
    env = { PATH: path, HOME: join(scratch, 'home') }
  })
  after(() => rmSync(scratch, { recursive: true, force: true }))

  it('marks at least one block, each marker directly above its fence', () => {
    if (misplaced) throw misplaced
    expect(blocks.length).to.be.greaterThan(0)
  })

  for (const block of blocks) {
    it(`README.md line ${block.line}: ${block.lines[0]?.replace(/\s+#.*$/, '') ?? ''} …`, async () => {
      const run = await runBash(script(block), { cwd: workspace, env })
      expect(run.code, `the block at README.md line ${block.line} failed (exit ${run.code}):\n${run.stderr}\nstdout:\n${run.stdout}`).to.equal(0)
    })
  }
})

describe(`README markers: ${TEST_MARKER}`, () => {
  it('finds a marked block with its fence line and lines, and leaves unmarked blocks alone', () => {
    const markdown = ['# Title', '', '```sh', 'gantry serve', '```', '', TEST_MARKER, '```sh', 'gantry init --yes', 'gantry env check', '```'].join('\n')
    expect(markedBlocks(markdown, 'X.md')).to.deep.equal([{ line: 8, lines: ['gantry init --yes', 'gantry env check'] }])
  })

  it('refuses a marker not directly followed by a ```sh fence, naming its line', () => {
    expect(() => markedBlocks(['text', TEST_MARKER, '', '```sh', 'gantry init --yes', '```'].join('\n'), 'X.md')).to.throw('X.md:2: ')
    expect(() => markedBlocks([TEST_MARKER, '```js', 'run()', '```'].join('\n'), 'X.md')).to.throw('X.md:1: ')
    expect(() => markedBlocks(['<!--test-->', 'gantry init --yes'].join('\n'), 'X.md')).to.throw('X.md:1: ')
    expect(() => markedBlocks(TEST_MARKER, 'X.md')).to.throw('X.md:1: ')
  })

  it('refuses a marked block that is never closed', () => {
    expect(() => markedBlocks([TEST_MARKER, '```sh', 'gantry init --yes'].join('\n'), 'X.md')).to.throw('X.md:2: ')
  })
})

describe('README and docs/: every link to a file of the repository or a heading reaches it', () => {
  const pages = [
    README,
    ...readdirSync(join(PACKAGE_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(PACKAGE_ROOT, 'docs', f)),
  ]

  for (const page of pages) {
    it(relative(PACKAGE_ROOT, page), () => {
      const broken = localLinks(readFileSync(page, 'utf8')).filter(({ target }) => {
        const [file = '', anchor] = target.split('#')
        const path = file === '' ? page : join(dirname(page), decodeURIComponent(file))
        if (!existsSync(path)) return true
        return anchor !== undefined && path.endsWith('.md') && !headingAnchors(readFileSync(path, 'utf8')).has(anchor)
      })
      expect(broken.map(({ line, target }) => `${relative(PACKAGE_ROOT, page)}:${line}: ${target}`)).to.deep.equal([])
    })
  }
})
