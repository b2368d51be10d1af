import { expect } from 'chai'
import { interpolate, referencedVariables, variableReferences } from '../../../src/config/interpolate.js'
import { GantryError } from '../../../src/core/errors.js'

describe('config: interpolate', () => {
  it('replaces ${VAR} and ${VAR:-default} in nested strings and leaves other values alone', () => {
    const value = { a: 'x-${A}-y', list: ['${B:-b}', 3], nested: { c: '${C:-}' }, n: 1, t: true, z: null }
    expect(interpolate(value, { A: '1', C: 'see' })).to.deep.equal({ a: 'x-1-y', list: ['b', 3], nested: { c: 'see' }, n: 1, t: true, z: null })
  })

  it('treats an empty variable as unset (the default applies)', () => {
    expect(interpolate('${A:-fallback}', { A: '' })).to.equal('fallback')
  })

  it('keeps $${ as a literal ${', () => {
    expect(interpolate('$${A} and ${A}', { A: 'a' })).to.equal('${A} and a')
  })

  it('throws CONFIG_VAR_UNSET naming the variable and the path', () => {
    try {
      interpolate({ auth: { secret: '${SECRET_X}' } }, {}, 'environments.qa')
      expect.fail('should throw')
    } catch (err) {
      expect(err).to.be.instanceOf(GantryError)
      expect((err as GantryError).code).to.equal('CONFIG_VAR_UNSET')
      expect((err as GantryError).message)
        .to.include('SECRET_X')
        .and.include('environments.qa.auth.secret')
    }
  })

  it('lets display code choose what an unset variable becomes', () => {
    const seen: string[] = []
    const out = interpolate({ a: '${A}', b: '${B:-b}' }, {}, '', (name) => {
      seen.push(name)
      return `<${name}>`
    })
    expect(out).to.deep.equal({ a: '<A>', b: 'b' })
    expect(seen).to.deep.equal(['A'])
  })

  it('lists referenced variables in objects and arrays, sorted, with their defaults', () => {
    const value = { z: '${ZED}', list: ['${A:-1}', { deep: '${B}' }], literal: '$${NOT_A_VAR}' }
    expect(referencedVariables(value)).to.deep.equal(['A', 'B', 'ZED'])
    expect(variableReferences(value)).to.deep.equal([
      { name: 'A', fallback: '1' },
      { name: 'B', fallback: undefined },
      { name: 'ZED', fallback: undefined },
    ])
  })
})
