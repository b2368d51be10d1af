import { expect } from 'chai'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import request from 'supertest'
import { localContext } from '../../../src/core/context.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'

// A verifier that knows only the JWKS (no shared secret) accepts Gantry's EdDSA tokens, before and after a
// rotation; under HS256 there is nothing to publish.
describe('server: /.well-known/jwks.json', function () {
  const local = localContext('local:test@host')

  describe('with EdDSA', function () {
    let server: TestServer
    before(async () => {
      server = await createTestServer('sqlite', { environment: { auth: { algorithm: 'EdDSA' } } })
      await server.services.signingKeys.rotate(local)
    })
    after(async () => server?.cleanup())

    const verifyWithJwks = async (token: string): Promise<string | undefined> => {
      const res = await request(server.app).get('/.well-known/jwks.json').expect(200)
      expect(res.headers['content-type']).to.match(/^application\/jwk-set\+json/)
      const jwks = JSON.parse(res.text) as JSONWebKeySet
      for (const key of jwks.keys) expect(key).to.not.have.property('d') // public halves only
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: ['EdDSA'], issuer: 'gantry', audience: 'gantry' })
      return payload.sub
    }

    it('publishes public keys that verify a token from login, also after a rotation', async () => {
      const before = await server.token('admin')
      expect(await verifyWithJwks(before)).to.be.a('string')
      await server.services.signingKeys.rotate(local)
      const after = await server.token('admin')
      expect(await verifyWithJwks(after)).to.be.a('string')
      expect(await verifyWithJwks(before), 'a token of the previous key still verifies').to.be.a('string')
    })
  })

  describe('with HS256', function () {
    let server: TestServer
    before(async () => (server = await createTestServer('sqlite')))
    after(async () => server?.cleanup())

    it('answers 404 problem+json saying EdDSA is needed', async () => {
      const res = await request(server.app).get('/.well-known/jwks.json').expect(404)
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
      expect(res.body.code).to.equal('ROUTE_NOT_FOUND')
      expect(res.body.hint).to.include('EdDSA')
    })
  })
})
