import { expect } from 'chai'
import { BASE62_ALPHABET, encodeBase62 } from '../../../../src/core/apikeys/base62.js'
import { randomBase62, randomId } from '../../../../src/core/random.js'

describe('core/apikeys: base62 and random strings', () => {
  it('encodes integers in base62, zero-padded', () => {
    expect(BASE62_ALPHABET).to.have.length(62)
    expect(new Set(BASE62_ALPHABET).size).to.equal(62)
    expect(encodeBase62(0, 6)).to.equal('000000')
    expect(encodeBase62(61, 1)).to.equal('z')
    expect(encodeBase62(62, 1)).to.equal('10')
    expect(encodeBase62(0xffffffff, 6)).to.equal('4gfFC3')
    expect(encodeBase62(0xffffffff, 6)).to.have.length(6)
    expect(() => encodeBase62(-1, 6)).to.throw(RangeError)
    expect(() => encodeBase62(1.5, 6)).to.throw(RangeError)
  })

  it('draws random base62 strings of the asked length, using every character about equally', () => {
    expect(randomBase62(0)).to.equal('')
    expect(randomBase62(1)).to.match(/^[0-9A-Za-z]$/)
    expect(randomBase62(100)).to.match(/^[0-9A-Za-z]{100}$/)
    const counts = new Map<string, number>()
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).to.equal(62)
    // Expected 1000 each; a modulo bias (bytes 248..255 folded onto the first 8 characters) would add ~3%.
    for (const [c, n] of counts) expect(n, c).to.be.within(850, 1150)
    expect(() => randomBase62(-1)).to.throw(RangeError)
  })

  it('makes 22-character ids that do not repeat', () => {
    const ids = Array.from({ length: 1000 }, randomId)
    expect(ids.every((id) => /^[0-9A-Za-z]{22}$/.test(id))).to.equal(true)
    expect(new Set(ids).size).to.equal(1000)
  })
})
