import { Chalk } from 'chalk'
import { expect } from 'chai'
import { doctorFailed, sectionLines, summaryLine } from '../../../src/cli/doctor-output.js'
import { terminalText } from '../../../src/cli/terminal-text.js'
import { doctorReport, type DoctorCheck } from '../../../src/doctor/check.js'

const { palette, render } = terminalText()
const plain = (line: string) => render(line, new Chalk({ level: 0 }))

const rows: DoctorCheck[] = [
  { id: 'secrets:.env', group: 'secrets', status: 'warn', message: '.env has mode 0644: other users of this machine can read it.', fix: 'chmod 600 .env' },
  { id: 'secrets:.env.development', group: 'secrets', status: 'ok', message: '.env.development is private (mode 0600).' },
  { id: 'secrets:.env.evil', group: 'secrets', status: 'fail', message: '.env.\u001b[2Jevil', fix: 'chmod 600 .env.\u001b[2Jevil' },
  { id: 'secrets', group: 'secrets', status: 'skipped', message: 'not checked.' },
]

describe('cli: doctor output', () => {
  it('prints a group under its title, a mark per row and the fix under a row that is not ok, control characters escaped', () => {
    expect(sectionLines({ group: 'secrets', checks: rows }, palette).map(plain)).to.deep.equal([
      'Secrets files',
      '  ! .env has mode 0644: other users of this machine can read it.',
      '    Fix: chmod 600 .env',
      '  ✔ .env.development is private (mode 0600).',
      '  ✖ .env.\\x1B[2Jevil',
      '    Fix: chmod 600 .env.\\x1B[2Jevil',
      '  - not checked.',
    ])
  })

  it('sums up in one line', () => {
    expect(plain(summaryLine(doctorReport(rows).summary, palette))).to.equal('1 warning, 1 problem (3 checks).')
    expect(plain(summaryLine({ ok: 2, warn: 2, fail: 0, skipped: 3 }, palette))).to.equal('2 warnings (4 checks).')
    expect(plain(summaryLine({ ok: 1, warn: 0, fail: 0, skipped: 0 }, palette))).to.equal('No issues found (1 check).')
  })

  it('fails a report with a failing check as NOT_READY (exit 3), carrying the report', () => {
    const report = doctorReport(rows)
    expect(report.summary).to.deep.equal({ ok: 1, warn: 1, fail: 1, skipped: 1 })
    const error = doctorFailed(report)
    expect(error).to.include({ code: 'NOT_READY', exit: 3, message: 'gantry doctor found 1 problem: secrets:.env.evil.' })
    expect(error.details).to.deep.equal(report)
  })
})
