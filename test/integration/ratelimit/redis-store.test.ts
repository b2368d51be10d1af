import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { expect } from 'chai'
import { Redis, type RedisOptions } from 'ioredis'
import { createMemoryStore, createRateLimiter, createRedisStore, GCRA_LUA, type RateLimitRule, type RateLimitStore } from '../../../src/ratelimit/index.js'
import { findProgram, lookupProgram } from '../../helpers/binaries.js'
import { pendingUnlessCi, requireRedis, SERVICE_URLS } from '../../helpers/services.js'
import { storeSemantics } from '../../helpers/store-suite.js'

/**
 * Fail-fast client options like the runtime's (src/runtime.ts), short of the reconnect strategy; there the
 * client's timeout is only a backstop behind the store's own deadline (redis-store-busy.test.ts).
 */
const clientOptions = { commandTimeout: 100, enableOfflineQueue: false, maxRetriesPerRequest: 0, disconnectTimeout: 100 } as const

/**
 * For tests of the algorithm rather than of failures: a timeout that only bounds a hang. ioredis times a
 * command with a plain timer, so a loaded test process late by 100 ms rejects an answer already there
 * (and a rejected consume admits: a burst test would count one request too many).
 */
const ALGORITHM_ONLY = { commandTimeout: 10_000 } as const

/** A connected client: without an offline queue, a command sent before `ready` fails at once. */
async function connected(url: string, extra: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { ...clientOptions, ...extra, lazyConnect: true })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/** Deletes this run's keys only: the Redis is shared, so never FLUSHALL. */
async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) deleted += await redis.del(...keys)
  } while (cursor !== '0')
  return deleted
}

async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found
}

