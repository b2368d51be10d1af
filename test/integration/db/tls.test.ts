/**
 * TLS to the database (issue 26), against private MariaDB and PostgreSQL servers that offer TLS with a
 * certificate this test makes (openssl) for `localhost`, and private servers that offer none. Each mode
 * of the URL is tried where it should connect and where it must refuse: an untrusted CA, a host the
 * certificate does not name, a server without TLS. `transport` is what `env check` shows.
 */
import { expect } from 'chai'
import { rmSync } from 'node:fs'
import { openDatabase, transport, type Database } from '../../../src/db/connect.js'
import { GantryError } from '../../../src/core/errors.js'
import { findProgram } from '../../helpers/binaries.js'
import { pendingUnlessCi } from '../../helpers/services.js'
import { startPrivateDatabase, stopAllPrivateDatabases, type PrivateDatabaseServer } from '../../helpers/private-databases.js'
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.js'

const CASES = [
  { dialect: 'postgres', mode: 'sslmode', ca: 'sslrootcert', require: 'require', verifyCa: 'verify-ca', verifyFull: 'verify-full', off: 'disable' },
  { dialect: 'mysql', mode: 'ssl-mode', ca: 'ssl-ca', require: 'REQUIRED', verifyCa: 'VERIFY_CA', verifyFull: 'VERIFY_IDENTITY', off: 'DISABLED' },
] as const

for (const c of CASES) {
  describe(`TLS to ${c.dialect} (integration, private servers)`, function () {
    this.timeout(120_000)
    let certs: TestCertificates
    let secure: PrivateDatabaseServer
    let plain: PrivateDatabaseServer
    const opened: Database[] = []

    before(async function () {
      try {
        findProgram(c.dialect === 'postgres' ? 'postgres' : 'mariadbd')
        certs = makeTestCertificates(['DNS:localhost'])
      } catch (err) {
        pendingUnlessCi(this, (err as Error).message)
      }
      ;[secure, plain] = await Promise.all([startPrivateDatabase(c.dialect, { tls: certs }), startPrivateDatabase(c.dialect)])
    })
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((db) => db.close()))
    })
    after(async () => {
      await stopAllPrivateDatabases()
      if (certs) rmSync(certs.dir, { recursive: true, force: true })
    })

    const url = (server: PrivateDatabaseServer, host: string, params: Record<string, string>): string => {
      const database = c.dialect === 'postgres' ? 'postgres' : 'mysql'
      const user = c.dialect === 'postgres' ? 'postgres' : 'root'
      return `${c.dialect}://${user}@${host}:${server.port}/${database}?${new URLSearchParams(params).toString()}`
    }
    const open = async (u: string): Promise<Database> => {
      const db = await openDatabase(u, certs.dir)
      opened.push(db)
      return db
    }
    const refusal = async (u: string): Promise<GantryError> => {
      try {
        opened.push(await openDatabase(u, certs.dir))
      } catch (err) {
        expect(err).to.be.instanceOf(GantryError)
        return err as GantryError
      }
      throw new Error(`connected with ${u}`)
    }

    it('no TLS parameter, or TLS off: a plain connection, and it says so', async () => {
      expect(await transport(await open(url(secure, '127.0.0.1', {})))).to.deep.equal({ kind: 'plain' })
      expect(await transport(await open(url(secure, '127.0.0.1', { [c.mode]: c.off })))).to.deep.equal({ kind: 'plain' })
    })

    it(`${c.require}: encrypted without checking the certificate`, async () => {
      const via = await transport(await open(url(secure, '127.0.0.1', { [c.mode]: c.require })))
      expect(via.kind).to.equal('tls')
      expect(via.kind === 'tls' && via.version).to.match(/TLS/)
    })

    it(`${c.verifyCa} with the CA that signed it: encrypted, the chain checked, the host name not`, async () => {
      // The certificate names localhost, not 127.0.0.1: verify-ca does not look.
      const via = await transport(await open(url(secure, '127.0.0.1', { [c.mode]: c.verifyCa, [c.ca]: 'ca.pem' })))
      expect(via.kind).to.equal('tls')
    })

    it(`a CA alone (no ${c.mode}) checks the chain too, as the database's own client does`, async () => {
      expect((await transport(await open(url(secure, '127.0.0.1', { [c.ca]: certs.caFile })))).kind).to.equal('tls')
      const err = await refusal(url(secure, '127.0.0.1', { [c.ca]: certs.otherCaFile }))
      expect(err.code).to.equal('DB_TLS_FAILED')
    })

    it(`${c.require} with a CA is checked against it: another CA is refused`, async () => {
      const err = await refusal(url(secure, '127.0.0.1', { [c.mode]: c.require, [c.ca]: certs.otherCaFile }))
      expect(err.code).to.equal('DB_TLS_FAILED')
      expect(err.message).to.contain('not signed by a trusted CA')
    })

    it(`${c.verifyCa} with another CA, or none (the system's, which never signed it): refused, naming why`, async () => {
      for (const params of [{ [c.mode]: c.verifyCa, [c.ca]: certs.otherCaFile }, { [c.mode]: c.verifyCa }]) {
        const err = await refusal(url(secure, '127.0.0.1', params))
        expect(err.code, `${JSON.stringify(params)}: ${err.message} ${(err.cause as { code?: string })?.code}`).to.equal('DB_TLS_FAILED')
        expect(err.message).to.contain('not signed by a trusted CA')
        expect(err.exit).to.equal(3)
      }
    })

    it(`${c.verifyFull}: the host the certificate names connects; another is refused`, async () => {
      expect((await transport(await open(url(secure, 'localhost', { [c.mode]: c.verifyFull, [c.ca]: 'ca.pem' })))).kind).to.equal('tls')
      const err = await refusal(url(secure, '127.0.0.1', { [c.mode]: c.verifyFull, [c.ca]: 'ca.pem' }))
      if (c.dialect === 'postgres') {
        expect(err.code).to.equal('DB_TLS_FAILED')
        expect(err.message).to.contain('does not name this host')
      } else {
        // mysql2 checks a host name only: an address would be checked as "localhost", so it is refused up front.
        expect(err.code).to.equal('DB_URL_INVALID')
        expect(err.message).to.contain('host name')
      }
    })

    it(`a server that offers no TLS: ${c.require} is refused, naming why`, async () => {
      const err = await refusal(url(plain, '127.0.0.1', { [c.mode]: c.require }))
      expect(err.code).to.equal('DB_TLS_FAILED')
      expect(err.message).to.contain('does not offer TLS')
    })
  })
}
