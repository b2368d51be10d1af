import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import { expect } from 'chai'
import type { ExportUsersInput } from '../../../src/core/users/export.js'
import type { ImportUsersInput } from '../../../src/core/users/import.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { rejection } from '../../helpers/rejection.js'

/** A bcrypt hash of STRONG at the lowest cost (an import stores it as it is). */
const BCRYPT = bcrypt.hashSync(STRONG, 4)

for (const dialect of DIALECTS) {
  describe(`users import / export on ${dialect}`, function () {
    let f: IdentityFixture
    let dir: string
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await identityFixture(dialect)
      dir = mkdtempSync(join(tmpdir(), 'gantry-import-'))
    })
    afterEach(async () => {
      await f?.cleanup()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const file = (name: string, text: string): string => {
      const path = join(dir, name)
      writeFileSync(path, text)
      return path
    }
    const importFile = (path: string, input: ImportUsersInput, fixture = f) =>
      fixture.services.userImport.importUsers(fixture.ctx, () => createReadStream(path), input)
    const count = async (fixture = f): Promise<number> =>
      Number(((await fixture.db.knex('gantry_users').count({ n: '*' }).first()) as { n: number | string }).n)
    /** How many users.create audit rows there are. */
    const auditedCreations = async (): Promise<number> =>
      Number(((await f.db.knex('gantry_audit_log').where({ action: 'users.create' }).count({ n: '*' }).first()) as { n: number | string }).n)
    const exportText = async (input: ExportUsersInput, fixture = f): Promise<string> => {
      let text = ''
      for await (const chunk of fixture.services.userExport.exportUsers(fixture.ctx, input)) text += chunk
      return text
    }

    // 100,000 rows on every dialect (about 10 s on MariaDB, less elsewhere): batches of 1000 in one INSERT each.
    it('imports 100,000 CSV rows without passwords, 1% bad of six kinds, reporting exactly those lines', async function () {
      this.timeout(180_000)
      const ROWS = 100_000
      const now = f.clock.now()
      await f.db.knex.batchInsert(
        'gantry_users',
        Array.from({ length: 1000 }, (_, i) => ({
          email: `existing-${i}@example.com`,
          name: '',
          role: 'viewer',
          status: 'active',
          password_hash: null,
          created_at: now,
          updated_at: now,
        })),
        250,
      )
      const lines = ['email,name,role,password_hash']
      const bad = new Map<number, RegExp>()
      const kinds: Array<[(i: number) => string, RegExp]> = [
        [(i) => `not-an-email-${i},Bad ${i},viewer,`, /^email: /],
        [(i) => `user${i}@example.com,Bad ${i},no-such-role,`, /^role: no role named "no-such-role"/],
        [(i) => `user${i - 50}@example.com,Dup ${i},viewer,`, /^duplicate: the same email as line \d+/],
        [(i) => `existing-${(i / 100) | 0}@example.com,Old ${i},viewer,`, /^exists: /],
        [(i) => `user${i}@example.com,Bad ${i},viewer,$2b$10$tooshort`, /^password_hash: not an argon2/],
        [(i) => `user${i}@example.com,Bad ${i}`, /^expected 4 fields, found 2$/],
      ]
      for (let i = 0; i < ROWS; i++) {
        const line = i + 2
        if (i % 100 === 50) {
          const [row, reason] = kinds[((i / 100) % kinds.length) | 0] as [(i: number) => string, RegExp]
          lines.push(row(i))
          bad.set(line, reason)
        } else {
          lines.push(`User${i}@Example.com,"User ${i}, the ${i}th",${i % 10 === 0 ? 'operator' : ''},${i % 1000 === 1 ? BCRYPT : ''}`)
        }
      }
      const path = file('users.csv', `${lines.join('\n')}\n`)
      const progress: number[] = []
      const result = await f.services.userImport.importUsers(
        f.ctx,
        () => createReadStream(path),
        { format: 'csv' },
        (p) => progress.push(p.rows),
      )
      expect(result.rows).to.equal(ROWS)
      expect(result.skipped.map((s) => s.line)).to.deep.equal([...bad.keys()])
      for (const s of result.skipped) expect(s.reason, `line ${s.line}`).to.match(bad.get(s.line) as RegExp)
      expect(result.imported).to.equal(ROWS - bad.size)
      expect(await count()).to.equal(1000 + ROWS - bad.size)
      expect(progress.length).to.be.greaterThan(50)
      const sample = await f.services.users.get(f.ctx, 'user10@example.com')
      expect(sample).to.include({ name: 'User 10, the 10th', role: 'operator', status: 'active' })
      expect((await f.services.users.get(f.ctx, 'user11@example.com')).role).to.equal('viewer')
      const audit = await f.services.audit.list(f.ctx, { action: 'users.import' })
      expect(audit.data).to.have.length(1)
      expect(audit.data[0]?.after).to.deep.include({ imported: ROWS - bad.size, skipped: bad.size, rows: ROWS })
      expect(await auditedCreations(), 'one users.create audit row per imported user').to.equal(ROWS - bad.size)
    })

    it('--atomic writes nothing when one row is bad, everything when none is', async () => {
      const good = ['email,name', 'a@example.com,A', 'b@example.com,B']
      const result = await importFile(file('one-bad.csv', [...good, 'c@@example.com,C', 'd@example.com,D'].join('\n')), {
        format: 'csv',
        atomic: true,
        batchSize: 2,
      })
      expect(result).to.deep.include({ imported: 0, atomic: true, rows: 4 })
      expect(result.skipped).to.deep.equal([{ line: 4, email: 'c@@example.com', reason: 'email: not a valid email address' }])
      expect(await count()).to.equal(0)
      expect((await f.services.audit.list(f.ctx, { action: 'users.import' })).data).to.have.length(0)
      expect(await auditedCreations()).to.equal(0)
      const ok = await importFile(file('good.csv', good.join('\n')), { format: 'csv', atomic: true })
      expect(ok).to.deep.include({ imported: 2, skipped: [] })
      expect(await count()).to.equal(2)
      expect(await auditedCreations()).to.equal(2)
    })

    it('--dry-run checks every row (also against existing users) and writes nothing', async () => {
      await f.services.users.create(f.ctx, { email: 'taken@example.com', password: STRONG })
      const path = file(
        'dry.jsonl',
        [
          '{"email":"new@example.com","role":"admin"}',
          '{"email":"TAKEN@example.com"}',
          'not json',
          '[1]',
          '{"email":"x@example.com","status":"gone"}',
          '',
        ].join('\n'),
      )
      const result = await importFile(path, { format: 'jsonl', dryRun: true })
      expect(result).to.deep.include({ rows: 5, imported: 1, dryRun: true })
      expect(result.skipped).to.deep.equal([
        { line: 2, email: 'taken@example.com', reason: 'exists: a user with this email exists already' },
        { line: 3, reason: 'not valid JSON' },
        { line: 4, reason: 'not a JSON object' },
        { line: 5, email: 'x@example.com', reason: result.skipped[3]?.reason },
      ])
      expect(result.skipped[3]?.reason).to.match(/^status: /)
      expect(await count()).to.equal(1)
      expect((await f.services.audit.list(f.ctx, { action: 'users.import' })).data).to.have.length(0)
    })

    it('skipExisting passes over the emails already in (counted, not bad rows), with and without --atomic: how an import resumes', async () => {
      await f.services.users.create(f.ctx, { email: 'taken@example.com', password: STRONG })
      const path = file('resume.csv', ['email,role', 'new1@example.com,viewer', 'TAKEN@example.com,viewer', 'bad,viewer', 'new2@example.com,viewer'].join('\n'))
      const resumed = await importFile(path, { format: 'csv', skipExisting: true })
      expect(resumed).to.deep.include({ rows: 4, imported: 2, existing: 1 })
      expect(resumed.skipped.map((s) => s.line)).to.deep.equal([4])
      expect(await count()).to.equal(3)
      const again = await importFile(path, { format: 'csv', skipExisting: true, atomic: false })
      expect(again).to.deep.include({ imported: 0, existing: 3 })
      const atomic = await importFile(file('atomic.csv', ['email', 'new1@example.com', 'new3@example.com'].join('\n')), {
        format: 'csv',
        atomic: true,
        skipExisting: true,
      })
      expect(atomic).to.deep.include({ imported: 1, existing: 1, skipped: [] })
      const plain = await importFile(path, { format: 'csv' })
      expect(plain).to.deep.include({ imported: 0, existing: 0 })
      expect(plain.skipped.filter((s) => s.reason.startsWith('exists:'))).to.have.length(3)
    })

    it('an imported bcrypt ($2b$, $2y$) or argon2i hash logs in and is re-hashed to argon2id; a row without one cannot log in', async function () {
      this.timeout(30_000)
      const argon2i = '$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$9b3Rv1bH0v+b3dy6Zyf0B0S2kx1vZHIUqzVjG8GSPBs'
      const y = BCRYPT.replace(/^\$2b\$/, '$2y$')
      const path = file('hashes.csv', ['email,password_hash', `b@example.com,${BCRYPT}`, `y@example.com,${y}`, 'none@example.com,'].join('\n'))
      const result = await importFile(path, { format: 'csv' })
      expect(result).to.deep.include({ imported: 3, skipped: [] })
      const stored = async (email: string): Promise<string | null> =>
        ((await f.db.knex('gantry_users').where({ email }).first()) as { password_hash: string | null }).password_hash
      expect(await stored('b@example.com')).to.equal(BCRYPT)
      for (const email of ['b@example.com', 'y@example.com']) {
        expect((await rejection(f.services.users.verifyCredentials(email, 'wrong password 123', f.ctx))).code).to.equal('INVALID_CREDENTIALS')
        expect((await f.services.users.verifyCredentials(email, STRONG, f.ctx)).email).to.equal(email)
        expect(await stored(email)).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
        expect((await f.services.users.verifyCredentials(email, STRONG, f.ctx)).email).to.equal(email)
      }
      expect((await rejection(f.services.users.verifyCredentials('none@example.com', STRONG, f.ctx))).code).to.equal('INVALID_CREDENTIALS')
      // argon2i (another system's parameters): accepted as a format; a real one verifies and is upgraded.
      const { hash } = await import('@node-rs/argon2')
      const real = await hash(STRONG, { algorithm: 1, memoryCost: 4096, timeCost: 3, parallelism: 1 })
      const jsonl = file(
        'argon.jsonl',
        [JSON.stringify({ email: 'i@example.com', password_hash: real }), JSON.stringify({ email: 'j@example.com', password_hash: argon2i })].join('\n'),
      )
      expect(await importFile(jsonl, { format: 'jsonl' })).to.deep.include({ imported: 2, skipped: [] })
      expect((await f.services.users.verifyCredentials('i@example.com', STRONG, f.ctx)).email).to.equal('i@example.com')
      expect(await stored('i@example.com')).to.match(/^\$argon2id\$/)
    })

    it('a plain-text password column or key refuses the whole file before any write', async () => {
      const csv = await rejection(importFile(file('plain.csv', 'email,Password\na@example.com,hunter2hunter2\n'), { format: 'csv' }))
      expect(csv.code).to.equal('IMPORT_INVALID')
      expect(csv.message).to.match(/plain-text "password"/)
      // JSON lines: the key on the last of 2500 lines still refuses before the first batch is written.
      const rows = Array.from({ length: 2500 }, (_, i) =>
        JSON.stringify(i === 2499 ? { email: `u${i}@example.com`, password: 'hunter2hunter2' } : { email: `u${i}@example.com` }),
      )
      const jsonl = await rejection(importFile(file('plain.jsonl', rows.join('\n')), { format: 'jsonl' }))
      expect(jsonl.code).to.equal('IMPORT_INVALID')
      expect(await count()).to.equal(0)
      const unknown = await rejection(importFile(file('unknown.csv', 'email,emial\n'), { format: 'csv' }))
      expect(unknown).to.include({ code: 'IMPORT_INVALID', message: 'The header (line 1): column 2 is not a known column.' })
      expect((await rejection(importFile(file('noemail.csv', 'name\nx\n'), { format: 'csv' }))).code).to.equal('IMPORT_INVALID')
      const broken = await rejection(importFile(file('broken.csv', 'email,name\na@example.com,"open\n'), { format: 'csv' }))
      expect(broken.code).to.equal('IMPORT_INVALID')
      expect(broken.message).to.equal('The file is not valid CSV at line 2 (CSV_QUOTE_NOT_CLOSED).')
      expect((await rejection(importFile(file('ok.csv', 'email\na@example.com\n'), { format: 'csv', defaultRole: 'nope' }))).code).to.equal('ROLE_NOT_FOUND')
    })

    it('keeps the text of a file that is not a user file out of its errors', async () => {
      const secrets = ['API_TOKEN=s3cr3t-token-value\nDB_PASSWORD=another-s3cr3t\n', 's3cr3t"x",email\n', 'email,"s3cr3t"x\n', 'x@example.com\n']
      for (const [i, text] of secrets.entries()) {
        const err = await rejection(importFile(file(`not-users-${i}.csv`, text), { format: 'csv' }))
        expect(err.code, text).to.equal('IMPORT_INVALID')
        expect(`${err.message} ${JSON.stringify(err.details)}`, text).to.not.match(/s3cr3t|API_TOKEN|x@example/)
      }
      const jsonl = await rejection(importFile(file('not-users.jsonl', '{"email":"a@example.com","s3cr3t":1}\n'), { format: 'jsonl' }))
      expect(jsonl).to.include({ code: 'IMPORT_INVALID', message: 'Line 1: column 2 is not a known column.' })
      expect(await count()).to.equal(0)
    })

    it('assigns only roles the actor holds (invariant 1): a row beyond them is skipped, the default role too where a row takes it', async () => {
      await f.services.roles.create(f.ctx, { name: 'helpdesk', permissions: ['users:read'] })
      // May write users and read everything: may hand out viewer (*:read) and helpdesk, not operator or admin.
      const writer = { actor: 'user:7:writer@example.com', permissions: ['users:write', '*:read'] }
      const rows = ['email,role', 'v@example.com,viewer', 'h@example.com,helpdesk', 'o@example.com,operator', 'a@example.com,admin', 'd@example.com,'].join(
        '\n',
      )
      const path = file('roles.csv', rows)
      const as = (input: ImportUsersInput) => f.services.userImport.importUsers(writer, () => createReadStream(path), input)

      const atomic = await as({ format: 'csv', atomic: true })
      expect(atomic).to.deep.include({ imported: 0, rows: 5 })
      expect(await count()).to.equal(0)

      const result = await as({ format: 'csv' })
      expect(result.imported).to.equal(3)
      expect(result.skipped).to.deep.equal([
        {
          line: 4,
          email: 'o@example.com',
          reason: 'forbidden: role operator would carry permissions you do not hold: ratelimits:write, maintenance:write, apikeys:write, sessions:write',
        },
        { line: 5, email: 'a@example.com', reason: 'forbidden: role admin would carry permissions you do not hold: *' },
      ])
      const created = (await f.services.audit.list(f.ctx, { action: 'users.create' })).data
      expect(created.map((e) => [e.actor, (e.after as { email: string }).email, (e.after as { role: string }).role]).sort()).to.deep.equal([
        ['user:7:writer@example.com', 'd@example.com', 'viewer'],
        ['user:7:writer@example.com', 'h@example.com', 'helpdesk'],
        ['user:7:writer@example.com', 'v@example.com', 'viewer'],
      ])
      for (const e of created) expect(e.targetId).to.equal(String((await f.services.users.get(f.ctx, (e.after as { email: string }).email)).id))

      // A default role beyond the actor refuses the rows that take it, not rows that name a role it may give.
      const mixed = file('mixed.csv', 'email,role\nnew@example.com,\nhelp@example.com,helpdesk\n')
      const byDefault = await f.services.userImport.importUsers(writer, () => createReadStream(mixed), { format: 'csv', defaultRole: 'operator' })
      expect(byDefault.imported).to.equal(1)
      expect(byDefault.skipped).to.deep.equal([
        {
          line: 2,
          email: 'new@example.com',
          reason: 'forbidden: role operator would carry permissions you do not hold: ratelimits:write, maintenance:write, apikeys:write, sessions:write',
        },
      ])
      expect(await count()).to.equal(4)
    })

    it('export (CSV and JSON lines, streamed in pages, filtered) round-trips into a fresh database and never carries a hash', async function () {
      this.timeout(60_000)
      await f.services.users.create(f.ctx, { email: 'root@example.com', name: 'Root', role: 'admin', password: STRONG })
      // No line break: a name with a control character is refused at input (src/core/text.ts).
      const tricky = ['Comma, Name', 'Quote "Q" Name', 'Semi; colon', ' padded ', 'Ünïcødé ✓', '=SUM(A1)', '']
      const path = file(
        'seed.csv',
        [
          'email,name,role,status,password_hash',
          ...tricky.map(
            (name, i) =>
              `u${i}@example.com,"${name.replaceAll('"', '""')}",${i % 2 ? 'operator' : 'viewer'},${i === 3 ? 'disabled' : 'active'},${i === 0 ? BCRYPT : ''}`,
          ),
          ...Array.from({ length: 1200 }, (_, i) => `bulk${i}@example.com,Bulk ${i},viewer,active,${BCRYPT}`),
        ].join('\n'),
      )
      expect((await importFile(path, { format: 'csv' })).skipped).to.deep.equal([])
      // Names a spreadsheet would run, and names that look like export's own neutralising quote (JSON lines
      // take them as they are; a CSV import would read the quote as export's).
      const formulas = ['=HYPERLINK("http://x","y")', '+1', '-1', '@SUM(1)', "'=quoted", "''+twice", "'plain", "'"]
      const jsonlSeed = formulas.map((name, i) => JSON.stringify({ email: `f${i}@example.com`, name }))
      expect((await importFile(file('formulas.jsonl', jsonlSeed.join('\n')), { format: 'jsonl' })).skipped).to.deep.equal([])
      const csv = await exportText({ format: 'csv', pageSize: 500 })
      expect(csv).to.include(`,"'=HYPERLINK(""http://x"",""y"")",`).and.include(",'+1,").and.include(",'-1,").and.include(",'@SUM(1),")
      expect(csv).to.include(",'=SUM(A1),").and.include(",''=quoted,").and.include(",'''+twice,").and.include(",'plain,").and.include(",',")
      for (const line of csv.split('\r\n').slice(1)) expect(line.split(',')[2] ?? '', line).to.not.match(/^[=+\-@\t\r]/)
      const jsonl = await exportText({ format: 'jsonl' })
      for (const text of [csv, jsonl]) expect(text).to.not.match(/\$2[aby]\$|\$argon2|password|hash|session_epoch|failed_logins/i)
      expect(csv.split('\r\n')[0]).to.equal('id,email,name,role,status,createdAt,lastLoginAt')
      expect(csv).to.include('"Comma, Name"').and.include('"Quote ""Q"" Name"')
      expect(jsonl.trim().split('\n')).to.have.length(1 + tricky.length + formulas.length + 1200)
      expect((await exportText({ format: 'jsonl', role: 'operator' })).trim().split('\n')).to.have.length(3)
      expect(
        (await exportText({ format: 'jsonl', status: 'disabled' }))
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { email: string }).email),
      ).to.deep.equal(['u3@example.com'])

      const all = async (fixture: IdentityFixture): Promise<string[]> => {
        const users = []
        let cursor: string | undefined
        do {
          const page = await fixture.services.users.list(fixture.ctx, { limit: 500, cursor })
          users.push(...page.data.map((u) => JSON.stringify([u.email, u.name, u.role, u.status])))
          cursor = page.nextCursor ?? undefined
        } while (cursor)
        return users.sort()
      }
      const before = await all(f)
      for (const [format, text] of [
        ['csv', csv],
        ['jsonl', jsonl],
      ] as const) {
        const fresh = await identityFixture(dialect)
        try {
          const result = await importFile(file(`export.${format}`, text), { format }, fresh)
          expect(result, format).to.deep.include({ imported: before.length, skipped: [] })
          expect(await all(fresh), format).to.deep.equal(before)
        } finally {
          await fresh.cleanup()
        }
      }
      expect(readFileSync(join(dir, 'export.csv'), 'utf8')).to.equal(csv)
    })
  })
}