describe('ratelimit/redis-store (integration)', function () {
  this.timeout(60_000)
  const prefix = `gantry-test:${process.pid}:${randomBytes(4).toString('hex')}:`
  let redis: Redis
  let store: RateLimitStore

  before(async function () {
    await requireRedis(this)
    redis = await connected(SERVICE_URLS.redis, ALGORITHM_ONLY)
    store = createRedisStore({ redis, keyPrefix: prefix })
  })

  after(async () => {
    if (!redis) return
    await deleteKeys(redis, prefix)
    redis.disconnect()
  })

  describe('the store semantics shared with the memory store', function () {
    // Up to 10,000 round trips one after another (50 runs of up to 200 requests): 0.7 s alone, but a CI run
    // of the whole suite on two busy cores once took over a minute. The bound is for a hang, not for speed.
    this.timeout(180_000)
    storeSemantics(() => store, { numRuns: 50, minIntervalUs: 1_000_000 })
  })

  it('gives every key it writes a TTL: a second past the moment the key is idle again', async () => {
    const p = { limit: 1, windowMs: 2500, burst: 3 }
    const first = await store.consume('ttl', p) // time from Redis TIME
    expect(first.allowed).to.equal(true)
    expect(Math.abs(first.nowUs - Date.now() * 1000)).to.be.below(5_000_000) // the shared Redis runs on this host
    const pttl = await redis.pttl(`${prefix}ttl`)
    expect(pttl).to.be.at.most(Math.ceil((first.tat.us - first.nowUs) / 1000) + 1000)
    expect(pttl).to.be.above(3_000)
    // 1 µs busy: rounded up to 1 ms, plus the second; never without an expiry (-1).
    await store.consume('ttl-tiny', { limit: 1000, windowMs: 1, burst: 1 }, 1_000)
    expect(await redis.pttl(`${prefix}ttl-tiny`)).to.be.within(1, 1001)
  })

  it('writes nothing on a refusal', async () => {
    const p = { limit: 1, windowMs: 60_000, burst: 1 }
    expect((await store.consume('refused', p)).allowed).to.equal(true)
    const before = await redis.pttl(`${prefix}refused`)
    const value = await redis.get(`${prefix}refused`)
    const refused = await store.consume('refused', p)
    expect(refused.allowed).to.equal(false)
    expect(String(refused.tat.us)).to.equal(value)
    expect(await redis.get(`${prefix}refused`)).to.equal(value)
    expect(await redis.pttl(`${prefix}refused`)).to.be.at.most(before)
  })

  it('stores a TAT with a remainder as a decimal an earlier version reads as its whole µs, and reads the whole µs one stored', async () => {
    const now = Date.now() * 1000
    const sevenths = { limit: 7, windowMs: 60_000, burst: 1 } // T = 8,571,428 4/7 µs
    const first = await store.consume('format', sevenths, now)
    expect(first.tat).to.deep.equal({ us: now + 8_571_428, frac: 4, per: 7 })
    expect(await redis.get(`${prefix}format`)).to.equal(`${now + 8_571_428}.${'4'.padStart(16, '0')}${'7'.padStart(16, '0')}`)
    // The previous script read a TAT with tonumber(GET): a fresh burst from an unreadable value was the risk.
    expect(await redis.eval(`return string.format('%.0f', tonumber(redis.call('GET', KEYS[1])))`, 1, `${prefix}format`)).to.equal(String(now + 8_571_428))
    // What it stored, whole µs, reads as such: 10 s ahead, so burst 1 is refused until then.
    await redis.set(`${prefix}legacy`, String(now + 10_000_000), 'PX', 60_000)
    const second = { limit: 1, windowMs: 1_000, burst: 1 }
    expect(await store.consume('legacy', second, now)).to.deep.equal({ allowed: false, tat: { us: now + 10_000_000, frac: 0, per: 1 }, nowUs: now })
    expect((await store.consume('legacy', second, now + 10_000_000)).allowed).to.equal(true)
  })

  it('4 limiters over 4 connections admit exactly burst from idle on one key under concurrent calls', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => connected(SERVICE_URLS.redis, ALGORITHM_ONLY)))
    try {
      const rule: RateLimitRule = {
        name: 'shared',
        match: { method: '*', path: '/*' },
        key: 'global',
        limit: 1,
        windowMs: 3_600_000,
        burst: 10,
        mode: 'enforce',
      }
      const limiters = clients.map((client) =>
        createRateLimiter({ rules: [rule], store: createRedisStore({ redis: client, keyPrefix: prefix }), keyPrefix: 'concurrent:' }),
      )
      const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => limiters[i % 4]?.check({ method: 'GET', path: '/', ip: `10.0.0.${i}` })))
      expect(decisions.filter((d) => d?.allowed).length).to.equal(10)
      expect(decisions.filter((d) => d && !d.allowed).length).to.equal(90)
    } finally {
      for (const client of clients) client.disconnect()
    }
  })

  describe('after the cases above', () => {
    it('left no key without a TTL', async () => {
      const keys = await keysOf(redis, prefix)
      expect(keys.length).to.be.above(10)
      // -1 would be a key without a TTL; -2 one that expired between SCAN and PTTL.
      for (const key of keys) expect(await redis.pttl(key), key).to.satisfy((ttl: number) => ttl > 0 || ttl === -2)
    })
  })

  describe('on a Redis of its own', () => {
    let server: ChildProcess | undefined
    let url = ''
    let port = 0

    const startRedis = async (): Promise<void> => {
      server = spawn(findProgram('redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
      probe.on('error', () => undefined)
      for (let i = 0; i < 100; i++) {
        if (
          await probe.connect().then(
            () => true,
            () => false,
          )
        )
          break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(await probe.ping()).to.equal('PONG')
      probe.disconnect()
    }
    const stopRedis = async (): Promise<void> => {
      const child = server
      server = undefined
      if (!child || child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }

    before(async function () {
      // SCRIPT FLUSH and a Redis going away can only be tried on a server nobody else uses.
      const program = lookupProgram('redis-server')
      if (!program || spawnSync(program, ['--version']).status !== 0) {
        pendingUnlessCi(this, program ? `${program} --version fails` : 'no redis-server binary to start a private Redis (Debian package redis-server)')
      }
      port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number }
          probe.close(() => resolve(port))
        })
      })
      url = `redis://127.0.0.1:${port}`
      await startRedis()
    })
    after(stopRedis)

    it('recovers from NOSCRIPT: the script is sent in full once, then by EVALSHA again', async () => {
      const client = await connected(url)
      try {
        const own = createRedisStore({ redis: client })
        const p = { limit: 1, windowMs: 60_000, burst: 2 }
        expect((await own.consume('k', p)).allowed).to.equal(true)
        await client.script('FLUSH')
        const sha = createHash('sha1').update(GCRA_LUA).digest('hex')
        expect(await client.script('EXISTS', sha)).to.deep.equal([0])
        expect((await own.consume('k', p)).allowed).to.equal(true) // NOSCRIPT, then EVAL
        expect(await client.script('EXISTS', sha)).to.deep.equal([1])
        expect((await own.consume('k', p)).allowed).to.equal(false) // EVALSHA again, same state
      } finally {
        client.disconnect()
      }
    })

    it('while Redis is gone each rule follows its onStoreError (open admits, closed refuses, local counts in memory), reported, then returns to Redis by itself', async () => {
      const client = await connected(url, { retryStrategy: () => 50 })
      const errors: string[] = []
      const clock = { now: () => Date.now() }
      const rule = (name: string, onStoreError: 'open' | 'closed' | 'local'): RateLimitRule => ({
        name,
        match: { method: '*', path: '/*' },
        key: 'ip',
        limit: 1,
        windowMs: 3_600_000,
        burst: 1,
        mode: 'enforce',
        onStoreError,
      })
      const limiter = (r: RateLimitRule) =>
        createRateLimiter({
          rules: [r],
          store: createRedisStore({ redis: client }),
          fallback: createMemoryStore({ clock }),
          clock,
          onStoreError: (_err, name) => errors.push(name),
          keyPrefix: `${prefix}down:`,
        })
      const open = limiter(rule('open', 'open'))
      const closed = limiter(rule('closed', 'closed'))
      const local = limiter(rule('local', 'local'))
      const req = { method: 'GET', path: '/', ip: '192.0.2.1' }
      try {
        expect((await open.check(req)).allowed).to.equal(true)
        expect((await open.check(req)).allowed).to.equal(false)
        await stopRedis()
        const started = performance.now()
        for (let i = 0; i < 5; i++) expect(await open.check(req)).to.include({ allowed: true, unavailable: false })
        expect(await closed.check(req)).to.include({ allowed: false, unavailable: true, retryAfterSeconds: 1 })
        expect((await closed.check(req)).headers['Retry-After']).to.equal('1')
        expect((await local.check(req)).allowed).to.equal(true) // memory: burst 1, then refused
        expect(await local.check(req)).to.include({ allowed: false, unavailable: false })
        expect(performance.now() - started).to.be.below(1_000) // no waiting on a dead server
        expect(errors).to.deep.equal(['open', 'open', 'open', 'open', 'open', 'closed', 'closed', 'local', 'local'])
        expect((await open.check(req)).applied).to.deep.equal([{ rule: 'open', allowed: true, shadow: false, storeError: true }])
        await startRedis() // empty: the budget starts over
        const deadline = Date.now() + 10_000
        while (client.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
        const before = errors.length
        expect((await open.check(req)).allowed).to.equal(true)
        expect((await open.check(req)).allowed).to.equal(false) // checked again: Redis is back
        expect(errors).to.have.length(before)
      } finally {
        client.disconnect()
      }
    })
  })
})
