/**
 * The login file as `gantry login` writes it (the real store in a temp config home), read back without a
 * network call; tokens and keys never reach a message.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { openCredentialsStore } from '../../../src/client/credentials.js'
import type { CredentialsStore } from '../../../src/client/types.js'
import { credentialChecks, serverRow } from '../../../src/doctor/credentials.js'

const NOW = Date.parse('2025-06-01T12:00:00.000Z')
const DAY = 86_400_000
const session = (expiresAt: number) => ({
  kind: 'session' as const,
  email: 'ada@example.com',
  accessToken: 'access-token-do-not-print',
  accessExpiresAt: new Date(expiresAt).toISOString(),
  refreshToken: 'refresh-token-do-not-print',
})

describe('doctor: credentials', () => {
  let home: string
  let store: CredentialsStore
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'gantry-doctor-cred-'))
    store = openCredentialsStore({ env: { XDG_CONFIG_HOME: home }, platform: 'linux' })
  })
  afterEach(() => rmSync(home, { recursive: true, force: true }))

  it('says so when nobody logged in', async () => {
    const found = await credentialChecks(store, { env: {}, now: NOW })
    expect(found.servers).to.deep.equal([])
    expect(found.checks).to.deep.equal([{ id: 'credentials', group: 'credentials', status: 'ok', message: `not logged in to any server (no ${store.path}).` }])
  })

  it('lists each server: who, and whether the access token expired; names overriding variables, not their values', async () => {
    await store.set('https://api.example.com', session(NOW + 10 * 60_000))
    await store.set('http://127.0.0.1:3000', session(NOW - 60_000))
    await store.set('https://ci.example.com', { kind: 'apiKey', apiKey: 'gk_key_do_not_print' })
    const found = await credentialChecks(store, { env: { GANTRY_TOKEN: 'env-token-do-not-print' }, now: NOW })
    expect(found.servers).to.deep.equal(['https://api.example.com', 'http://127.0.0.1:3000', 'https://ci.example.com'])
    expect(found.checks.map((c) => [c.id, c.status])).to.deep.equal([
      ['credentials', 'ok'],
      ['credentials:GANTRY_TOKEN', 'ok'],
      ['credentials:https://api.example.com', 'ok'],
      ['credentials:http://127.0.0.1:3000', 'ok'],
      ['credentials:https://ci.example.com', 'ok'],
    ])
    expect(found.checks[0]!.message).to.equal(`${store.path} is private and holds logins for 3 servers.`)
    expect(found.checks[2]!.message).to.equal(
      'https://api.example.com: logged in as ada@example.com; the access token is valid until 2025-06-01T12:10:00.000Z.',
    )
    expect(found.checks[3]!.message).to.include('the access token expired at 2025-06-01T11:59:00.000Z, the next remote command refreshes it')
    expect(JSON.stringify(found)).not.to.match(/do-not-print|do_not_print/)
  })

  it('warns of a session whose access token expired longer ago than a session lasts by default', () => {
    const row = serverRow('https://api.example.com', session(NOW - 31 * DAY), NOW)
    expect(row).to.include({ status: 'warn', fix: 'Run `gantry login --url https://api.example.com`.' })
    expect(row.message).to.include('the session has most likely ended')
    expect(serverRow('https://x.example', undefined, NOW)).to.include({ status: 'warn' })
  })

  it('warns of a file others can read, with the chmod the store names', async () => {
    await store.set('https://api.example.com', session(NOW + DAY))
    chmodSync(store.path, 0o644)
    const found = await credentialChecks(store, { env: {}, now: NOW })
    expect(found.servers).to.deep.equal([])
    expect(found.checks).to.have.length(1)
    expect(found.checks[0]).to.include({
      id: 'credentials',
      status: 'warn',
      message: `The credentials file ${store.path} is accessible by other users (mode 0644).`,
    })
    expect(found.checks[0]!.fix).to.match(new RegExp(`^Run: chmod 600 ${store.path}`))
  })

  it('warns of a file this CLI cannot read', async () => {
    await store.set('https://api.example.com', session(NOW + DAY))
    writeFileSync(store.path, '{ not json')
    const [row] = (await credentialChecks(store, { env: {}, now: NOW })).checks
    expect(row).to.include({ status: 'warn' })
    expect(row!.fix).to.match(/gantry login/)
  })
})
