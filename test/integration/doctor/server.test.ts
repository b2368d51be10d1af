/**
 * Server reachability against the real app (SQLite): ready, answering but not ready (no Gantry tables),
 * and a port nothing listens on — each probed the way `gantry doctor` probes (readinessProbe).
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { readinessProbe } from '../../../src/doctor/index.js'
import { serverChecks, serverTargets } from '../../../src/doctor/server.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'

async function listen(server: TestServer): Promise<{ listening: Server; url: string }> {
  const listening = server.app.listen(0, '127.0.0.1')
  await once(listening, 'listening')
  return { listening, url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}` }
}

/** A port that was free a moment ago: connecting to it is refused. */
async function closedUrl(): Promise<string> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return `http://127.0.0.1:${port}`
}

describe('doctor: server reachability against the real server', function () {
  const servers: TestServer[] = []
  const listeners: Server[] = []
  let readyUrl: string
  let unmigratedUrl: string
  before(async () => {
    const ready = await createTestServer('sqlite')
    const unmigrated = await createTestServer('sqlite', { migrated: false })
    servers.push(ready, unmigrated)
    const a = await listen(ready)
    const b = await listen(unmigrated)
    listeners.push(a.listening, b.listening)
    readyUrl = a.url
    unmigratedUrl = b.url
  })
  after(async () => {
    for (const l of listeners) {
      l.closeAllConnections()
      await new Promise((resolve) => l.close(resolve))
    }
    for (const s of servers) await s.cleanup()
  })

  it('GANTRY_URL first, then the logins, each once; a GANTRY_URL that is no URL is a warning of its own', () => {
    const { targets, problems } = serverTargets({ GANTRY_URL: 'HTTP://Example.com:80/' }, ['https://b.example', 'http://example.com'])
    expect([...targets]).to.deep.equal([
      ['http://example.com', 'GANTRY_URL'],
      ['https://b.example', 'login'],
    ])
    expect(problems).to.deep.equal([])
    const bad = serverTargets({ GANTRY_URL: 'ftp://x' }, [])
    expect(bad.targets.size).to.equal(0)
    expect(bad.problems[0]).to.include({ id: 'server:GANTRY_URL', status: 'warn' })
  })

  it('is skipped when there is nothing to probe', async () => {
    expect(await serverChecks(new Map(), readinessProbe)).to.deep.equal([
      { id: 'server', group: 'server', status: 'skipped', message: 'no server to reach: GANTRY_URL is not set and no login is stored.' },
    ])
  })

  it('passes a ready server, warns of one not ready or not answering, with the fix for where its URL came from', async () => {
    const closed = await closedUrl()
    const rows = await serverChecks(
      new Map([
        [readyUrl, 'GANTRY_URL'],
        [unmigratedUrl, 'login'],
        [closed, 'login'],
      ]),
      readinessProbe,
    )
    expect(rows.map((r) => [r.id, r.status])).to.deep.equal([
      [`server:${readyUrl}`, 'ok'],
      [`server:${unmigratedUrl}`, 'warn'],
      [`server:${closed}`, 'warn'],
    ])
    expect(rows[0]!.message).to.match(new RegExp(`^${readyUrl} \\(GANTRY_URL\\) answers: ready \\((pass|warn)\\), Gantry \\S+\\.$`))
    expect(rows[1]!.message).to.include('answers but is not ready')
    expect(rows[1]!.fix).to.equal(`gantry health --url ${unmigratedUrl}`)
    expect(rows[2]!.message).to.include(`${closed} (logged in) does not answer`)
    expect(rows[2]!.fix).to.equal(`Start the server (\`gantry serve\`), or forget this login: \`gantry logout --url ${closed}\`.`)
  })
})
