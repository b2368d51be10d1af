import { expect } from 'chai'
import { displayUrl, isLoopback, normaliseServerUrl, requireEncryptedTransport } from '../../../src/client/server-url.js'
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
    expect(displayUrl('//user:p@ss@bad url')).to.equal('//bad url')
  })

  it('sends credentials over https anywhere, over plain http only to this machine unless allowed', () => {
    const table: ReadonlyArray<[url: string, loopback: boolean, refusedWithoutFlag: boolean]> = [
      ['https://api.example.com', false, false],
      ['https://192.0.2.7:8443', false, false],
      ['http://127.0.0.1:3000', true, false],
      ['http://127.255.0.9', true, false],
      ['http://127.1:3000', true, false], // the URL parser spells it 127.0.0.1
      ['http://LocalHost:3000', true, false],
      ['http://[::1]:3000', true, false],
      ['http://api.example.com', false, true],
      ['http://192.0.2.7:3000', false, true],
      ['http://10.0.0.1', false, true],
      ['http://0.0.0.0:3000', false, true],
      ['http://128.0.0.1', false, true],
      ['http://127.0.0.1.example.com', false, true],
      ['http://localhost.example.com', false, true],
      ['http://[::2]', false, true],
      ['http://[::ffff:10.0.0.1]', false, true],
    ]
    for (const [given, loopback, refused] of table) {
      const url = normaliseServerUrl(given)
      expect(isLoopback(url), given).to.equal(loopback)
      if (refused) {
        expect(() => requireEncryptedTransport(url, false), given)
          .to.throw(GantryError, `Refusing to send credentials to ${url} over plain http: they would cross the network in clear.`)
          .with.property('hint')
          .that.includes('https://')
          .and.includes('--allow-http')
      } else {
        expect(() => requireEncryptedTransport(url, false), given).to.not.throw()
      }
      expect(() => requireEncryptedTransport(url, true), given).to.not.throw()
    }
    expect(() => requireEncryptedTransport(normaliseServerUrl('http://api.example.com'), false))
      .to.throw(GantryError)
      .with.property('code', 'INVALID_INPUT')
  })
})
