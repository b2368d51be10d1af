import { expect } from 'chai'
import { argon2Check, enginesRange, nodeCheck, sqliteDriverCheck } from '../../../src/doctor/toolchain.js'

describe('doctor: toolchain', () => {
  it("passes this Node against Gantry's own engines, and fails one outside them with the fix", () => {
    expect(enginesRange()).to.equal('>=20.19 <21 || >=22')
    expect(nodeCheck()).to.include({ id: 'node', group: 'toolchain', status: 'ok' })
    const old = nodeCheck('18.20.4', '>=20.19 <21 || >=22')
    expect(old).to.include({ status: 'fail', message: 'Node 18.20.4 does not satisfy >=20.19 <21 || >=22.' })
    expect(old.fix).to.match(/nvm install/)
    expect(nodeCheck('21.7.0', '>=20.19 <21 || >=22')).to.include({ status: 'fail' })
    expect(nodeCheck('22.1.0', '>=20.19 <21 || >=22')).to.include({ status: 'ok' })
    expect(nodeCheck('20.0.0', 'not a range')).to.include({ status: 'warn' })
  })

  it('loads the SQLite driver the way opening a sqlite: URL does', () => {
    expect(sqliteDriverCheck(undefined)).to.deep.include({ status: 'ok', message: 'SQLite driver libsql loads (the first that loads).' })
    expect(sqliteDriverCheck('libsql').message).to.include('named by GANTRY_SQLITE_DRIVER')
  })

  it('fails a driver that is not installed or not a driver, with the hint of sqlite-driver.ts', () => {
    // better-sqlite3 is not a dependency of Gantry, so it is not installed here.
    const missing = sqliteDriverCheck('better-sqlite3')
    expect(missing.status).to.equal('fail')
    expect(missing.message).to.match(/^No SQLite driver loads \(better-sqlite3: /)
    expect(missing.fix).to.equal('Install it (`npm i better-sqlite3`), or unset GANTRY_SQLITE_DRIVER to use the one Gantry installs.')
    const unknown = sqliteDriverCheck('sqlite4')
    expect(unknown).to.include({ status: 'fail' })
    expect(unknown.message).to.include('"sqlite4" is not a SQLite driver')
  })

  it('hashes with argon2', async () => {
    expect(await argon2Check()).to.deep.equal({ id: 'argon2', group: 'toolchain', status: 'ok', message: 'argon2 (@node-rs/argon2) loads and hashes.' })
  })
})
