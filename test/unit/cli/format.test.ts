import { expect } from 'chai'
import { formatCount } from '../../../src/cli/format.js'
import { renderBar, renderSummary } from '../../../src/cli/progress.js'

describe('cli: counts for people', () => {
  it('groups thousands with a comma, rounds, and keeps the sign', () => {
    expect([0, 7, 999, 1000, 49996, 50000, 1234567, 12.6, -1500].map(formatCount)).to.deep.equal([
      '0',
      '7',
      '999',
      '1,000',
      '49,996',
      '50,000',
      '1,234,567',
      '13',
      '-1,500',
    ])
  })

  it('reads the same whatever the default locale says (`50.000` in German)', () => {
    // The machine's locale shows in toLocaleString() without arguments; formatCount never asks it.
    const german = new Intl.NumberFormat('de-DE').format(50000)
    expect(german).to.equal('50.000')
    expect(formatCount(50000)).to.equal('50,000')
  })

  it('is what the progress bar and its summary print', () => {
    const state = { done: 1, total: 2, items: 49996, unit: 'rows', counts: [[50000, 'imported'] as const] }
    expect(renderBar(state, 1000, 200))
      .to.include('49,996 rows')
      .and.include('50,000 imported')
    expect(renderSummary(state, 1000)).to.equal('49,996 rows in 1.0 s (49,996 rows/s).')
  })
})
