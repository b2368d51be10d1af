/** TLS options against an https server with a self-signed certificate made for the test (openssl). */
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { z } from 'zod'
import { createApiClient } from '../../../src/client/index.js'
import { GantryError } from '../../../src/core/errors.js'
import { pendingUnlessCi } from '../../helpers/services.js'

describe('HTTP client TLS options', () => {
  let dir: string
  let server: Server
  let url: string
  let hits = 0
  const schema = z.object({ ok: z.boolean() })

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'gantry-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      )
    } catch (err) {
      pendingUnlessCi(this, `openssl unavailable (${(err as Error).message.split('\n')[0]})`)
    }
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      hits++
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => {
    server?.closeAllConnections()
    server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('an untrusted certificate: SERVER_UNREACHABLE naming TLS, not retried, with the way out', async () => {
    hits = 0
    const sleeps: number[] = []
    const api = await createApiClient({ baseUrl: url, sleep: async (ms) => void sleeps.push(ms) })
    const err = await api.request({ method: 'GET', path: '/api/health', schema }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(GantryError)
    expect((err as GantryError).code).to.equal('SERVER_UNREACHABLE')
    expect((err as GantryError).message).to.match(/^Cannot reach https:\/\/127\.0\.0\.1:\d+\/api\/health \(GET\): TLS: self[- ]signed certificate\.$/)
    expect((err as GantryError).hint).to.include('--insecure')
    expect(sleeps).to.deep.equal([])
    expect(hits).to.equal(0)
  })

  it('caFile trusts the certificate beside the system CAs', async () => {
    const api = await createApiClient({ baseUrl: url, caFile: join(dir, 'cert.pem') })
    expect(await api.request({ method: 'GET', path: '/api/health', schema })).to.deep.equal({ ok: true })
  })

  it('insecure skips verification', async () => {
    const api = await createApiClient({ baseUrl: url, insecure: true })
    expect(await api.request({ method: 'GET', path: '/api/health', schema })).to.deep.equal({ ok: true })
  })

  it('a CA file that is missing or holds no certificate is refused at once', async () => {
    writeFileSync(join(dir, 'empty.pem'), 'nothing here')
    for (const [file, pattern] of [
      ['missing.pem', /Cannot read the CA file .*missing\.pem: ENOENT\./],
      ['empty.pem', /holds no PEM certificate/],
    ] as const) {
      const err = await createApiClient({ baseUrl: url, caFile: join(dir, file) }).catch((e: unknown) => e)
      expect((err as GantryError).code).to.equal('INVALID_INPUT')
      expect((err as GantryError).message).to.match(pattern)
    }
  })
})
