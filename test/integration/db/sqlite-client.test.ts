import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import knexFactory, { type Knex } from 'knex'
import { missingTable, isUniqueViolation } from '../../../src/core/sql.js'
import { openDatabase } from '../../../src/db/connect.js'
import { describeDatabaseError } from '../../../src/db/errors.js'
import { sqliteClient } from '../../../src/db/sqlite-client.js'
import { chooseSqliteDriver } from '../../../src/db/sqlite-driver.js'
import { parseDatabaseUrl } from '../../../src/db/url.js'

/**
 * libsql through knex's better-sqlite3 client answers as better-sqlite3 does wherever Gantry or a migration
 * relies on it (src/db/sqlite-client.ts); each assertion is better-sqlite3's behaviour.
 */
/** knex prints a failed connection with its stack; the test reads the error itself. */
const quiet = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined }

describe('SQLite client on libsql', () => {
  let dir: string
  const opened: Knex[] = []
  const open = (filename: string, options: Record<string, unknown> = {}): Knex => {
    const k = knexFactory({ client: sqliteClient(chooseSqliteDriver('libsql')), connection: { filename, options }, useNullAsDefault: true, log: quiet })
    opened.push(k)
    return k
  }
  const rejection = async (work: Promise<unknown>): Promise<Error & { code?: string }> =>
    work.then(
      () => expect.fail('expected a rejection'),
      (err: Error) => err,
    )

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-libsql-'))
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((k) => k.destroy()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses a query of two statements instead of running only the first', async () => {
    const k = open(join(dir, 'a.sqlite3'))
    const err = await rejection(k.raw('create table a (x); create table b (y)'))
    expect(err.message).to.include('The supplied SQL string contains more than one statement')
    expect(await k.schema.hasTable('a')).to.equal(false)
    expect(await k.schema.hasTable('b')).to.equal(false)
  })

  it('opens read-only when asked: every write is refused', async () => {
    const file = join(dir, 'ro.sqlite3')
    await open(file).schema.createTable('t', (t) => t.integer('n'))
    const readonly = open(file, { readonly: true })
    expect(await readonly('t').count({ c: '*' })).to.deep.equal([{ c: 0 }])
    const err = await rejection(readonly('t').insert({ n: 1 }))
    expect(err.code).to.equal('SQLITE_READONLY')
  })

  it('returns BLOBs as Buffers', async () => {
    const k = open(join(dir, 'b.sqlite3'))
    await k.schema.createTable('t', (t) => t.binary('b'))
    await k('t').insert({ b: Buffer.from([0, 1, 255]) })
    const [row] = (await k('t').select('b')) as Array<{ b: unknown }>
    expect(Buffer.isBuffer(row?.b)).to.equal(true)
    expect([...(row?.b as Buffer)]).to.deep.equal([0, 1, 255])
  })

  it('waits 5 s for a busy database by default, as better-sqlite3 does (libsql alone would fail at once)', async () => {
    expect(await open(join(dir, 'c.sqlite3')).raw('PRAGMA busy_timeout')).to.deep.equal([{ timeout: 5000 }])
  })

  it('reports a file it cannot open as SQLITE_CANTOPEN, which Gantry names', async () => {
    const filename = join(dir, 'missing', 'deeper', 'x.sqlite3')
    const err = await rejection(open(filename).raw('select 1'))
    expect(err.code).to.equal('SQLITE_CANTOPEN')
    const described = describeDatabaseError(err, parseDatabaseUrl(`sqlite:${filename}`, dir))
    expect([described.code, described.message]).to.deep.equal(['DB_UNREACHABLE', `Cannot open SQLite file ${filename}.`])
  })

  it('gives the error codes Gantry reads: a unique violation, a missing table', async () => {
    const k = open(join(dir, 'd.sqlite3'))
    await k.schema.createTable('t', (t) => t.string('e').unique())
    await k('t').insert({ e: 'x' })
    expect(isUniqueViolation(await rejection(k('t').insert({ e: 'x' })))).to.equal(true)
    expect(missingTable(await rejection(k('nope').select()))).to.equal('nope')
  })

  it('a statement refused as busy leaves the connection able to commit later (libsql keeps it in progress)', async () => {
    const file = join(dir, 'busy.sqlite3')
    const holder = open(file)
    await holder.raw('PRAGMA journal_mode = WAL')
    await holder.schema.createTable('t', (t) => t.integer('n'))
    const other = open(file)
    await other.raw('PRAGMA busy_timeout = 0')
    const held = await holder.transaction()
    await held('t').insert({ n: 1 })
    // The migration lock's probe (a BEGIN IMMEDIATE) and an ordinary write, both refused while the lock is held.
    expect((await rejection(other.raw('BEGIN IMMEDIATE'))).code).to.equal('SQLITE_BUSY')
    // The refused BEGIN kept its connection and what was set on it (the lock turns foreign keys off around a run).
    expect(await other.raw('PRAGMA busy_timeout')).to.deep.equal([{ timeout: 0 }])
    expect((await rejection(other('t').insert({ n: 2 }))).code).to.equal('SQLITE_BUSY')
    await held.commit()
    await other.raw('PRAGMA busy_timeout = 0')
    await other.transaction(async (trx) => {
      await trx('t').insert({ n: 3 })
    })
    expect(await holder('t').orderBy('n').pluck('n')).to.deep.equal([1, 3])
  })

  it('returns 64-bit integers as BigInt when safeIntegers is on', async () => {
    const k = open(join(dir, 'e.sqlite3'), { safeIntegers: true })
    expect(await k.raw('select 9007199254740993 as n')).to.deep.equal([{ n: 9007199254740993n }])
  })
})

