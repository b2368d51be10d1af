import { expect } from 'chai'
import { renderFailure } from '../../../src/cli/failure.js'
import { printPreview } from '../../../src/cli/migrate-output.js'
import { escapeControl } from '../../../src/core/text.js'
import { terminalText } from '../../../src/cli/terminal-text.js'
import { createUi, type Ui } from '../../../src/cli/ui.js'
import { GantryError } from '../../../src/core/errors.js'

/** Every character a terminal acts on: C0, DEL, C1, the bidi embeddings/overrides and isolates. */
const CONTROLS = [...range(0x00, 0x1f), ...range(0x7f, 0x9f), ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)].map((code) => String.fromCharCode(code))

/** Any of them left in output: only the line ends we write are allowed through. */
// eslint-disable-next-line no-control-regex -- the test looks for exactly these
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

function escaped(c: string): string {
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase()}`
}

/** A stream that keeps what is written to it. */
function sink(isTTY = false): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = []
  return { isTTY, write: (chunk: string) => (chunks.push(chunk), true), text: () => chunks.join('') } as unknown as NodeJS.WriteStream & { text: () => string }
}

function ui(env: NodeJS.ProcessEnv = { NO_COLOR: '1' }, isTTY = false): { ui: Ui; stdout: ReturnType<typeof sink>; stderr: ReturnType<typeof sink> } {
  const stdout = sink(isTTY)
  const stderr = sink(isTTY)
  return { ui: createUi({ json: false, env, stdout, stderr }), stdout, stderr }
}

describe('cli: terminal text', () => {
  it('escapes every control character visibly (\\x1B, \\x9B, \\u202E) and leaves other text alone', () => {
    expect(CONTROLS).to.have.length(32 + 33 + 5 + 4)
    for (const c of CONTROLS) {
      const out = escapeControl(`a${c}b`)
      expect(out, escaped(c)).to.equal(`a${escaped(c)}b`)
      expect(RAW.test(out) || out.includes('\n'), escaped(c)).to.equal(false)
    }
    expect(escapeControl('\u001b]52;c;cHduZWQ=\u0007')).to.equal('\\x1B]52;c;cHduZWQ=\\x07')
    expect(escapeControl('\u202Egnp.exe')).to.equal('\\u202Egnp.exe')
    const printable = 'Ada Lovelace · Zoë 李 🚀 \u00a0\u200d'
    expect(escapeControl(printable)).to.equal(printable)
  })

  it('a table shows each control character escaped in its cell: one line per row, columns aligned', () => {
    const { ui: out, stdout } = ui()
    out.table(
      CONTROLS.map((c) => ({ name: `x${c}y`, role: 'viewer' })),
      [
        ['name', 'NAME'],
        ['role', 'ROLE'],
      ],
    )
    const lines = stdout.text().split('\n').slice(0, -1)
    expect(lines).to.have.length(CONTROLS.length + 1)
    CONTROLS.forEach((c, i) => {
      const line = lines[i + 1] ?? ''
      expect(RAW.test(line), escaped(c)).to.equal(false)
      expect(line, escaped(c)).to.match(new RegExp(`^x${escaped(c).replace(/\\/g, '\\\\')}y +viewer$`))
      expect(line.indexOf('viewer'), escaped(c)).to.equal(lines[0]?.indexOf('ROLE'))
    })
  })

  it('out, note and warn escape each control character inside a message', () => {
    const { ui: out, stdout, stderr } = ui()
    for (const c of CONTROLS) {
      out.out(`Created API key "k${c}ey".`)
      out.note(`More: ${c}`)
      out.warn(`odd ${c} name`)
    }
    const outLines = stdout.text().split('\n').slice(0, -1)
    const errLines = stderr.text().split('\n').slice(0, -1)
    expect(outLines).to.deep.equal(CONTROLS.map((c) => `Created API key "k${escaped(c)}ey".`))
    expect(errLines).to.deep.equal(CONTROLS.flatMap((c) => [`More: ${escaped(c)}`, `Warning: odd ${escaped(c)} name`]))
  })

  it('keeps a line’s leading line breaks as layout, and only those', () => {
    const { ui: out, stdout } = ui()
    out.out('\n\nLock: free\nfake row')
    expect(stdout.text()).to.equal('\n\nLock: free\\x0Afake row\n')
  })

  it('colours its own marks on a colour terminal; data never colours or moves anything', () => {
    const { ui: out, stdout, stderr } = ui({ FORCE_COLOR: '1' }, true)
    const name = 'evil\u001b[8m\u001b]52;c;eA==\u0007'
    out.out(`${out.color.green('✔')} ${name} ${out.color.dim(`(${name})`)}`)
    expect(stdout.text()).to.equal('\u001b[32m✔\u001b[39m evil\\x1B[8m\\x1B]52;c;eA==\\x07 \u001b[2m(evil\\x1B[8m\\x1B]52;c;eA==\\x07)\u001b[22m\n')
    out.table(
      [{ status: out.color.red('fail'), name }],
      [
        ['status', 'STATUS'],
        ['name', 'NAME'],
      ],
    )
    expect(stdout.text().split('\n').slice(1, 3)).to.deep.equal([
      '\u001b[1mSTATUS  NAME\u001b[22m',
      '\u001b[31mfail\u001b[39m    evil\\x1B[8m\\x1B]52;c;eA==\\x07',
    ])
    out.note(`by ${name}`)
    expect(stderr.text()).to.equal('\u001b[2mby evil\\x1B[8m\\x1B]52;c;eA==\\x07\u001b[22m\n')
  })

  it('a mark is unforgeable: one without this run’s nonce is escaped like any NUL', () => {
    const forged = terminalText('N0nce').palette.red('x')
    const { ui: out, stdout } = ui({ FORCE_COLOR: '1' }, true)
    out.out(forged)
    expect(stdout.text()).to.equal('\\x00N0ncered\\x00x\\x00N0nce/red\\x00\n')
  })

  it('without colour the marks leave nothing behind', () => {
    const { ui: out, stdout } = ui({ NO_COLOR: '1' }, true)
    out.out(`${out.color.bold('Settings')}: ${out.color.yellow('(protected)')}`)
    expect(stdout.text()).to.equal('Settings: (protected)\n')
  })

  it('prints each line of a multi-line SQL statement as its own line', () => {
    const { ui: out, stdout } = ui()
    printPreview(out, {
      preview: { mode: 'copy', on: 'sqlite:/tmp/x.sqlite3' },
      dryRun: [{ set: 'app', name: '001_x.ts', direction: 'up', approximate: false, statements: ['create table x (\n  id int\r\n)', 'select 1'] }],
    })
    expect(stdout.text().split('\n').slice(1).join('\n')).to.equal('-- app/001_x.ts (up)\ncreate table x (\n  id int\n);\nselect 1;\n')
  })

  it('an error line escapes each control character of the message and the hint', () => {
    const written: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    const { exitCode } = process
    const noColor = process.env.NO_COLOR
    process.env.NO_COLOR = '1'
    process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write
    try {
      for (const c of CONTROLS) renderFailure(new GantryError('INVALID_INPUT', `No key "k${c}".`, { hint: `Try ${c}.` }), { json: false, verbose: false })
    } finally {
      process.stderr.write = write
      process.exitCode = exitCode
      if (noColor === undefined) delete process.env.NO_COLOR
      else process.env.NO_COLOR = noColor
    }
    const lines = written.join('').split('\n').slice(0, -1)
    expect(lines).to.deep.equal(CONTROLS.flatMap((c) => [`Error (INVALID_INPUT): No key "k${escaped(c)}".`, `Try: Try ${escaped(c)}.`]))
  })
})
