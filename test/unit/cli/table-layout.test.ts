import { expect } from 'chai'
import stringWidth from 'string-width'
import { layoutTable } from '../../../src/cli/table-layout.js'

const bold = (text: string): string => text

/** Tables shaped like Gantry's widest: `ratelimit list`, `users list`, `env diff`, and wide characters. */
const TABLES: Record<string, { headers: string[]; rows: string[][] }> = {
  'ratelimit list': {
    headers: ['NAME', 'MATCH', 'KEY', 'LIMIT', 'WINDOW', 'BURST', 'COST', 'FAIL', 'PRIORITY', 'SOURCE'],
    rows: [
      ['login-per-client', 'POST /api/v1/auth/login', 'ip', '10', '1m', '10', '1', 'closed', '100', 'built-in'],
      ['search', 'GET /search/*', 'apikey', '5', '1m', '5', '1', 'open', '0', 'gantry.config.json (production)'],
    ],
  },
  'users list': {
    headers: ['ID', 'EMAIL', 'NAME', 'ROLE', 'STATUS', 'CREATED'],
    rows: [
      ['1', 'admin@example.com', 'Ada Admin', 'admin', 'active', '2026-12-04T10:00:00.000Z'],
      ['2', 'a.very.long.address.for.a.viewer@subdomain.example.com', '', 'viewer', 'disabled', '2026-12-04T10:00:01.000Z'],
    ],
  },
  'env diff': {
    headers: ['VARIABLE', 'DIFFERENCE', 'development', 'production'],
    rows: [
      ['DATABASE_URL', 'differs', 'sqlite:./.gantry/development.sqlite3', 'postgres://app:***@db.internal.example.com:5432/app'],
      ['GANTRY_AUTH_SECRET', 'missing in production', '*** (.env.development)', '(unset)'],
    ],
  },
  'wide characters': {
    headers: ['EMAIL', 'NAME'],
    rows: [['jp@example.com', '山田太郎 山田花子 佐藤一郎 鈴木二郎 高橋三郎 田中四郎 伊藤五郎']],
  },
}

describe('cli: table layout', () => {
  it('off a terminal (no width) it is the aligned table, a line per row, whatever its width', () => {
    const { headers, rows } = TABLES['ratelimit list']!
    const lines = layoutTable(headers, rows, { bold })
    expect(lines).to.have.length(3)
    expect(lines[0]).to.match(/^NAME +MATCH +KEY +LIMIT/)
    expect(lines[1]).to.match(/^login-per-client +POST \/api\/v1\/auth\/login +ip +10 /)
  })

  for (const width of [40, 60, 80, 160]) {
    for (const [name, { headers, rows }] of Object.entries(TABLES)) {
      it(`${name} at ${width} columns: no line is wider than the terminal and every cell is there`, () => {
        const lines = layoutTable(headers, rows, { width, bold })
        for (const line of lines) expect(stringWidth(line), line).to.be.at.most(width)
        // Joined without the layout's spaces, each cell's text is found whole (a wrapped one across lines).
        const text = lines.map((l) => l.trim()).join('')
        for (const cell of rows.flat()) expect(text.replaceAll(' ', ''), cell).to.include(cell.replaceAll(' ', ''))
        for (const header of headers) expect(lines.join('\n')).to.include(header)
      })
    }
  }

  it('a table that fits stays a table; one that does not is a record per row, apart by a blank line', () => {
    const { headers, rows } = TABLES['users list']!
    expect(layoutTable(headers, rows, { width: 160, bold })).to.have.length(3)
    const stacked = layoutTable(headers, rows, { width: 60, bold })
    expect(stacked.slice(0, 7)).to.deep.equal([
      'ID       1',
      'EMAIL    admin@example.com',
      'NAME     Ada Admin',
      'ROLE     admin',
      'STATUS   active',
      'CREATED  2026-12-04T10:00:00.000Z',
      '',
    ])
    // A value longer than the room left wraps under itself.
    expect(stacked.slice(8, 11)).to.deep.equal(['EMAIL    a.very.long.address.for.a.viewer@subdomain.example.', '         com', 'NAME'])
  })

  it('only the last column too long: it wraps under itself, the other columns stay a table', () => {
    const lines = layoutTable(['FIELD', 'VALUE'], [['permissions', 'users:read, users:write, apikeys:read, apikeys:write, audit:read']], { width: 50, bold })
    expect(lines).to.deep.equal([
      'FIELD        VALUE',
      'permissions  users:read, users:write,',
      '             apikeys:read, apikeys:write,',
      '             audit:read',
    ])
  })

  it('a coloured cell is never cut inside its escape sequences', () => {
    const red = `\x1b[31m${'x'.repeat(70)}\x1b[39m`
    const lines = layoutTable(['A', 'B'], [['1', red]], { width: 40, bold })
    expect(lines.join('\n')).to.include(red)
  })
})
