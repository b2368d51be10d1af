/** Scenarios of the streamed user files: POST /users/import (CSV, JSON lines) and GET /users/export. */
import { expect } from 'chai'
import { local, type Scenario } from '../../helpers/admin-fixture.js'

const CSV = { 'Content-Type': 'text/csv' }
const NDJSON = { 'Content-Type': 'application/x-ndjson' }
const BCRYPT = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'

export const fileScenarios: Scenario[] = [
  {
    name: 'imports a CSV: the bad row reported by line, the others in',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: CSV,
    body: ['email,name,role,password_hash', 'csv-a@example.com,A,operator,', 'not-an-email,B,viewer,', `csv-c@example.com,"C, Jr.",,${BCRYPT}`, ''].join(
      '\r\n',
    ),
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ rows: 3, imported: 2, dryRun: false, atomic: false })
      expect(res.body.skipped).to.have.length(1)
      expect(res.body.skipped[0]).to.include({ line: 3 })
      expect(res.body.skipped[0].reason).to.match(/^email: /)
      expect(await f.server.services.users.get(local, 'csv-c@example.com')).to.include({ name: 'C, Jr.', role: 'viewer' })
      expect((await f.server.services.audit.list(local, { action: 'users.import' })).data[0]?.actor).to.match(/^user:\d+$/)
    },
  },
  {
    name: 'assigns through an import only the roles the caller holds, and audits each user created',
    method: 'post',
    path: '/users/import',
    who: { scopes: ['users:write', '*:read'] },
    headers: CSV,
    body: ['email,role', 'hand-viewer@example.com,viewer', 'hand-admin@example.com,admin', ''].join('\r\n'),
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({
        rows: 2,
        imported: 1,
        skipped: [{ line: 3, email: 'hand-admin@example.com', reason: 'forbidden: role admin would carry permissions you do not hold: *' }],
      })
      expect((await f.server.services.users.list(local, { search: 'hand-' })).data.map((u) => u.email)).to.deep.equal(['hand-viewer@example.com'])
      const created = (await f.server.services.audit.list(local, { action: 'users.create', limit: 500 })).data.filter((e) =>
        (e.after as { email: string }).email.startsWith('hand-'),
      )
      expect(created.map((e) => [e.actor.split(':')[0], (e.after as { email: string; role: string }).role])).to.deep.equal([['apikey', 'viewer']])
    },
  },
  {
    name: 'imports JSON lines (read twice: the password check first) with the format from the Content-Type',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: NDJSON,
    query: { defaultRole: 'operator', batchSize: '1' },
    body: '{"email":"nd-a@example.com"}\n{"email":"nd-b@example.com","status":"disabled"}\nnot json\n',
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ rows: 3, imported: 2, skipped: [{ line: 3, reason: 'not valid JSON' }] })
      expect(await f.server.services.users.get(local, 'nd-b@example.com')).to.include({ role: 'operator', status: 'disabled' })
    },
  },
  {
    name: 'a dry run writes nothing; atomic refuses the whole file for one bad row',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: CSV,
    query: { dryRun: 'true', format: 'csv' },
    body: 'email\r\ndry@example.com\r\n',
    status: 200,
    check: async (res, f) => {
      expect(res.body).to.deep.include({ rows: 1, imported: 1, dryRun: true })
      expect((await f.server.services.users.list(local, { search: 'dry@' })).data).to.have.length(0)
    },
  },
  {
    name: 'atomic: one bad row and nothing is imported',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: CSV,
    query: { atomic: '1' },
    body: 'email\r\natomic@example.com\r\nbad\r\n',
    status: 200,
    check: (res) => expect(res.body).to.deep.include({ rows: 2, imported: 0, atomic: true }),
  },
  {
    name: 'refuses a plain-text password column before writing anything',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: NDJSON,
    body: '{"email":"p1@example.com"}\n{"email":"p2@example.com","password":"hunter2hunter2"}\n',
    status: 400,
    code: 'IMPORT_INVALID',
  },
  {
    name: 'refuses a body of another type',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: { 'Content-Type': 'application/json' },
    body: '[]',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'refuses a format that contradicts the Content-Type',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: CSV,
    query: { format: 'jsonl' },
    body: 'email\r\n',
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'refuses a flag that is not a boolean, and unknown options',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: CSV,
    query: { dryRun: 'perhaps', force: 'true' },
    body: 'email\r\n',
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['dryRun', 'force'],
  },
  {
    name: 'refuses a body over 100 MB by its Content-Length',
    method: 'post',
    path: '/users/import',
    who: 'admin',
    headers: { ...CSV, 'Content-Length': String(100 * 1024 * 1024 + 1) },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'exports CSV, streamed, never a hash, a formula neutralised',
    method: 'get',
    path: '/users/export',
    who: 'admin',
    query: { format: 'csv', pageSize: '2' },
    raw: true,
    setup: async (f) => {
      await f.user('exported')
      await f.server.services.users.create(local, { email: 'formula@example.com', name: '=HYPERLINK(1)', generatePassword: true })
      return {}
    },
    status: 200,
    check: async (res, f) => {
      expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8')
      expect(res.headers['content-disposition']).to.match(/^attachment; filename="?users\.csv"?$/)
      const lines = (res.body as string).split('\r\n')
      expect(lines[0]).to.equal('id,email,name,role,status,createdAt,lastLoginAt')
      const all = await f.server.services.users.list(local, { limit: 500 })
      expect(lines.filter((l) => l !== '')).to.have.length(all.data.length + 1)
      expect(res.body).to.not.match(/\$argon2|\$2b\$|password/i)
      expect(lines.find((l) => l.includes('formula@example.com'))).to.include(",formula@example.com,'=HYPERLINK(1),")
    },
  },
  {
    name: 'exports JSON lines of one role',
    method: 'get',
    path: '/users/export',
    who: 'viewer',
    query: { format: 'jsonl', role: 'admin' },
    raw: true,
    status: 200,
    check: (res) => {
      expect(res.headers['content-type']).to.equal('application/x-ndjson; charset=utf-8')
      const users = (res.body as string)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(users.map((u) => u.email)).to.deep.equal(['admin@example.com'])
      expect(Object.keys(users[0] ?? {})).to.deep.equal(['id', 'email', 'name', 'role', 'status', 'createdAt', 'lastLoginAt'])
    },
  },
  { name: 'refuses an export without a format', method: 'get', path: '/users/export', who: 'admin', status: 400, code: 'INVALID_INPUT', errors: ['format'] },
  {
    name: 'refuses a page size out of range',
    method: 'get',
    path: '/users/export',
    who: 'admin',
    query: { format: 'csv', pageSize: '0' },
    status: 400,
    code: 'INVALID_INPUT',
    errors: ['pageSize'],
  },
]