describe(`Gantry's SQLite connection (driver ${process.env.GANTRY_SQLITE_DRIVER ?? 'libsql'})`, () => {
  it('sets WAL, foreign keys, a 5 s busy wait, NORMAL sync and a 16 MB cache itself, not leaving them to the driver build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sqlite-'))
    const db = await openDatabase(`sqlite:${join(dir, 'g.sqlite3')}`, dir)
    try {
      const pragma = async (name: string): Promise<unknown> =>
        Object.values(((await db.knex.raw(`PRAGMA ${name}`)) as Array<Record<string, unknown>>)[0] ?? {})[0]
      const settings = { journal_mode: 'wal', foreign_keys: 1, busy_timeout: 5000, synchronous: 1, cache_size: -16000 }
      for (const [name, value] of Object.entries(settings)) expect(await pragma(name), name).to.equal(value)
      expect(db.driver).to.equal(process.env.GANTRY_SQLITE_DRIVER ?? 'libsql')
    } finally {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a transaction holds the write lock from its BEGIN (IMMEDIATE): a read first cannot leave it stale for its write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sqlite-'))
    const url = `sqlite:${join(dir, 'g.sqlite3')}`
    const [db, other] = [await openDatabase(url, dir), await openDatabase(url, dir)]
    try {
      await db.knex.schema.createTable('t', (t) => t.integer('n'))
      await other.knex.raw('PRAGMA busy_timeout = 0')
      await db.knex.transaction(async (trx) => {
        expect(await trx('t').count({ c: '*' })).to.deep.equal([{ c: 0 }])
        // With knex's deferred BEGIN, only a read so far: the other connection would take the lock and commit,
        // and this transaction's write would then fail at once with SQLITE_BUSY_SNAPSHOT.
        const refused = await other
          .knex('t')
          .insert({ n: 2 })
          .then(
            () => undefined,
            (err: { code?: string }) => err.code,
          )
        expect(refused).to.equal('SQLITE_BUSY')
        await trx('t').insert({ n: 1 })
      })
      await other.knex('t').insert({ n: 2 })
      expect(await db.knex('t').orderBy('n').pluck('n')).to.deep.equal([1, 2])
    } finally {
      await Promise.all([db.close(), other.close()])
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('copies a database with VACUUM INTO (libsql has no backup()): the copy holds the rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sqlite-'))
    const db = await openDatabase(`sqlite:${join(dir, 'g.sqlite3')}`, dir)
    const copy = join(dir, 'copy.sqlite3')
    try {
      await db.knex.schema.createTable('t', (t) => t.string('v'))
      await db.knex('t').insert([{ v: 'a' }, { v: 'b' }])
      await db.knex.raw('VACUUM INTO ?', [copy])
      const copied = await openDatabase(`sqlite:${copy}`, dir)
      try {
        expect(await copied.knex('t').orderBy('v').pluck('v')).to.deep.equal(['a', 'b'])
      } finally {
        await copied.close()
      }
    } finally {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
