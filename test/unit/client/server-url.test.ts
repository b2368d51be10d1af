import { expect } from 'chai'
import { displayUrl, normaliseServerUrl } from '../../../src/client/server-url.js'
import { GantryError } from '../../../src/core/errors.js'

describe('server URLs', () => {
  it('normalises scheme, host, default port and trailing slashes', () => {
    expect(normaliseServerUrl('HTTP://Gantry.Example.COM:80/')).to.equal('http://gantry.example.com')
    expect(normaliseServerUrl('https://host:443/base/')).to.equal('https://host/base')
    expect(normaliseServerUrl(' http://127.0.0.1:3000// ')).to.equal('http://127.0.0.1:3000')
    expect(normaliseServerUrl('https://user:pw@host:8443/x?y=1#z')).to.equal('https://host:8443/x')
  })

  it('refuses what is not an http(s) URL', () => {
    expect(() => normaliseServerUrl('ftp://host')).to.throw(GantryError, /must start with http/)
    expect(() => normaliseServerUrl('localhost:3000/')).to.throw(GantryError)
    expect(() => normaliseServerUrl('not a url')).to.throw(GantryError, /not a valid URL/)
  })

  it('shows a URL without its user info', () => {
    expect(displayUrl('https://user:secret@host/x')).to.equal('https://host/x')
    expect(displayUrl('//user:secret@bad url')).to.not.include('secret')
  })
})
