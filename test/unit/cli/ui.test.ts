import { expect } from 'chai'
import { createUi, isDrawable } from '../../../src/cli/ui.js'

/** A stream that keeps what is written, looking like a terminal of `columns` or like a pipe. */
function stream(options: { isTTY: boolean; columns?: number }): NodeJS.WriteStream & { text: string } {
  const s = { ...options, text: '', write: (chunk: string) => ((s.text += chunk), true) }
  return s as unknown as NodeJS.WriteStream & { text: string }
}

describe('cli: ui', () => {
  it('an empty table prints its empty message alone, and its header only when there are rows', () => {
    const stdout = stream({ isTTY: false })
    const ui = createUi({ json: false, env: {}, stdout, stderr: stream({ isTTY: false }) })
    ui.table([] as Array<{ kid: string }>, [['kid', 'KID']], { empty: 'No key yet.' })
    expect(stdout.text).to.equal('No key yet.\n')
    ui.table([{ kid: 'k1' }], [['kid', 'KID']], { empty: 'No key yet.' })
    expect(stdout.text).to.equal('No key yet.\nKID\nk1\n')
  })

  it('draws only on a terminal with a width, and not TERM=dumb', () => {
    expect(isDrawable(stream({ isTTY: true, columns: 80 }), {})).to.equal(true)
    expect(isDrawable(stream({ isTTY: true, columns: 0 }), {}), 'zero columns').to.equal(false)
    expect(isDrawable(stream({ isTTY: false, columns: 80 }), {}), 'a pipe').to.equal(false)
    expect(isDrawable(stream({ isTTY: true, columns: 80 }), { TERM: 'dumb' })).to.equal(false)
  })

  it('gives no progress bar and runs work without a spinner on a zero-width terminal', async () => {
    const stderr = stream({ isTTY: true, columns: 0 })
    const ui = createUi({ json: false, env: { TERM: 'xterm' }, stdout: stream({ isTTY: true, columns: 0 }), stderr })
    expect(ui.progress()).to.equal(undefined)
    expect(await ui.spin('Working', async () => 42)).to.equal(42)
    expect(stderr.text).to.equal('')
  })
})
