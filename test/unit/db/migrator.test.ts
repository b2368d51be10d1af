import { expect } from 'chai'
import { checksumOf } from '../../../src/db/migrator/checksum.js'
import { isRead } from '../../../src/db/migrator/clients.js'
import { snakeName, timestamp } from '../../../src/db/migrator/make.js'
import { bareName } from '../../../src/db/migrator/source.js'
import { nameToWrite, type AppliedRow } from '../../../src/db/migrator/tracking.js'

const row = (name: string): AppliedRow => ({ id: 1, name, batch: 1, migration_time: null })

describe('migrator: names, checksums and statements', () => {
  it('checksums ignore CRLF versus LF and see any other edit', () => {
    expect(checksumOf('a\r\nb\r\n')).to.equal(checksumOf('a\nb\n'))
    expect(checksumOf('a\nb\n')).to.not.equal(checksumOf('a\nb \n'))
    expect(checksumOf('')).to.match(/^[0-9a-f]{64}$/)
  })

  it('matches names with or without their extension', () => {
    expect(['x.ts', 'x.js', 'x.cjs', 'x.mjs', 'x'].map(bareName)).to.deep.equal(['x', 'x', 'x', 'x', 'x'])
    expect(bareName('20260101_add.users.js')).to.equal('20260101_add.users')
  })

  it('writes names the way the tracking table already does', () => {
    expect(nameToWrite('gantry', 'a.ts', 'a', [])).to.equal('a')
    expect(nameToWrite('app', 'a.ts', 'a', [])).to.equal('a.ts')
    expect(nameToWrite('app', 'b.js', 'b', [row('a.js')])).to.equal('b.js')
    expect(nameToWrite('app', 'b.js', 'b', [row('a')])).to.equal('b')
  })

  it('makes file names: snake case and a UTC timestamp', () => {
    expect(snakeName('Create Users!')).to.equal('create_users')
    expect(snakeName('addEmailIndex')).to.equal('add_email_index')
    expect(() => snakeName('!!')).to.throw(/no letters or digits/)
    expect(timestamp(new Date('2026-03-04T05:06:07.890Z'))).to.equal('20260304050607')
  })

  it('tells reads (passed through by the dry run) from writes', () => {
    for (const sql of ['select 1', 'SHOW FULL FIELDS FROM x', 'PRAGMA table_info(`x`)', 'pragma foreign_keys', 'with t as (select 1) select * from t'])
      expect(isRead(sql), sql).to.equal(true)
    for (const sql of ['create table x (id int)', 'PRAGMA foreign_keys = OFF', 'insert into x values (1)', 'alter table x add y int'])
      expect(isRead(sql), sql).to.equal(false)
  })
})
