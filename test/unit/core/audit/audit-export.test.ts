/** The text of `audit export`: hostile values come out safe in CSV (no formula, no raw control character) and exact in JSON lines. */
import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { auditCsvField, auditExportText, auditPages } from '../../../../src/core/audit/audit-export.js'
import type { AuditEntry, AuditPage } from '../../../../src/core/audit/audit.schema.js'
import { restoreCell } from '../../../../src/core/users/csv-cell.js'

const entry = (fields: Partial<AuditEntry>): AuditEntry => ({
  id: 1,
  at: '2026-01-01T00:00:00.000Z',
  actor: 'local:ops@host',
  action: 'users.update',
  targetType: 'user',
  targetId: '7',
  before: null,
  after: null,
  ip: null,
  ...fields,
})

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = ''
  for await (const chunk of chunks) out += chunk
  return out
}

async function* pagesOf(...pages: AuditEntry[][]): AsyncIterable<AuditEntry[]> {
  yield* pages
}

const HOSTILE = "=cmd|' /C calc'!A0"

describe('audit export text', () => {
  it('writes a header and one CSV record per entry, a formula neutralised and control characters escaped', async () => {
    const csv = await text(
      auditExportText(
        pagesOf([entry({ actor: HOSTILE, targetId: '+1\u001b[31mred\u0007\u202e', after: { name: '@SUM(A1)' } })], [entry({ id: 2, actor: '-x', ip: '\t=1' })]),
        'csv',
      ),
    )
    expect(csv.split('\r\n')[0]).to.equal('id,at,actor,action,targetType,targetId,before,after,ip')
    // eslint-disable-next-line no-control-regex
    expect(csv, 'no raw control character but the line ends').to.not.match(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
    const records = parse(csv, { columns: true }) as Record<string, string>[]
    expect(records).to.have.length(2)
    for (const record of records) for (const cell of Object.values(record)) expect(cell, cell).to.not.match(/^[=+\-@\t\r]/)
    expect(records[0]?.actor).to.equal(`'${HOSTILE}`)
    expect(restoreCell(records[0]?.actor as string)).to.equal(HOSTILE)
    expect(records[0]?.targetId).to.equal("'+1\\u001b[31mred\\u0007\\u202e")
    expect(JSON.parse(records[0]?.after as string)).to.deep.equal({ name: '@SUM(A1)' })
    expect(records[1]).to.include({ actor: "'-x", ip: "'\t=1", before: '' })
  })

  it('writes JSON lines that give back every value exactly, with no character a terminal acts on left raw', async () => {
    const hostile = entry({ actor: HOSTILE, targetId: 'a\u001bb\u009bc\u007f', before: { x: '\u0000', y: 'gnp.exe\u202e' }, after: { z: '\u2066x\u2069' } })
    const lines = (await text(auditExportText(pagesOf([hostile], [], [entry({ id: 2 })]), 'jsonl'))).split('\n')
    expect(lines).to.have.length(3)
    expect(lines[2]).to.equal('')
    expect(JSON.parse(lines[0] as string)).to.deep.equal(hostile)
    // eslint-disable-next-line no-control-regex
    expect(lines[0]).to.not.match(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
    expect(lines[0]).to.include('\\u009b').and.include('\\u202e')
  })

  it('quotes fields RFC 4180 needs quoted', () => {
    expect(auditCsvField('a,b')).to.equal('"a,b"')
    expect(auditCsvField('say "hi"')).to.equal('"say ""hi"""')
    expect(auditCsvField(' pad')).to.equal('" pad"')
    expect(auditCsvField(null)).to.equal('')
    expect(auditCsvField(12)).to.equal('12')
  })

  it('follows nextCursor page after page, the first without one', async () => {
    const asked: Array<string | undefined> = []
    const pages: Record<string, AuditPage> = {
      first: { data: [entry({ id: 1 })], nextCursor: 'c1' },
      c1: { data: [entry({ id: 2 })], nextCursor: 'c2' },
      c2: { data: [], nextCursor: null },
    }
    const ids: number[] = []
    for await (const page of auditPages((cursor) => {
      asked.push(cursor)
      return Promise.resolve(pages[cursor ?? 'first'] as AuditPage)
    }))
      ids.push(...page.map((e) => e.id))
    expect(asked).to.deep.equal([undefined, 'c1', 'c2'])
    expect(ids).to.deep.equal([1, 2])
  })
})
