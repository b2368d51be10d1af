import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { writePaged } from '../../../src/cli/pager.js'
import { createUi } from '../../../src/cli/ui.js'

/** A stream that keeps what is written, looking like a terminal of `rows` lines or like a pipe. */
function stream(options: { isTTY: boolean; rows?: number; columns?: number }): NodeJS.WriteStream & { text: string } {
  const s = { ...options, text: '', write: (chunk: string) => ((s.text += chunk), true) }
  return s as unknown as NodeJS.WriteStream & { text: string }
}

describe('cli: pager', () => {
  let dir: string
  /** A pager (run by the shell, as $PAGER is) that keeps what it was given and the LESS it saw. */
  const keepingPager = (): string => `cat > '${join(dir, 'paged')}'; printf %s "$LESS" > '${join(dir, 'less')}'`
  const paged = (): string => readFileSync(join(dir, 'paged'), 'utf8')
  const text = (lines: number): string => Array.from({ length: lines }, (_, i) => `line ${i + 1}\n`).join('')

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-pager-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('text longer than the terminal goes through $PAGER, with LESS=FRX unless the user set LESS', async () => {
    const stdout = stream({ isTTY: true, rows: 10 })
    await writePaged(text(30), { stdout, env: { PAGER: keepingPager() } })
    expect(stdout.text).to.equal('')
    expect(paged()).to.equal(text(30))
    expect(readFileSync(join(dir, 'less'), 'utf8')).to.equal('FRX')
    await writePaged(text(30), { stdout, env: { PAGER: keepingPager(), LESS: 'R' } })
    expect(readFileSync(join(dir, 'less'), 'utf8')).to.equal('R')
  })

  it('text that fits, a pipe, PAGER empty or cat: written as it is, no pager run', async () => {
    const cases: Array<[string, NodeJS.WriteStream & { text: string }, NodeJS.ProcessEnv, string]> = [
      ['fits', stream({ isTTY: true, rows: 10 }), { PAGER: keepingPager() }, text(9)],
      ['a pipe', stream({ isTTY: false }), { PAGER: keepingPager() }, text(30)],
      ['PAGER empty', stream({ isTTY: true, rows: 10 }), { PAGER: '' }, text(30)],
      ['PAGER=cat', stream({ isTTY: true, rows: 10 }), { PAGER: 'cat' }, text(30)],
    ]
    for (const [name, stdout, env, shown] of cases) {
      await writePaged(shown, { stdout, env })
      expect(stdout.text, name).to.equal(shown)
    }
    expect(() => paged()).to.throw(/ENOENT/)
  })

  it('a pager that does not exist: the text is written as it is, nothing lost', async () => {
    const stdout = stream({ isTTY: true, rows: 5 })
    await writePaged(text(20), { stdout, env: { PAGER: 'gantry-no-such-pager-here' } })
    expect(stdout.text).to.equal(text(20))
  })

  it('Ui.paged draws at the terminal width and pages what it drew; under --json it draws nothing to page', async () => {
    const stdout = stream({ isTTY: true, rows: 4, columns: 30 })
    const ui = createUi({ json: false, env: { PAGER: keepingPager(), NO_COLOR: '1' }, stdout, stderr: stream({ isTTY: false }) })
    const rows = Array.from({ length: 3 }, (_, i) => ({ email: `user${i}@a-rather-long-domain.example.com`, role: 'viewer' }))
    const columns = [
      ['email', 'EMAIL'],
      ['role', 'ROLE'],
    ] as const
    await ui.paged((inner) => inner.table(rows, columns))
    expect(stdout.text).to.equal('')
    // 30 columns: a record per user, longer than 4 rows, so paged.
    expect(paged()).to.include('EMAIL  user0@').and.include('ROLE   viewer')
    rmSync(join(dir, 'paged'))
    const jsonOut = stream({ isTTY: true, rows: 2 })
    const json = createUi({ json: true, env: { PAGER: keepingPager() }, stdout: jsonOut, stderr: stream({ isTTY: false }) })
    await json.paged((inner) => inner.table(rows, columns))
    expect(jsonOut.text).to.equal('')
    expect(() => paged(), 'no pager under --json').to.throw(/ENOENT/)
  })
})
