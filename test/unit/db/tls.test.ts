/**
 * The TLS a database URL asks for (src/db/tls.ts): each mode under the name the database's own client uses,
 * what a CA file changes, and the URLs refused with one clear line. The handshakes themselves are in
 * test/integration/db/tls.test.ts, against private servers.
 */
import { expect } from 'chai'
import { parseDatabaseUrl } from '../../../src/db/url.js'
import { databaseOutcome } from '../../../src/readiness.js'
import type { Database } from '../../../src/db/connect.js'
import { GantryError } from '../../../src/core/errors.js'

const tlsOf = (url: string) => {
  const target = parseDatabaseUrl(url, '/work/app')
  if (target.dialect === 'sqlite') throw new Error('not a server URL')
  return target.tls
}
const refusal = (url: string): GantryError => {
  try {
    parseDatabaseUrl(url, '/work/app')
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    return err as GantryError
  }
  throw new Error(`${url} was accepted`)
}

describe('database TLS settings (unit)', () => {
  const table: Array<[string, string, string | undefined]> = [
    ['postgres://u@db.example/app', 'disable', undefined],
    ['postgres://u@db.example/app?sslmode=disable', 'disable', undefined],
    ['postgres://u@db.example/app?sslmode=require', 'require', undefined],
    ['postgres://u@db.example/app?sslmode=require&sslrootcert=./ca.pem', 'verify-ca', '/work/app/ca.pem'],
    ['postgres://u@db.example/app?sslrootcert=/etc/ssl/ca.pem', 'verify-ca', '/etc/ssl/ca.pem'],
    ['postgres://u@db.example/app?sslmode=verify-ca&sslrootcert=ca.pem', 'verify-ca', '/work/app/ca.pem'],
    ['postgres://u@db.example/app?sslmode=verify-full', 'verify-full', undefined],
    ['postgres://u@10.0.0.5/app?sslmode=verify-full&sslrootcert=ca.pem', 'verify-full', '/work/app/ca.pem'],
    ['mysql://u@db.example/app', 'disable', undefined],
    ['mysql://u@db.example/app?ssl-mode=DISABLED', 'disable', undefined],
    ['mysql://u@db.example/app?ssl-mode=REQUIRED', 'require', undefined],
    ['mysql://u@db.example/app?ssl-mode=REQUIRED&ssl-ca=./ca.pem', 'verify-ca', '/work/app/ca.pem'],
    ['mariadb://u@db.example/app?ssl-mode=VERIFY_CA&ssl-ca=ca.pem', 'verify-ca', '/work/app/ca.pem'],
    ['mysql://u@db.example/app?ssl-mode=VERIFY_IDENTITY', 'verify-full', undefined],
  ]
  for (const [url, mode, caFile] of table) {
    it(`${url} -> ${mode}${caFile ? ` with ${caFile}` : ''}`, () => {
      expect(tlsOf(url)).to.deep.equal({ mode, caFile })
    })
  }

  it('refuses the modes that fall back to plain text, naming the ones to use', () => {
    for (const url of ['postgres://u@h/app?sslmode=prefer', 'postgres://u@h/app?sslmode=allow', 'mysql://u@h/app?ssl-mode=PREFERRED']) {
      const err = refusal(url)
      expect(err.code, url).to.equal('DB_URL_INVALID')
      expect(err.message).to.contain('fall back to an unencrypted connection')
      expect(err.exit).to.equal(2)
    }
  })

  it("refuses an unknown mode (another client's spelling too) and a CA with TLS off", () => {
    expect(refusal('postgres://u@h/app?sslmode=REQUIRED').message).to.contain('expected one of disable, require, verify-ca, verify-full')
    expect(refusal('mysql://u@h/app?ssl-mode=require').message).to.contain('expected one of DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY')
    expect(refusal('postgres://u@h/app?sslmode=disable&sslrootcert=ca.pem').message).to.contain('turns TLS off')
  })

  it('refuses VERIFY_IDENTITY on MySQL/MariaDB to an address (its driver checks names only)', () => {
    expect(refusal('mysql://u@127.0.0.1/app?ssl-mode=VERIFY_IDENTITY&ssl-ca=ca.pem').message).to.contain('needs a host name')
    expect(refusal('mysql://u@[::1]/app?ssl-mode=VERIFY_IDENTITY').code).to.equal('DB_URL_INVALID')
  })
})

describe('the database check of env check: encryption (unit)', () => {
  const db = (url: string): Database => ({ target: parseDatabaseUrl(url, '/w'), driver: 'pg' }) as unknown as Database
  const tls = { kind: 'tls', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } as const

  it('says whether the connection is encrypted, and whether the certificate was checked', () => {
    expect(databaseOutcome(db('postgres://u@db.example/app'), { kind: 'plain' }, 1, false).message).to.contain('not encrypted')
    expect(databaseOutcome(db('postgres://u@db.example/app?sslmode=require'), tls, 1, false).message).to.contain('TLS (TLSv1.3), certificate not checked')
    expect(databaseOutcome(db('postgres://u@db.example/app?sslmode=verify-full'), tls, 1, false).message).to.contain('certificate checked (verify-full)')
    expect(databaseOutcome(db('sqlite:./x.sqlite3'), { kind: 'local' }, 1, true)).to.include({ status: 'ok' })
  })

  it('warns in a protected environment whose database on another host is not encrypted, with the fix', () => {
    const remote = databaseOutcome(db('postgres://u@db.example/app'), { kind: 'plain' }, 1, true)
    expect(remote).to.include({ status: 'warn' })
    expect(remote.fix).to.contain('sslmode=verify-full')
    expect(databaseOutcome(db('mysql://u@127.0.0.1/app'), { kind: 'plain' }, 1, true)).to.include({ status: 'ok' })
    expect(databaseOutcome(db('mysql://u@db.example/app'), { kind: 'plain' }, 1, false)).to.include({ status: 'ok' })
    expect(databaseOutcome(db('postgres://u@db.example/app?sslmode=require'), tls, 1, true)).to.include({ status: 'ok' })
  })
})
