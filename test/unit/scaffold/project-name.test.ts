import { expect } from 'chai'
import { checkProjectName, defaultProjectName } from '../../../src/scaffold/init.js'
import { rejection } from '../../helpers/rejection.js'

describe('scaffold: project names', () => {
  it('takes the names npm takes for a new package', () => {
    for (const name of ['shop', 'my-shop', 'shop.api', '@acme/shop', 'shop_2']) expect(() => checkProjectName(name), name).not.to.throw()
  })

  it('refuses the others with one line saying why, naming the name field', async () => {
    for (const name of ['My Shop!!', 'Shop', '.shop', '_shop', 'a b', 'x'.repeat(215)]) {
      const err = await rejection((async () => checkProjectName(name))())
      expect(err.code, name).to.equal('INVALID_INPUT')
      expect(err.message).to.match(/^Project name ".*" is not one npm accepts: .+\.$/)
      expect(err.details).to.include({ reason: 'project-name-invalid' })
    }
  })

  it('a folder suggests a name npm accepts', () => {
    expect(defaultProjectName('Shop Front')).to.equal('shop-front')
    expect(defaultProjectName('My Shop!!')).to.equal('my-shop')
    expect(defaultProjectName('.hidden_app')).to.equal('hidden_app')
    expect(defaultProjectName('!!!')).to.equal('app')
    for (const folder of ['Shop Front', 'My Shop!!', '.hidden_app', '!!!', 'ÄÖÜ'])
      expect(() => checkProjectName(defaultProjectName(folder)), folder).not.to.throw()
  })
})
