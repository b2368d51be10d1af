/**
 * How GET /api/v1/admin/users/export streams, over a real listening socket: at the client's pace
 * (backpressure), ended when the client leaves, and cut — never ended cleanly — when the export fails
 * half-way. The faults are injected by wrapping the real export service. HTTP behaviour only, so SQLite.
 */
import { once } from 'node:events'
import { get, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { expect } from 'chai'
import request from 'supertest'
import type { UserExportService } from '../../../src/core/users/export.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'
import { adminFixture, expectProblem, type AdminFixture } from '../../helpers/admin-fixture.js'

const MB = 'x'.repeat(1024 * 1024)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('users export streaming', () => {
  let server: TestServer
  let f: AdminFixture
  let listening: Server
  let real: UserExportService
  before(async () => {
    server = await createTestServer('sqlite')
    f = adminFixture(server)
    real = server.services.userExport
    listening = server.app.listen(0, '127.0.0.1')
    await once(listening, 'listening')
  })
  afterEach(() => {
    ;(server.services as { userExport: UserExportService }).userExport = real
  })
  after(async () => {
    listening?.close()
    await server?.cleanup()
  })

  /** Replaces the export with `pages` (the permission check of the real one still runs first). */
  function inject(pages: (ctx: Parameters<UserExportService['exportUsers']>[0]) => AsyncIterable<string>): void {
    ;(server.services as { userExport: UserExportService }).userExport = {
      exportUsers: (ctx, input, onPage) => {
        real.exportUsers(ctx, input, onPage)
        return pages(ctx)
      },
    }
  }

  async function open(): Promise<IncomingMessage> {
    const { port } = listening.address() as AddressInfo
    const headers = await f.headers('admin')
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: '/api/v1/admin/users/export?format=jsonl', headers }, resolve).on('error', reject),
    )
    return res
  }

  it('reads pages only as fast as the client takes them, and stops when the client leaves', async () => {
    let pulled = 0
    let closed = false
    inject(async function* () {
      try {
        for (;;) {
          pulled++
          yield MB
        }
      } finally {
        closed = true
      }
    })
    const res = await open()
    res.pause()
    await sleep(300)
    const whilePaused = pulled
    await sleep(300)
    expect(pulled, 'pages pulled while the client reads nothing').to.equal(whilePaused).and.be.below(64)
    res.destroy()
    for (let i = 0; i < 50 && !closed; i++) await sleep(10)
    expect(closed, 'the page generator was closed').to.equal(true)
  })

  it('a failure half-way cuts the connection instead of ending a truncated file', async () => {
    inject(async function* () {
      yield '{"email":"first@example.com"}\n'
      await sleep(10)
      throw new Error('the database went away')
    })
    const res = await open()
    expect(res.statusCode).to.equal(200)
    let received = ''
    res.setEncoding('utf8').on('data', (chunk: string) => (received += chunk))
    // The cut surfaces as an 'aborted' error (which events.once would reject with): wait for 'close' alone.
    res.on('error', () => undefined)
    await new Promise((resolve) => res.on('close', resolve))
    expect(res.complete, 'the chunked body was terminated').to.equal(false)
    expect(received).to.equal('{"email":"first@example.com"}\n')
    expect(server.logs.some((l) => l.level === 50 && JSON.stringify(l.err).includes('the database went away'))).to.equal(true)
  })

  it('a failure before the first byte is an ordinary problem answer', async () => {
    inject(async function* () {
      await sleep(1)
      throw new Error('no database at all')
      yield ''
    })
    const res = await request(server.app)
      .get('/api/v1/admin/users/export')
      .query({ format: 'csv' })
      .set(await f.headers('admin'))
    expect(res.status).to.equal(500)
    expectProblem(res, 'INTERNAL')
    expect(res.headers['content-disposition']).to.equal(undefined)
  })
})
