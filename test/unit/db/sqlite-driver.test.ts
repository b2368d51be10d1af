import { expect } from 'chai'
import { GantryError } from '../../../src/core/errors.js'
import { hasSecondStatement } from '../../../src/db/sqlite-client.js'
import { chooseSqliteDriver, type DriverLoader, type SqliteDatabaseClass, type SqliteDriverName } from '../../../src/db/sqlite-driver.js'

/** A driver module that opens; records what it opened. */
function working(opened: string[]): SqliteDatabaseClass {
  return class {
    constructor(filename: string) {
      opened.push(filename)
    }
    close(): void {}
  }
}

/** better-sqlite3 after a failed or skipped build: the module loads, the first open cannot find the addon. */
class WithoutAddon {
  constructor() {
    throw new Error('Could not locate the bindings file. Tried: build/Release/better_sqlite3.node')
  }
  close(): void {}
}

/** A loader where `installed` load (as given) and every other name is missing. */
function loader(installed: Partial<Record<SqliteDriverName, SqliteDatabaseClass>>): DriverLoader {
  return (name) => {
    const found = installed[name]
    if (!found) throw new Error(`Cannot find module '${name}'`)
    return found
  }
}

function thrown(work: () => unknown): GantryError {
  try {
    work()
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    return err as GantryError
  }
  throw new Error('expected an error')
}

describe('SQLite driver choice', () => {
  it('takes libsql when both load and none is named, and opens it once to prove its binary loads', () => {
    const opened: string[] = []
    const both = loader({ libsql: working(opened), 'better-sqlite3': working([]) })
    expect(chooseSqliteDriver(undefined, both).name).to.equal('libsql')
    expect(chooseSqliteDriver('', both).name).to.equal('libsql')
    expect(opened).to.deep.equal([':memory:', ':memory:'])
  })

  it('falls back to better-sqlite3 when libsql has no binary for the platform', () => {
    const driver = chooseSqliteDriver(undefined, loader({ 'better-sqlite3': working([]) }))
    expect(driver.name).to.equal('better-sqlite3')
  })

  it('uses the driver GANTRY_SQLITE_DRIVER names, even when another comes first', () => {
    const both = loader({ libsql: working([]), 'better-sqlite3': working([]) })
    expect(chooseSqliteDriver('better-sqlite3', both).name).to.equal('better-sqlite3')
    expect(chooseSqliteDriver(' libsql ', both).name).to.equal('libsql')
  })

  it('counts better-sqlite3 without its compiled addon as not loading', () => {
    expect(chooseSqliteDriver(undefined, loader({ libsql: working([]), 'better-sqlite3': WithoutAddon })).name).to.equal('libsql')
    const err = thrown(() => chooseSqliteDriver(undefined, loader({ 'better-sqlite3': WithoutAddon })))
    expect(err.code).to.equal('DB_UNREACHABLE')
    expect(err.message).to.equal(
      "No SQLite driver loads (libsql: Cannot find module 'libsql'; better-sqlite3: Could not locate the bindings file. Tried: build/Release/better_sqlite3.node).",
    )
    expect(err.hint).to.include('npm ci')
  })

  it('refuses a named driver that does not load, without trying the other', () => {
    const err = thrown(() => chooseSqliteDriver('better-sqlite3', loader({ libsql: working([]) })))
    expect(err.code).to.equal('DB_UNREACHABLE')
    expect(err.message).to.equal("No SQLite driver loads (better-sqlite3: Cannot find module 'better-sqlite3').")
    expect(err.hint).to.equal('Install it (`npm i better-sqlite3`), or unset GANTRY_SQLITE_DRIVER to use the one Gantry installs.')
  })

  it('refuses a name that is no driver', () => {
    const err = thrown(() => chooseSqliteDriver('sqlite3', loader({ libsql: working([]) })))
    expect(err.code).to.equal('INVALID_INPUT')
    expect(err.message).to.equal('GANTRY_SQLITE_DRIVER="sqlite3" is not a SQLite driver: use libsql or better-sqlite3, or leave it unset.')
  })
})

describe('SQLite: one statement per query', () => {
  it('sees a second statement after the first semicolon', () => {
    expect(hasSecondStatement('create table a (x); create table b (y)')).to.equal(true)
    expect(hasSecondStatement('select 1;select 2')).to.equal(true)
    expect(hasSecondStatement('select 1; -- a comment\n insert into t values (1)')).to.equal(true)
  })

  it('lets one statement through, with its trailing semicolons, comments and whitespace', () => {
    for (const sql of ['select 1', 'select 1;', 'BEGIN;', 'select 1; ', 'select 1;;', 'select 1; -- done', 'select 1; /* done */\n']) {
      expect(hasSecondStatement(sql), sql).to.equal(false)
    }
  })

  it('ignores semicolons inside strings, quoted names and comments', () => {
    expect(hasSecondStatement("insert into t values ('a;b', 'it''s; fine')")).to.equal(false)
    expect(hasSecondStatement('select "a;b", `c;d`, [e;f] from t')).to.equal(false)
    expect(hasSecondStatement('select 1 -- not here; select 2\n')).to.equal(false)
    expect(hasSecondStatement('select /* ; select 2 */ 1')).to.equal(false)
    expect(hasSecondStatement("insert into t values ('x;'); drop table t")).to.equal(true)
  })

  it('takes a trigger body, whose statements end in semicolons, as one statement', () => {
    expect(hasSecondStatement('CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1; DELETE FROM c; END;')).to.equal(false)
    expect(hasSecondStatement('create temp trigger t after insert on a begin select 1; end')).to.equal(false)
  })
})
