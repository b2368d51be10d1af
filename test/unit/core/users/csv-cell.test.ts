import { expect } from 'chai'
import fc from 'fast-check'
import { neutraliseCell, restoreCell } from '../../../../src/core/users/csv-cell.js'

const TRIGGERS = ['=', '+', '-', '@', '\t', '\r']
/** Strings made mostly of quotes and triggers, where the rule's edge cases are; plus any string at all. */
const cellText = fc.oneof(fc.string({ unit: fc.constantFrom("'", ...TRIGGERS, 'a', ' ', '1') }), fc.string({ unit: 'grapheme' }))

describe('CSV cells (formula injection)', () => {
  it('puts one quote before a value a spreadsheet would run, and nothing before any other', () => {
    const cases: Array<[string, string]> = [
      ['=SUM(A1)', "'=SUM(A1)"],
      ['+1', "'+1"],
      ['-1', "'-1"],
      ['@cmd', "'@cmd"],
      ['\tx', "'\tx"],
      ['\rx', "'\rx"],
      ["'=x", "''=x"],
      ["''-x", "'''-x"],
      ["'x", "'x"],
      ["'", "'"],
      ['', ''],
      ['Ada = Lovelace', 'Ada = Lovelace'],
      [' =x', ' =x'],
    ]
    for (const [value, cell] of cases) {
      expect(neutraliseCell(value), JSON.stringify(value)).to.equal(cell)
      expect(restoreCell(cell), JSON.stringify(cell)).to.equal(value)
    }
  })

  it('export → import gives every value back exactly', () => {
    fc.assert(
      fc.property(cellText, (value) => restoreCell(neutraliseCell(value)) === value),
      { numRuns: 5000 },
    )
  })

  it('no written cell starts with a trigger', () => {
    fc.assert(
      fc.property(cellText, (value) => !TRIGGERS.includes(neutraliseCell(value).charAt(0))),
      { numRuns: 5000 },
    )
  })
})
