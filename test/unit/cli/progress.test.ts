import { expect } from 'chai'
import { createProgressBar, renderBar, renderSummary, type BarState } from '../../../src/cli/progress.js'

const state = (over: Partial<BarState> = {}): BarState => ({
  done: 420,
  total: 1000,
  items: 12_345,
  unit: 'rows',
  counts: [
    [12_000, 'imported'],
    [345, 'rejected'],
  ],
  ...over,
})

describe('cli: progress bar', () => {
  it('renders the bar, percent, count, rate and counts within the width', () => {
    const line = renderBar(state(), 1500, 100)
    expect(line).to.equal(`[${'█'.repeat(12)}${'░'.repeat(18)}]  42% · 12,345 rows · 8,230 rows/s · 12,000 imported · 345 rejected`)
    expect(line.length).to.equal(99)
    // A wide terminal: the bar stops growing at 40 cells.
    expect(renderBar(state(), 1500, 300)).to.match(/^\[[█░]{40}\] /)
  })

  it('when short of room drops the rate, then the bar (under 10 cells), then cuts the text; never fills the last column', () => {
    expect(renderBar(state(), 1500, 80)).to.match(/^\[█{4}░{6}\] {2}42% · 12,345 rows · 8,230 rows\/s · /)
    expect(renderBar(state(), 1500, 75)).to.equal(`[${'█'.repeat(8)}${'░'.repeat(12)}]  42% · 12,345 rows · 12,000 imported · 345 rejected`)
    expect(renderBar(state(), 1500, 60)).to.equal(' 42% · 12,345 rows · 12,000 imported · 345 rejected')
    expect(renderBar(state(), 1500, 20)).to.equal(' 42% · 12,345 rows ')
    expect(renderBar(state(), 1500, 1)).to.equal('')
    for (const width of [1, 10, 40, 80, 81, 99, 100, 120, 200]) expect(renderBar(state(), 1500, width).length, String(width)).to.be.lessThan(width)
  })

  it('clamps the fraction, counts an empty whole as done, and leaves out the rate at 0 ms', () => {
    expect(renderBar(state({ done: 0 }), 10, 100)).to.match(/^\[░+\] {3}0% /)
    expect(renderBar(state({ done: 2000 }), 10, 100)).to.match(/^\[█+\] 100% /)
    expect(renderBar(state({ done: 0, total: 0 }), 10, 100)).to.match(/^\[█+\] 100% /)
    expect(renderBar(state({ done: 999 }), 10, 100)).to.include(' 99% ')
    expect(renderBar(state({ counts: [] }), 0, 60)).to.equal(`[${'█'.repeat(15)}${'░'.repeat(23)}]  42% · 12,345 rows`)
  })

  it('summarises a finished run: count, time, rate', () => {
    expect(renderSummary(state(), 3200)).to.equal('12,345 rows in 3.2 s (3,858 rows/s).')
    expect(renderSummary(state({ items: 0 }), 0)).to.equal('0 rows in 0.0 s.')
  })

  it('redraws in place at most once per interval, erases itself and leaves the summary', () => {
    let now = 1000
    const writes: string[] = []
    const stream = { columns: 100, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream
    const bar = createProgressBar(stream, { now: () => now, style: (s) => `<${s}>` })
    bar.update(state({ done: 100, items: 1000 }))
    now += 50
    bar.update(state({ done: 200, items: 2000 })) // within 100 ms: not drawn
    now += 60
    bar.update(state({ done: 300, items: 3000 }))
    expect(writes).to.have.length(2)
    expect(writes.every((w) => w.startsWith('\r') && w.endsWith('\x1b[K'))).to.equal(true)
    expect(writes[1]).to.include(' 30% · 3,000 rows')
    now += 10
    bar.update(state({ done: 1000, items: 4000 })) // not drawn, but the summary counts it
    now += 880
    bar.done(true)
    expect(writes.slice(2)).to.deep.equal(['\r\x1b[K', '<4,000 rows in 1.0 s (4,000 rows/s).>\n'])
  })

  it('writes nothing when it was never drawn, and only erases when not finished', () => {
    const writes: string[] = []
    const stream = { columns: 80, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream
    createProgressBar(stream).done()
    expect(writes).to.deep.equal([])
    const bar = createProgressBar(stream)
    bar.update(state())
    bar.done()
    expect(writes.slice(1)).to.deep.equal(['\r\x1b[K'])
  })
})
