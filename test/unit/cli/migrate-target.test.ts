import { expect } from 'chai'
import { statusSummary } from '../../../src/cli/migrate-output.js'
import { describeMigrateTarget } from '../../../src/cli/migrate-target.js'

describe('the target line of migrate and seed commands', () => {
  const root = '/srv/app'

  it('masks the password of a server URL, and secret query parameters, keeping user, host, port and database', () => {
    expect(describeMigrateTarget('production', 'mysql://app:s3cr%40t@db:3306/shop', root)).to.equal('production → mysql://app:***@db:3306/shop')
    expect(describeMigrateTarget('staging', 'postgres://app:pw@db/shop?sslmode=require&sslpassword=x', root)).to.equal(
      'staging → postgres://app:***@db/shop?sslmode=require&sslpassword=***',
    )
    expect(describeMigrateTarget('development', 'mariadb://root@127.0.0.1:3306/test', root)).to.equal('development → mariadb://root@127.0.0.1:3306/test')
  })

  it('shows a SQLite file by its path from the workspace root, absolute when outside it', () => {
    expect(describeMigrateTarget('development', 'sqlite:./.gantry/dev.sqlite3', root)).to.equal('development → sqlite:./.gantry/dev.sqlite3')
    expect(describeMigrateTarget('development', 'sqlite:/srv/app/data/x.sqlite3', root)).to.equal('development → sqlite:./data/x.sqlite3')
    expect(describeMigrateTarget('development', 'sqlite:/var/lib/x.sqlite3', root)).to.equal('development → sqlite:/var/lib/x.sqlite3')
    expect(describeMigrateTarget('test', 'sqlite::memory:', root)).to.equal('test → sqlite::memory:')
  })

  it('shows a URL it cannot parse masked as it is (opening the database reports what is wrong)', () => {
    expect(describeMigrateTarget('production', 'oracle://app:pw@db/shop', root)).to.equal('production → oracle://app:***@db/shop')
  })
})

describe('the summary line of migrate status', () => {
  const none = { applied: 0, pending: 0, modified: 0, missing: 0, partial: 0, failed: 0 }

  it('always names pending, then each other state there is one of, applied last', () => {
    expect(statusSummary({ ...none, pending: 28, failed: 1, modified: 1, applied: 20 })).to.equal('28 pending, 1 failed, 1 modified, 20 applied.')
    expect(statusSummary({ ...none, applied: 6 })).to.equal('0 pending, 6 applied.')
    expect(statusSummary({ ...none, partial: 1, missing: 2 })).to.equal('0 pending, 1 partial, 2 missing.')
    expect(statusSummary(none)).to.equal('0 pending.')
  })
})
