/**
 * The credentials file on a real file system: modes (also under umask 000), refusal of what others may
 * read, atomic writes, URL keys, and the cross-process lock (waiting, stale-lock takeover).
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { configDirectory, openCredentialsStore, type StoredCredential } from '../../../src/client/index.js'
import { GantryError } from '../../../src/core/errors.js'

const session = (n: number): StoredCredential => ({
  kind: 'session',
  email: 'a@x',
  accessToken: `at-${n}`,
  accessExpiresAt: new Date(0).toISOString(),
  refreshToken: `rt-${n}`,
})
const mode = (path: string) => statSync(path).mode & 0o777

async function refused(promise: Promise<unknown>): Promise<GantryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).to.be.instanceOf(GantryError)
  return err as GantryError
}

describe('credentials store', () => {
  let root: string
  const storeIn = (lock?: { staleMs?: number; waitMs?: number }) =>
    openCredentialsStore({ env: { XDG_CONFIG_HOME: join(root, 'config') }, platform: 'linux', lock })
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gantry-creds-'))
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it('lives in the platform config directory', () => {
    expect(configDirectory({ env: { XDG_CONFIG_HOME: '/x/cfg' }, platform: 'linux', home: '/home/u' })).to.equal('/x/cfg/gantry')
    expect(configDirectory({ env: { XDG_CONFIG_HOME: 'relative' }, platform: 'linux', home: '/home/u' })).to.equal('/home/u/.config/gantry')
    expect(configDirectory({ env: {}, platform: 'darwin', home: '/Users/u' })).to.equal('/Users/u/Library/Application Support/gantry')
    expect(configDirectory({ env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, platform: 'win32', home: 'C:\\Users\\u' })).to.match(/gantry$/)
  })

  it('creates a 0700 directory and a 0600 file even under umask 000', async () => {
    const previous = process.umask(0)
    try {
      const store = storeIn()
      await store.set('http://h:3000', session(1))
      expect(mode(join(root, 'config', 'gantry'))).to.equal(0o700)
      expect(mode(store.path)).to.equal(0o600)
      await store.set('http://h:3000', session(2))
      expect(mode(store.path)).to.equal(0o600)
      expect(await store.get('http://h:3000')).to.deep.equal(session(2))
    } finally {
      process.umask(previous)
    }
  })

  it('refuses a group-readable file with the exact chmod, and a group-open directory', async () => {
    const store = storeIn()
    await store.set('http://h', session(1))
    chmodSync(store.path, 0o640)
    for (const attempt of [() => store.get('http://h'), () => store.set('http://h', session(2)), () => store.delete('http://h')]) {
      const err = await refused(attempt())
      expect(err.code).to.equal('CREDENTIALS_INSECURE')
      expect(err.exit).to.equal(2)
      expect(err.message).to.equal(`The credentials file ${store.path} is accessible by other users (mode 0640).`)
      expect(err.hint).to.include(`chmod 600 ${store.path}`)
    }
    expect(readFileSync(store.path, 'utf8')).to.include('rt-1')
    chmodSync(store.path, 0o600)
    const dir = join(root, 'config', 'gantry')
    chmodSync(dir, 0o750)
    const err = await refused(store.get('http://h'))
    expect(err.code).to.equal('CREDENTIALS_INSECURE')
    expect(err.hint).to.equal(`Run: chmod 700 ${dir}`)
    chmodSync(dir, 0o700)
    expect(await store.get('http://h')).to.deep.equal(session(1))
  })

  it('keys entries by the normalised URL; delete says whether there was one', async () => {
    const store = storeIn()
    expect(await store.get('http://h')).to.equal(undefined)
    await store.set('HTTP://H.example:80/', { kind: 'apiKey', apiKey: 'gk_x' })
    expect(await store.get('http://h.example')).to.deep.equal({ kind: 'apiKey', apiKey: 'gk_x' })
    expect(Object.keys((JSON.parse(readFileSync(store.path, 'utf8')) as { servers: object }).servers)).to.deep.equal(['http://h.example'])
    expect(await store.delete('http://h.example/')).to.equal(true)
    expect(await store.delete('http://h.example')).to.equal(false)
    expect(await store.get('http://h.example')).to.equal(undefined)
  })

  it('keeps entries it cannot read (a newer CLI wrote them) and refuses a file that is not its own', async () => {
    const store = storeIn()
    await store.set('http://a', session(1))
    const file = JSON.parse(readFileSync(store.path, 'utf8')) as { servers: Record<string, unknown> }
    file.servers['http://b'] = { kind: 'oidc', issuer: 'x' }
    writeFileSync(store.path, JSON.stringify(file))
    expect(await store.get('http://b')).to.equal(undefined)
    await store.set('http://c', session(3))
    expect((JSON.parse(readFileSync(store.path, 'utf8')) as { servers: Record<string, unknown> }).servers['http://b']).to.deep.equal({
      kind: 'oidc',
      issuer: 'x',
    })
    writeFileSync(store.path, '{ half')
    const err = await refused(store.get('http://a'))
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.not.include('rt-')
  })

  it('writes atomically: a reader never sees a partial file, and no temp file is left', async () => {
    const store = storeIn()
    await store.set('http://h', session(0))
    const big = 'x'.repeat(100_000)
    let reads = 0
    let writing = true
    const reader = (async () => {
      while (writing) {
        const text = readFileSync(store.path, 'utf8')
        JSON.parse(text) // throws on a partial file
        reads++
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    for (let i = 1; i <= 15; i++) await store.set(`http://h${i % 3}`, { ...session(i), accessToken: `${big}${i}` } as StoredCredential)
    writing = false
    await reader
    expect(reads).to.be.greaterThan(0)
    expect(readdirSync(join(root, 'config', 'gantry')).sort()).to.deep.equal(['credentials.json'])
  })

  it('serialises writers: concurrent sets all land', async () => {
    const store = storeIn()
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.set(`http://s${i}`, session(i))))
    for (let i = 0; i < 8; i++) expect(await store.get(`http://s${i}`)).to.deep.equal(session(i))
  })

  describe('lock', () => {
    const lockFile = (store: { path: string }) => `${store.path}.lock`
    const deadPid = (): number => {
      const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
      return Number(child.stdout.toString())
    }
    const plant = (store: { path: string }, holder: Record<string, unknown>, ageMs = 0) => {
      mkdirSync(join(root, 'config', 'gantry'), { recursive: true, mode: 0o700 })
      writeFileSync(lockFile(store), JSON.stringify(holder))
      const at = new Date(Date.now() - ageMs)
      utimesSync(lockFile(store), at, at)
    }

    it('takes over a lock whose process is gone', async () => {
      const store = storeIn({ waitMs: 2000 })
      plant(store, { pid: deadPid(), host: hostname(), at: Date.now(), id: 'dead' })
      const started = Date.now()
      expect(await store.withLock(async () => 'ran')).to.equal('ran')
      expect(Date.now() - started).to.be.below(1000)
      expect(() => statSync(lockFile(store))).to.throw()
    })

    it('takes over a lock nobody has touched for longer than the stale time, even of a live process', async () => {
      const store = storeIn({ waitMs: 2000 })
      plant(store, { pid: process.ppid, host: hostname(), at: Date.now() - 60_000, id: 'old' }, 60_000)
      expect(await store.withLock(async () => 'ran')).to.equal('ran')
    })

    it('waits for a live lock, with a bound and a clear error', async () => {
      const store = storeIn({ waitMs: 300 })
      plant(store, { pid: process.ppid, host: hostname(), at: Date.now(), id: 'live' })
      const started = Date.now()
      const err = await refused(store.withLock(async () => 'ran'))
      expect(Date.now() - started).to.be.within(250, 1500)
      expect([err.code, err.exit]).to.deep.equal(['CREDENTIALS_LOCKED', 3])
      expect(err.message).to.match(new RegExp(`^The credentials are locked by process ${process.ppid} on .+ since \\d+ s ago; waited 0 s\\.$`))
      expect(err.hint).to.include(lockFile(store))
      expect(JSON.parse(readFileSync(lockFile(store), 'utf8'))).to.include({ id: 'live' })
    })

    it('a waiter gets the lock as soon as it is released; set inside withLock does not deadlock', async () => {
      const store = storeIn({ waitMs: 3000 })
      const order: string[] = []
      const first = store.withLock(async () => {
        order.push('first in')
        await store.set('http://h', session(1))
        await new Promise((resolve) => setTimeout(resolve, 100))
        order.push('first out')
      })
      await new Promise((resolve) => setTimeout(resolve, 20))
      const second = store.withLock(async () => void order.push('second'))
      await Promise.all([first, second])
      expect(order).to.deep.equal(['first in', 'first out', 'second'])
      expect(() => statSync(lockFile(store))).to.throw()
    })
  })
})
