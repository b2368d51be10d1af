/**
 * The catalog's titles, code by code: RFC 9457's `title` is for people, the same for every occurrence of a
 * problem type; `code` stays the machine's name. A title that is the code again tells a person nothing the
 * code did not.
 */
import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import { errorCodes, GantryError } from '../../../src/core/errors.js'

describe('the error catalog', () => {
  for (const code of errorCodes) {
    it(`${code} has a human title`, () => {
      const { title } = new GantryError(code, 'an occurrence')
      expect(title, code).to.be.a('string').and.not.equal('')
      expect(title).to.not.equal(code)
      // A phrase in sentence case: a capital first, words in lower case (acronyms aside), no underscores.
      expect(title).to.match(/^[A-Z]/)
      expect(title).to.match(/ [a-z]|^[A-Z][a-z]+$/)
      expect(title).to.not.match(/_/)
      expect(title.length).to.be.within(5, 40)
      expect(title).to.not.match(/\.$/)
    })
  }

  it('the title belongs to the code, not the occurrence: two messages, one title', () => {
    const one = new GantryError('RATE_LIMITED', 'Too many logins from 192.0.2.1.')
    const two = new GantryError('RATE_LIMITED', 'Rule api-default: 100 per minute.', { hint: 'Slow down.' })
    expect(one.title).to.equal('Too many requests')
    expect(two.title).to.equal(one.title)
  })

  it('no two codes share a title', () => {
    const titles = errorCodes.map((code) => new GantryError(code, '').title)
    expect(new Set(titles).size).to.equal(titles.length)
  })

  it('docs/errors.md has a row per code, in catalog order, with its status, exit code and title', () => {
    const rows = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| <a id='))
      .map((line) => line.split(' | ').slice(0, 4))
    expect(rows).to.deep.equal(
      errorCodes.map((code) => {
        const { status, exit, title } = new GantryError(code, '')
        return [`| <a id="error-${code.toLowerCase().replaceAll('_', '-')}"></a>\`${code}\``, String(status), String(exit), title]
      }),
    )
  })
})
