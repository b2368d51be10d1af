/**
 * The dialects' dump tools (issue 23): a dump of every table with its row counts, and a restore that
 * brings back exactly what was dumped, on SQLite, MariaDB and PostgreSQL (the shared services); a dump
 * taken under concurrent writes whose counts agree with its content; a missing program named with its
 * package; credentials that never reach a command line.
 */
import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { GantryError } from '../../../src/core/errors.js'
import { openDatabase, type Database } from '../../../src/db/connect.js'
import { DUMP_FORMATS, dumpTool, tableRowCounts } from '../../../src/db/dump-tools.js'
import { mysqlOptionFile } from '../../../src/db/dump/mysql.js'
import { postgresEnvironment } from '../../../src/db/dump/postgres.js'
import { SqlDumpRowCounter } from '../../../src/db/dump/sql-dump-rows.js'
import { parseDatabaseUrl } from '../../../src/db/url.js'
import { adminKnex, createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'
import type { Dialect } from '../../../src/db/url.js'

const PARENTS = 500
const CHILDREN = 1500

/** Two tables joined by a foreign key, with unicode text, binary values and NULLs: 2,000 rows. */
async function seed(k: Knex): Promise<void> {
  await k.schema.createTable('parents', (t) => {
    t.increments('id')
    t.string('name', 200).notNullable()
    t.binary('data').nullable()
    t.text('note').nullable()
  })
  await k.schema.createTable('children', (t) => {
    t.increments('id')
    t.integer('parent_id').unsigned().notNullable().references('id').inTable('parents')
    t.string('label', 100).nullable()
  })
  const parents = Array.from({ length: PARENTS }, (_, i) => ({
    name: `pärent ${i} ✓ 日本語 🚀 'quote' "dq" \\ back),(slash`,
    data: i % 7 === 0 ? null : Buffer.from([0, 255, i % 256, 10, 13, 39, 92, 0x28, 0x29]),
    note: i % 3 === 0 ? null : `line one\nline two\ttab ${i}`,
  }))
  await k.batchInsert('parents', parents, 100)
  const children = Array.from({ length: CHILDREN }, (_, i) => ({ parent_id: (i % PARENTS) + 1, label: i % 5 === 0 ? null : `child ${i} ü` }))
  await k.batchInsert('children', children, 250)
}

/** A checksum of a table's content, rows ordered by primary key. */
async function checksum(k: Knex, table: string): Promise<string> {
  const rows = (await k(table).select('*').orderBy('id')) as Array<Record<string, unknown>>
  const text = JSON.stringify(rows.map((r) => Object.entries(r).map(([key, v]) => [key, Buffer.isBuffer(v) ? `hex:${v.toString('hex')}` : v])))
  return createHash('sha256').update(text).digest('hex')
}

async function checksums(k: Knex): Promise<Record<string, string>> {
  return { parents: await checksum(k, 'parents'), children: await checksum(k, 'children') }
}

const TOOL: Record<Dialect, RegExp> = { postgres: /^pg_dump \(PostgreSQL\) \d+/, mysql: /^(mariadb-dump|mysqldump) .*Ver /, sqlite: /^VACUUM INTO \(/ }

describe('dump tools (integration)', function () {
  this.timeout(60_000)
  let dir: string
  const dbs: TestDatabase[] = []
  const opened: Database[] = []

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-dump-'))
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()))
  })
  after(async () => {
    await Promise.all(dbs.splice(0).map((db) => db.drop()))
    rmSync(dir, { recursive: true, force: true })
  })

  const fresh = async (dialect: Dialect): Promise<TestDatabase> => {
    const db = await createTestDatabase(dialect)
    dbs.push(db)
    return db
  }
  const open = async (url: string): Promise<Database> => {
    const db = await openDatabase(url, dir)
    opened.push(db)
    return db
  }
  const file = (name: string): string => join(dir, `${name}-${randomBytes(4).toString('hex')}`)

  /**
   * The URL of a user with a password full of what an option file or a shell would misread, on the
   * MariaDB test database (root has none here): the option file must carry it intact.
   */
  async function mysqlUserUrl(testDb: TestDatabase): Promise<string> {
    const user = `gd_${randomBytes(4).toString('hex')}`
    const password = `p#a"s's\\w ;x=${randomBytes(3).toString('hex')}`
    const name = new URL(testDb.url).pathname.slice(1)
    const admin = adminKnex('mysql')
    try {
      await admin.raw(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password])
      await admin.raw(`GRANT ALL ON \`${name}\`.* TO ?@'%'`, [user])
    } finally {
      await admin.destroy()
    }
    const url = new URL(testDb.url)
    url.username = user
    url.password = encodeURIComponent(password)
    dbs.push({
      dialect: 'mysql',
      url: '',
      async drop() {
        const k = adminKnex('mysql')
        await k.raw(`DROP USER IF EXISTS ?@'%'`, [user]).finally(() => k.destroy())
      },
    })
    return url.toString()
  }

  for (const dialect of DIALECTS) {
    describe(dialect, () => {
      beforeEach(async function () {
        await requireDialect(this, dialect)
      })

      it('dumps every table with its row counts, and a restore brings the content back exactly', async () => {
        const testDb = await fresh(dialect)
        const url = dialect === 'mysql' ? await mysqlUserUrl(testDb) : testDb.url
        const db = await open(url)
        await seed(db.knex)
        const before = await checksums(db.knex)
        const tool = dumpTool(db)
        const out = file(`${dialect}.dump`)

        const result = await tool.dump(out)
        expect(result.rowCounts).to.deep.equal({ parents: PARENTS, children: CHILDREN })
        expect(result.tool).to.match(TOOL[dialect])
        expect(result.serverVersion).to.be.a('string').and.not.equal('')
        expect(result.format).to.equal(DUMP_FORMATS[dialect])
        expect(statSync(out).mode & 0o777).to.equal(0o600)
        // Only the run's own option file ever held the password, and it is gone.
        if (dialect === 'mysql') expect(readFileSync(out, 'utf8')).to.not.include(decodeURIComponent(new URL(url).password))

        // Wreck it: a table dropped, rows changed and added, a table the dump lacks.
        await db.knex.schema.dropTable('children')
        await db.knex('parents').where('id', '<', 50).update({ name: 'changed', data: null })
        await db.knex('parents').insert({ name: 'extra' })
        await db.knex.schema.createTable('unrelated', (t) => t.increments('id'))

        await tool.restore(out, result.format)
        expect(await checksums(db.knex)).to.deep.equal(before)
        // The table the dump lacks stays.
        expect(await tableRowCounts(db)).to.deep.equal({ ...result.rowCounts, unrelated: 0 })
        // The restored sequences go on from where they were, and the foreign key holds.
        const [id] = await db.knex('parents').insert({ name: 'next' }, ['id'])
        expect(Number(typeof id === 'object' ? (id as { id: number }).id : id)).to.be.greaterThan(PARENTS)
        let refused = false
        await db
          .knex('children')
          .insert({ parent_id: 999_999 })
          .catch(() => (refused = true))
        expect(refused, 'the foreign key is enforced after the restore').to.equal(true)
      })

      it('counts agree with the dump while the application writes during it; it restores into a fresh database', async function () {
        const source = await fresh(dialect)
        const db = await open(source.url)
        await seed(db.knex)
        const stop = dialect === 'sqlite' ? sqliteWriter(source.url.slice('sqlite:'.length)) : serverWriter(db)
        const parents = async () => Number(((await db.knex('parents').count({ n: '*' })) as Array<{ n: number | string }>)[0]?.n)
        while ((await parents()) < PARENTS + 20) await new Promise((r) => setTimeout(r, 5))
        const out = file(`${dialect}.busy`)
        const result = await dumpTool(db).dump(out)
        await new Promise((r) => setTimeout(r, 50))
        await stop()
        const after = await parents()
        // A pair of children per parent written, in one transaction: one snapshot, whatever its moment.
        expect(result.rowCounts.children! - CHILDREN).to.equal(2 * (result.rowCounts.parents! - PARENTS))
        expect(result.rowCounts.parents).to.be.at.least(PARENTS + 20)
        expect(after, 'the writer went on after the snapshot').to.be.greaterThan(result.rowCounts.parents!)

        const target = await fresh(dialect)
        const restored = await open(target.url)
        await dumpTool(restored).restore(out, result.format)
        expect(await tableRowCounts(restored)).to.deep.equal(result.rowCounts)
        if (this.test) this.test.title += ` (${after - PARENTS} writes, ${result.rowCounts.parents! - PARENTS} in the dump)`
      })
    })
  }

  /** Writes a parent and two children per transaction until stopped. */
  function serverWriter(db: Database): () => Promise<void> {
    let writing = true
    const load = (async () => {
      for (let i = 0; writing; i++) {
        await db.knex.transaction(async (trx) => {
          const [row] = await trx('parents').insert({ name: `w${i}` }, ['id'])
          const id = typeof row === 'object' ? (row as { id: number }).id : row
          await trx('children').insert([{ parent_id: id }, { parent_id: id }])
        })
      }
    })()
    return async () => {
      writing = false
      await load
    }
  }

  /**
   * The same writes from another process (the sqlite3 shell in a loop), as a server beside the CLI would
   * write: in this process SQLite's driver answers synchronously, so nothing could write during VACUUM INTO.
   */
  function sqliteWriter(path: string): () => Promise<void> {
    const sql =
      "begin immediate; insert into parents (name) values ('w'); insert into children (parent_id) select max(id) from parents union all select max(id) from parents; commit;"
    const child = spawn('sh', ['-c', 'while :; do sqlite3 -cmd ".timeout 5000" "$0" "$1" || exit 1; done', path, sql], { stdio: 'ignore' })
    const exited = new Promise((r) => child.once('exit', r))
    return async () => {
      child.kill('SIGTERM')
      await exited
    }
  }

  describe('programs', () => {
    it('a missing program is named with its Debian package, and no dump file is left', async function () {
      for (const [dialect, program, pkg] of [
        ['postgres', 'pg_dump', 'postgresql-client'],
        ['mysql', 'mariadb-dump', 'mariadb-client'],
      ] as const) {
        await requireDialect(this, dialect)
        const db = await open((await fresh(dialect)).url)
        const out = file('missing')
        const err = await dumpTool(db, { programs: { [program]: join(dir, 'nowhere', program) } })
          .dump(out)
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        expect(err).to.be.instanceOf(GantryError)
        const e = err as GantryError
        expect(e.code).to.equal('DUMP_TOOL_MISSING')
        expect(e.message).to.include(program)
        expect(e.hint).to.include(`apt-get install ${pkg}`)
        expect(existsSync(out)).to.equal(false)
      }
    })

    /** A stand-in program that writes its arguments, environment and (MySQL) option file down, then fails. */
    function fakeProgram(name: string, version: string): { path: string; record: string } {
      const record = join(dir, `${name}.record`)
      const path = join(dir, `fake-${name}`)
      writeFileSync(
        path,
        `#!/bin/sh
if [ "$1" = "--version" ]; then echo "${version}"; exit 0; fi
{ echo ARGV; for a in "$@"; do echo "$a"; done; echo ENV; env; } > "${record}"
case "$1" in --defaults-file=*) f="\${1#--defaults-file=}"; { echo FILE; stat -c %a "$f"; cat "$f"; } >> "${record}";; esac
echo "fake failure for password \${PGPASSWORD:-see option file}" >&2
exit 3
`,
      )
      chmodSync(path, 0o755)
      return { path, record }
    }

    it('the password never reaches the command line nor an error message (PostgreSQL: the environment)', async function () {
      await requireDialect(this, 'postgres')
      const password = `s3cret-${randomBytes(4).toString('hex')}`
      const url = new URL((await fresh('postgres')).url)
      url.password = password // the local server trusts 127.0.0.1, so any password connects
      const db = await open(url.toString())
      const fake = fakeProgram('pg_dump', 'pg_dump (PostgreSQL) 99.1')
      const err = (await dumpTool(db, { programs: { pg_dump: fake.path } })
        .dump(file('argv'))
        .catch((e: unknown) => e)) as GantryError
      expect(err.code).to.equal('DUMP_TOOL_FAILED')
      expect(err.message).to.include('fake failure for password ***').and.not.include(password)
      const [argv = '', env = ''] = readFileSync(fake.record, 'utf8').split('\nENV\n')
      expect(argv).to.not.include(password)
      expect(argv).to.match(/--snapshot=\S+/)
      expect(env).to.include(`PGPASSWORD=${password}`)
      expect(env).to.include(`PGDATABASE=${url.pathname.slice(1)}`)
    })

    it('the password never reaches the command line nor an error message (MariaDB: a private option file, first)', async function () {
      await requireDialect(this, 'mysql')
      const url = await mysqlUserUrl(await fresh('mysql'))
      const password = decodeURIComponent(new URL(url).password)
      const db = await open(url)
      const fake = fakeProgram('mariadb-dump', 'mariadb-dump  Ver 10.19 Distrib 10.11.0-MariaDB, for debian-linux-gnu (x86_64)')
      const err = (await dumpTool(db, { programs: { 'mariadb-dump': fake.path } })
        .dump(file('argv'))
        .catch((e: unknown) => e)) as GantryError
      expect(err.code).to.equal('DUMP_TOOL_FAILED')
      expect(err.message).to.not.include(password)
      const record = readFileSync(fake.record, 'utf8')
      const argv = record.slice(0, record.indexOf('\nENV\n'))
      const [, optionFile = ''] = record.split('\nFILE\n')
      expect(argv).to.not.include(password)
      expect(argv.split('\n')[1]).to.match(/^--defaults-file=/)
      expect(optionFile.split('\n')[0]).to.equal('600')
      expect(optionFile).to.include('password=')
      const optionPath = (argv.split('\n')[1] as string).slice('--defaults-file='.length)
      expect(existsSync(optionPath), 'the option file is removed after the run').to.equal(false)
    })

    it("maps the URL's TLS settings onto the tools' own (libpq's environment, the client's option file)", () => {
      const pg = parseDatabaseUrl('postgres://u:pw@db.example:5433/app?sslmode=verify-full&sslrootcert=/etc/ca.pem', '/')
      if (pg.dialect !== 'postgres') throw new Error('postgres expected')
      const env = postgresEnvironment(pg, 15, { PATH: '/usr/bin', PGSERVICE: 'elsewhere', PGOPTIONS: '-c x=y' })
      expect(env).to.include({ PGHOST: 'db.example', PGPORT: '5433', PGUSER: 'u', PGPASSWORD: 'pw', PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/etc/ca.pem' })
      expect(env).to.not.have.any.keys('PGSERVICE', 'PGOPTIONS')
      const required = parseDatabaseUrl('postgres://u@db.example/app?sslmode=require', '/')
      if (required.dialect !== 'postgres') throw new Error('postgres expected')
      expect(postgresEnvironment(required, 15, {}))
        .to.include({ PGSSLMODE: 'require' })
        .and.not.have.key('PGPASSWORD')

      const my = parseDatabaseUrl('mysql://u:pw@db.example/app?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ca.pem', '/')
      if (my.dialect !== 'mysql') throw new Error('mysql expected')
      const mariadb = mysqlOptionFile(my, 'mariadb').split('\n')
      expect(mariadb).to.include.members([
        '[client]',
        'host="db.example"',
        'password="pw"',
        'protocol=TCP',
        'ssl',
        'ssl-ca="/etc/ca.pem"',
        'ssl-verify-server-cert',
      ])
      expect(mysqlOptionFile(my, 'mysql').split('\n')).to.include.members(['ssl-mode=VERIFY_IDENTITY', 'ssl-ca="/etc/ca.pem"'])
      const plain = parseDatabaseUrl('mysql://u@db.example/app', '/')
      if (plain.dialect !== 'mysql') throw new Error('mysql expected')
      expect(mysqlOptionFile(plain, 'mariadb').split('\n')).to.include('skip-ssl').and.not.include('password=""')
    })

    it('refuses an in-memory SQLite database and a path with a NUL', async () => {
      const db = await open('sqlite::memory:')
      const memory = (await dumpTool(db)
        .dump(file('memory'))
        .catch((e: unknown) => e)) as GantryError
      expect(memory.code).to.equal('INVALID_INPUT')
      expect(memory.message).to.include('in-memory')
      const nul = (await dumpTool(db)
        .dump(`${dir}/a\0b`)
        .catch((e: unknown) => e)) as GantryError
      expect(nul.code).to.equal('INVALID_INPUT')
    })
  })

  describe('row counts read from a mysqldump script', () => {
    const script = [
      '/*M!999999\\- enable the sandbox mode */ ',
      'DROP TABLE IF EXISTS `a``b`;',
      'CREATE TABLE `a``b` (',
      '  `id` int(11) NOT NULL',
      ') ENGINE=InnoDB;',
      'CREATE TABLE `empty` (',
      '  `id` int(11) NOT NULL',
      ');',
      'LOCK TABLES `a``b` WRITE;',
      "INSERT INTO `a``b` VALUES (1,'x),(y',0x2829),(2,'it\\'s \\\\',NULL),(3,'(',''),(4,'\\\\'),(5,')');",
      'INSERT INTO `a``b` VALUES',
      "(6,'line\\nbreak'),",
      '(7,NULL);',
      "INSERT INTO `a``b` (`id`, `v`) VALUES (8,b'101');",
      'UNLOCK TABLES;',
      'DELIMITER ;;',
      '/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON `a``b` FOR EACH ROW',
      'INSERT INTO `a``b` VALUES (1),(2) */;;',
      'DELIMITER ;',
      '',
    ].join('\n')

    it('counts tuples whatever their strings hold, and skips routine bodies, in chunks of any size', () => {
      for (const size of [1, 2, 7, 64, 1 << 20]) {
        const counter = new SqlDumpRowCounter()
        const bytes = Buffer.from(script)
        for (let i = 0; i < bytes.length; i += size) counter.write(bytes.subarray(i, i + size))
        expect(counter.end(), `chunks of ${size}`).to.deep.equal({ 'a`b': 8, empty: 0 })
      }
    })

    it('a dump cut inside its rows is an error, not a smaller count', () => {
      const counter = new SqlDumpRowCounter()
      counter.write(Buffer.from("CREATE TABLE `t` (\nINSERT INTO `t` VALUES (1,'a"))
      expect(() => counter.end()).to.throw(GantryError, /inside the rows of t/)
    })
  })
})
